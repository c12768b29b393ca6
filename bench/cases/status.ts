import { systemClock } from '../../src/clock.ts';
import type { TokenStatusEntry } from '../../src/credentials/formats/types.ts';
import { createStatusService } from '../../src/credentials/status/service.ts';
import { openStore } from '../../src/store/index.ts';
import { type BenchCase, benchDeps, PUBLIC_URL, runStandalone } from './jwt-vc.ts';

/**
 * Status lists on the embedded store: random index allocation (one store round trip for the fill
 * counter, one for the unique index), serving a cached signed list, and re-signing a 131,072-entry
 * token list after a change (compress + sign).
 */
async function service() {
  const deps = await benchDeps();
  const store = await openStore({ kind: 'embedded', file: ':memory:' }, systemClock, 0);
  return createStatusService({ store, keys: deps.keys, clock: systemClock, publicUrl: PUBLIC_URL });
}

export const cases: BenchCase[] = [
  {
    name: 'status allocate token index (embedded store)',
    group: 'status',
    async setup() {
      const status = await service();
      let n = 0;
      return () => status.allocateToken(`ledger-${n++}`);
    },
  },
  {
    name: 'status serve cached token list',
    group: 'status',
    async setup() {
      const status = await service();
      const entry = (await status.allocateToken('ledger-0')) as TokenStatusEntry;
      return () => status.resolve(entry.uri);
    },
  },
  {
    name: 'status flip a bit and re-sign the token list',
    group: 'status',
    async setup() {
      const status = await service();
      const entry = (await status.allocateToken('ledger-0')) as TokenStatusEntry;
      const listId = status.listIdOf(entry);
      let value = 0;
      return async () => {
        value ^= 1;
        await status.setStatus(listId, entry.idx, value);
        return status.resolve(entry.uri);
      };
    },
  },
];
export default cases;

if (import.meta.main) await runStandalone(cases);
