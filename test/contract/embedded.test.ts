import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { EmbeddedStore } from '../../src/store/embedded.ts';
import { openStore, StoreUnavailable } from '../../src/store/index.ts';
import { defineStoreContract } from './store.contract.ts';

const dirs: string[] = [];
const tempFile = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'store-contract-'));
  dirs.push(dir);
  return join(dir, 'store.db');
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

defineStoreContract('embedded :memory:', {
  open: async (clock) => ({ store: await openStore({ kind: 'embedded', file: ':memory:' }, clock, 0) }),
  siblings: false,
  serverDeletesExpired: false,
  allocationCount: 2000,
  allocationSize: 2048,
});

defineStoreContract('embedded file', {
  open: async (clock) => {
    const file = tempFile();
    return {
      store: await openStore({ kind: 'embedded', file }, clock, 0),
      sibling: () => openStore({ kind: 'embedded', file }, clock, 0),
    };
  },
  siblings: true,
  serverDeletesExpired: false,
  allocationCount: 2000,
  allocationSize: 2048,
});

describe('embedded store specifics', () => {
  it('gives each record to exactly one of four threads racing on the same file', async () => {
    const file = tempFile();
    const setup = new EmbeddedStore({ file, clock: new ManualClock(), sweepIntervalSeconds: 0 });
    const ids = Array.from({ length: 300 }, (_, i) => `code-${i}`);
    const codes = setup.collection({ name: 'codes' });
    for (const id of ids) await codes.insert({ _id: id });
    await setup.close();

    // Each worker has its own connection; they start together and race through the same ids.
    const gate = new Int32Array(new SharedArrayBuffer(4));
    const workers = Array.from(
      { length: 4 },
      () => new Worker(new URL('./consume-worker.ts', import.meta.url), { workerData: { file, ids, gate } }),
    );
    // Each worker posts 'ready' once its connection is open, then the list of ids it won.
    const messages = workers.map((worker) => {
      const ready = new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      const won = ready.then(
        () =>
          new Promise<string[]>((resolve, reject) => {
            worker.once('message', resolve);
            worker.once('error', reject);
          }),
      );
      return { ready, won };
    });
    await Promise.all(messages.map((m) => m.ready));
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    const perWorker = await Promise.all(messages.map((m) => m.won));
    await Promise.all(workers.map((worker) => worker.terminate()));
    const won = perWorker.flat();
    // No id won twice and none lost: the UPDATE ... WHERE consumed_at IS NULL decided every race.
    expect(won.sort()).toEqual([...ids].sort());
  }, 30_000);

  it('sweeps a large backlog of expired records in batches, yielding the event loop between them', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const store = await openStore({ kind: 'embedded', file: ':memory:' }, clock, 0);
    const docs = store.collection({ name: 'docs' });
    const expiring = Array.from({ length: 1234 }, (_, i) =>
      docs.insert({ _id: `old${i}`, expiresAt: clock.now() + 1000 }),
    );
    await Promise.all([
      ...expiring,
      docs.insert({ _id: 'live', expiresAt: clock.now() + 60_000 }),
      ...Array.from({ length: 700 }, (_, i) => store.increment(`c${i}`, { ttlSeconds: 1 })),
    ]);
    clock.advanceSeconds(1);
    let turns = 0;
    let sweeping = true;
    const count = () => {
      turns++;
      if (sweeping) setImmediate(count);
    };
    setImmediate(count);
    await store.sweep();
    sweeping = false;
    // 1,234 + 700 rows at 500 a batch: at least four batches, each committed in its own turn.
    expect(turns).toBeGreaterThanOrEqual(4);
    clock.advanceSeconds(-1);
    expect((await docs.find({})).map((d) => d._id)).toEqual(['live']);
    expect(await store.counter('c0')).toBe(0);
    await store.close();
  });

  it('sweeps periodically on its own timer', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const store = await openStore({ kind: 'embedded', file: ':memory:' }, clock, 0.05);
    const docs = store.collection({ name: 'docs' });
    await docs.insert({ _id: 'a', expiresAt: clock.now() + 1000 });
    clock.advanceSeconds(1);
    await new Promise((resolve) => setTimeout(resolve, 150));
    clock.advanceSeconds(-1);
    expect(await docs.get('a')).toBeUndefined();
    await store.close();
  });

  it('checkpoints the WAL from a worker thread, so the database file grows while commits never checkpoint', async () => {
    const file = tempFile();
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const store = await openStore({ kind: 'embedded', file, checkpointIntervalMs: 20 }, clock, 0);
    const docs = store.collection({ name: 'docs' });
    const payload = 'x'.repeat(2000);
    for (let i = 0; i < 1000; i++) await docs.insert({ _id: `d${i}`, payload });
    // ~2 MB committed into the WAL; the committing connection has automatic checkpoints off, so
    // only the worker can have copied the pages into the database file.
    const deadline = Date.now() + 5000;
    while (statSync(file).size < 1_000_000 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(statSync(file).size).toBeGreaterThan(1_000_000);
    // A commit per insert writes ~4 pages: 4,000 inserts leave a WAL of ~60 MB unless it starts
    // over. Once the worker has copied every frame, the next commit starts it from its beginning
    // and truncates the file to the journal size limit (16 MB).
    for (let i = 1000; i < 5000; i++) await docs.insert({ _id: `d${i}`, payload });
    const wal = () => statSync(`${file}-wal`).size;
    for (let i = 0; wal() > 20_000_000 && Date.now() < deadline + 5000; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      await docs.insert({ _id: `late${i}`, payload });
    }
    expect(wal()).toBeLessThanOrEqual(20_000_000);
    expect(await docs.get('d4999')).toMatchObject({ payload });
    await store.close();
  });

  it('keeps the WAL short under a steady stream of commits, and no commit ever waits for the checkpointer', async () => {
    const file = tempFile();
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    // busy_timeout 0: a commit that met a lock held by the checkpointer (a RESTART checkpoint holds
    // the writer lock while it copies) would fail at once with StoreUnavailable instead of waiting.
    const store = new EmbeddedStore({
      file,
      clock,
      sweepIntervalSeconds: 0,
      checkpointIntervalMs: 10,
      busyTimeoutMs: 0,
    });
    const docs = store.collection({ name: 'docs' });
    const payload = 'x'.repeat(3000);
    const wal = () => statSync(`${file}-wal`).size;
    let walMax = 0;
    // A page per insert, 20 inserts per commit, a commit every millisecond or so: ~20,000 frames,
    // five times the 4,096 after which the WAL must start over (16 MB).
    for (let i = 0; i < 20_000; i += 20) {
      await Promise.all(Array.from({ length: 20 }, (_, j) => docs.insert({ _id: `d${i + j}`, payload })));
      walMax = Math.max(walMax, wal());
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(statSync(file).size).toBeGreaterThan(50_000_000);
    expect(walMax).toBeLessThanOrEqual(24_000_000);
    expect(await docs.get('d19999')).toMatchObject({ payload });
    await store.close();
  });

  it('reports a database file overwritten with garbage as damaged: ping fails (readiness) and so does every operation', async () => {
    const file = tempFile();
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const store = await openStore({ kind: 'embedded', file, checkpointIntervalMs: 20 }, clock, 0);
    const docs = store.collection({ name: 'docs' });
    for (let i = 0; i < 50; i++) await docs.insert({ _id: `d${i}`, payload: 'x'.repeat(1000) });
    await store.ping();
    writeFileSync(file, randomBytes(64 * 1024));
    // SQLite keeps answering from its page cache and the WAL; the file itself is gone.
    await expect(store.ping()).rejects.toThrow(`the database file ${file} is damaged`);
    await expect(docs.get('d1')).rejects.toThrow(StoreUnavailable);
    await expect(docs.insert({ _id: 'late' })).rejects.toThrow(/is damaged/);
    await store.close();
  });

  it('refuses to open a database file that is not one, saying it is damaged and naming it', async () => {
    const file = tempFile();
    writeFileSync(file, randomBytes(64 * 1024));
    await expect(openStore({ kind: 'embedded', file }, new ManualClock(), 0)).rejects.toThrow(
      `the database file ${file} is damaged`,
    );
  });
});
