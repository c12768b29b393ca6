/** Worker for embedded.test.ts: opens its own connection, waits for the gate, consumes every id. */
import { parentPort, workerData } from 'node:worker_threads';
import { ManualClock } from '../../src/clock.ts';
import { EmbeddedStore } from '../../src/store/embedded.ts';

const { file, ids, gate } = workerData as { file: string; ids: string[]; gate: Int32Array };
const store = new EmbeddedStore({ file, clock: new ManualClock(), sweepIntervalSeconds: 0 });
const codes = store.collection({ name: 'codes' });
parentPort?.postMessage('ready');
Atomics.wait(gate, 0, 0);
const won: string[] = [];
for (const id of ids) if (await codes.consume(id)) won.push(id);
await store.close();
parentPort?.postMessage(won);
