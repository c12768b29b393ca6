/**
 * The storage SPI contract (src/store/spi.ts), run against every adapter by the *.test.ts files
 * next to this one. Every test gets a fresh, empty store and a ManualClock.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import {
  type Collection,
  SpaceExhausted,
  type Store,
  type StoredDoc,
  StoreUnavailable,
  UniqueViolation,
} from '../../src/store/spi.ts';

export interface ContractTarget {
  /** Opens a fresh, empty store. `sibling` opens another store instance over the same data. */
  open(
    clock: ManualClock,
  ): Promise<{ store: Store; sibling?: () => Promise<Store>; dispose?: () => Promise<void> }>;
  /** `open` returns a `sibling` opener (two instances over the same data). */
  siblings: boolean;
  /** The server itself deletes expired documents (MongoDB's TTL monitor, which runs every 60 s). */
  serverDeletesExpired: boolean;
  /** How many sequential allocations the uniqueness test makes, in a space of `allocationSize`. */
  allocationCount: number;
  allocationSize: number;
}

interface Code extends StoredDoc {
  clientId?: string;
  userId?: string;
  state?: string;
  n?: number;
  flag?: boolean;
  consumedAt?: number;
}

const START = Date.UTC(2026, 10, 25, 12);

export function defineStoreContract(name: string, target: ContractTarget): void {
  describe(`storage SPI contract: ${name}`, () => {
    let clock: ManualClock;
    let store: Store;
    let sibling: (() => Promise<Store>) | undefined;
    let dispose: (() => Promise<void>) | undefined;
    const opened: Store[] = [];
    let codes: Collection<Code>;

    beforeEach(async () => {
      clock = new ManualClock(START);
      ({ store, sibling, dispose } = await target.open(clock));
      opened.push(store);
      codes = store.collection<Code>({
        name: 'codes',
        indexes: ['clientId', 'userId'],
        unique: [['clientId', 'n']],
      });
    });

    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close().catch(() => {});
      await dispose?.();
    });

    const openSibling = async (): Promise<Store> => {
      if (!sibling) throw new Error('this target has no sibling store');
      const other = await sibling();
      opened.push(other);
      return other;
    };

    describe('documents', () => {
      it('returns what was inserted, replaces on put and forgets after delete', async () => {
        await codes.insert({ _id: 'a', clientId: 'c1', n: 1, nested: { list: [1, 'x', null] } });
        expect(await codes.get('a')).toEqual({
          _id: 'a',
          clientId: 'c1',
          n: 1,
          nested: { list: [1, 'x', null] },
        });
        await codes.put({ _id: 'a', clientId: 'c2' });
        expect(await codes.get('a')).toEqual({ _id: 'a', clientId: 'c2' });
        await codes.put({ _id: 'b', clientId: 'c3' });
        expect(await codes.get('b')).toEqual({ _id: 'b', clientId: 'c3' });
        expect(await codes.delete('a')).toBe(true);
        expect(await codes.delete('a')).toBe(false);
        expect(await codes.get('a')).toBeUndefined();
        expect(await codes.get('missing')).toBeUndefined();
      });

      it('keeps collections apart', async () => {
        const other = store.collection<Code>({ name: 'other' });
        await codes.insert({ _id: 'a', clientId: 'c1' });
        await other.insert({ _id: 'a', clientId: 'c2' });
        expect((await codes.get('a'))?.clientId).toBe('c1');
        expect((await other.get('a'))?.clientId).toBe('c2');
        expect(await other.find({ clientId: 'c1' })).toEqual([]);
      });

      it('refuses a second insert of the same id with UniqueViolation', async () => {
        await codes.insert({ _id: 'a' });
        const error = await codes.insert({ _id: 'a' }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UniqueViolation);
        expect((error as UniqueViolation).collection).toBe('codes');
      });

      it('refuses a duplicate unique field set on insert, put and update, but not a partial one', async () => {
        await codes.insert({ _id: 'a', clientId: 'c1', n: 1 });
        await expect(codes.insert({ _id: 'b', clientId: 'c1', n: 1 })).rejects.toBeInstanceOf(
          UniqueViolation,
        );
        await expect(codes.put({ _id: 'b', clientId: 'c1', n: 1 })).rejects.toBeInstanceOf(UniqueViolation);
        await codes.insert({ _id: 'b', clientId: 'c1', n: 2 });
        await codes.insert({ _id: 'c', clientId: 'c2', n: 1 });
        // Documents lacking a field of the set are not constrained by it.
        await codes.insert({ _id: 'd', clientId: 'c1' });
        await codes.insert({ _id: 'e', clientId: 'c1' });
        await expect(codes.update('b', {}, { n: 1 })).rejects.toBeInstanceOf(UniqueViolation);
        expect((await codes.get('b'))?.n).toBe(2);
        expect(await codes.get('nope')).toBeUndefined();
      });

      it('finds by indexed fields in insertion order, at most limit', async () => {
        for (let i = 0; i < 6; i++)
          await codes.insert({ _id: `d${i}`, clientId: i % 2 ? 'odd' : 'even', n: i });
        expect((await codes.find({ clientId: 'even' })).map((d) => d._id)).toEqual(['d0', 'd2', 'd4']);
        expect((await codes.find({ clientId: 'odd' }, { limit: 2 })).map((d) => d._id)).toEqual(['d1', 'd3']);
        expect((await codes.find({ clientId: 'odd', n: 3 })).map((d) => d._id)).toEqual(['d3']);
        expect(await codes.find({ clientId: 'none' })).toEqual([]);
        expect(await codes.find({}, { limit: 4 })).toHaveLength(4);
      });

      it('matches filter values by type: 1, "1" and true are different; null matches a missing field', async () => {
        await codes.insert({ _id: 'num', state: 'x', v: 1 });
        await codes.insert({ _id: 'str', state: 'x', v: '1' });
        await codes.insert({ _id: 'bool', state: 'x', v: true });
        await codes.insert({ _id: 'none', state: 'x' });
        expect((await codes.find({ v: 1 })).map((d) => d._id)).toEqual(['num']);
        expect((await codes.find({ v: '1' })).map((d) => d._id)).toEqual(['str']);
        expect((await codes.find({ v: true })).map((d) => d._id)).toEqual(['bool']);
        expect((await codes.find({ v: false })).map((d) => d._id)).toEqual([]);
        expect((await codes.find({ v: null })).map((d) => d._id)).toEqual(['none']);
      });

      it('deletes many by filter and counts only live documents', async () => {
        await codes.insert({ _id: 'a', userId: 'u1' });
        await codes.insert({ _id: 'b', userId: 'u1' });
        await codes.insert({ _id: 'c', userId: 'u1', expiresAt: START + 1000 });
        await codes.insert({ _id: 'd', userId: 'u2' });
        clock.advanceSeconds(1);
        expect(await codes.deleteMany({ userId: 'u1' })).toBe(2);
        expect((await codes.find({})).map((d) => d._id)).toEqual(['d']);
      });

      it('rejects filters whose values are objects, and field names that are not identifiers', async () => {
        await codes.insert({ _id: 'a', clientId: 'c1' });
        const injected = { clientId: { $ne: null } } as unknown as Record<string, string>;
        await expect(codes.find(injected)).rejects.toThrow(TypeError);
        await expect(codes.consume('a', injected)).rejects.toThrow(TypeError);
        await expect(codes.update('a', injected, { state: 'x' })).rejects.toThrow(TypeError);
        await expect(codes.deleteMany(injected)).rejects.toThrow(TypeError);
        await expect(codes.find({ 'a.b': 1 })).rejects.toThrow(TypeError);
        await expect(codes.find({ $where: '1' })).rejects.toThrow(TypeError);
        await expect(codes.find({ "x') OR 1=1 --": 1 })).rejects.toThrow(TypeError);
        await expect(codes.update('a', {}, { ['$set' as 'state']: 'x' })).rejects.toThrow(TypeError);
        await expect(codes.get({ $ne: null } as unknown as string)).rejects.toThrow(TypeError);
        expect(() => store.collection({ name: 'Bad-Name' })).toThrow(TypeError);
        // Nothing was consumed or changed by the refused calls.
        expect(await codes.get('a')).toEqual({ _id: 'a', clientId: 'c1' });
      });
    });

    describe('expiry', () => {
      it('hides an expired record from get, find, update, consume, delete before any sweep', async () => {
        await codes.insert({ _id: 'a', clientId: 'c1', expiresAt: START + 10_000 });
        clock.advanceSeconds(9);
        expect((await codes.get('a'))?.expiresAt).toBe(START + 10_000);
        expect(await codes.find({ clientId: 'c1' })).toHaveLength(1);
        clock.advanceSeconds(1);
        expect(await codes.get('a')).toBeUndefined();
        expect(await codes.find({ clientId: 'c1' })).toEqual([]);
        expect(await codes.find({})).toEqual([]);
        expect(await codes.update('a', {}, { state: 'x' })).toBeUndefined();
        expect(await codes.consume('a')).toBeUndefined();
        expect(await codes.delete('a')).toBe(false);
      });

      it('lets the same id and the same unique fields be inserted again once expired', async () => {
        await codes.insert({ _id: 'a', clientId: 'c1', n: 1, expiresAt: START + 1000 });
        await codes.insert({ _id: 'b', clientId: 'c1', n: 2, expiresAt: START + 1000 });
        clock.advanceSeconds(1);
        await codes.insert({ _id: 'a', clientId: 'c9', state: 'new' });
        await codes.insert({ _id: 'c', clientId: 'c1', n: 2 });
        expect(await codes.get('a')).toEqual({ _id: 'a', clientId: 'c9', state: 'new' });
        expect((await codes.find({ clientId: 'c1' })).map((d) => d._id)).toEqual(['c']);
      });

      it('can extend a record with update, which then outlives its first expiry', async () => {
        await codes.insert({ _id: 'a', expiresAt: START + 1000 });
        expect((await codes.update('a', {}, { expiresAt: START + 5000 }))?.expiresAt).toBe(START + 5000);
        clock.advanceSeconds(2);
        expect((await codes.get('a'))?.expiresAt).toBe(START + 5000);
      });

      it('sweep deletes expired records and counters (they stay gone when the clock goes back)', async () => {
        await codes.insert({ _id: 'old', expiresAt: START + 1000 });
        await codes.insert({ _id: 'keep', expiresAt: START + 60_000 });
        await codes.insert({ _id: 'forever' });
        await store.increment('k', { ttlSeconds: 1 });
        clock.advanceSeconds(1);
        await store.sweep();
        clock.set(START);
        expect(await codes.get('old')).toBeUndefined();
        expect(await store.counter('k')).toBe(0);
        expect((await codes.find({})).map((d) => d._id)).toEqual(['keep', 'forever']);
      });

      it.skipIf(!target.serverDeletesExpired)(
        'the server deletes expired records by itself (TTL index)',
        async () => {
          // The manual clock lags real time by an hour, so only the server's own TTL can remove it.
          clock.set(Date.now() - 3_600_000);
          await codes.insert({ _id: 'ttl', expiresAt: Date.now() - 1000 });
          expect(await codes.get('ttl')).toBeDefined();
          const deadline = Date.now() + 125_000;
          while ((await codes.get('ttl')) !== undefined && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 1000));
          }
          expect(await codes.get('ttl')).toBeUndefined();
        },
        130_000,
      );
    });

    describe('consume', () => {
      it('returns the record once, as it was, and marks it consumed', async () => {
        await codes.insert({ _id: 'a', clientId: 'c1', expiresAt: START + 60_000 });
        clock.advanceSeconds(5);
        expect(await codes.consume('a', { clientId: 'other' })).toBeUndefined();
        expect(await codes.consume('a', { clientId: 'c1' })).toEqual({
          _id: 'a',
          clientId: 'c1',
          expiresAt: START + 60_000,
        });
        expect(await codes.consume('a', { clientId: 'c1' })).toBeUndefined();
        expect(await codes.consume('a')).toBeUndefined();
        expect(await codes.get('a')).toEqual({
          _id: 'a',
          clientId: 'c1',
          expiresAt: START + 60_000,
          consumedAt: START + 5000,
        });
        expect(await codes.consume('missing')).toBeUndefined();
      });

      it('gives a record to exactly one of 50 parallel consumers', async () => {
        for (let round = 0; round < 3; round++) {
          await codes.insert({ _id: `r${round}`, clientId: 'c1' });
          const results = await Promise.all(
            Array.from({ length: 50 }, () => codes.consume(`r${round}`, { clientId: 'c1' })),
          );
          expect(results.filter((r) => r !== undefined)).toHaveLength(1);
        }
      });

      // Only where two instances can share data (not `:memory:`).
      it.skipIf(!target.siblings)(
        'gives a record to exactly one of 50 consumers spread over two store instances',
        async () => {
          const other = (await openSibling()).collection<Code>({ name: 'codes' });
          for (let round = 0; round < 3; round++) {
            await codes.insert({ _id: `s${round}`, clientId: 'c1' });
            const results = await Promise.all(
              Array.from({ length: 50 }, (_, i) => (i % 2 ? other : codes).consume(`s${round}`)),
            );
            expect(results.filter((r) => r !== undefined)).toHaveLength(1);
            expect((await other.get(`s${round}`))?.consumedAt).toBe(START);
          }
        },
      );
    });

    describe('compare-and-set update', () => {
      it('updates only when every where entry matches', async () => {
        await codes.insert({ _id: 'a', state: 'pending', n: 1 });
        expect(await codes.update('a', { state: 'done' }, { state: 'again' })).toBeUndefined();
        expect(await codes.update('a', { state: 'pending' }, { state: 'done', extra: { x: [1] } })).toEqual({
          _id: 'a',
          state: 'done',
          n: 1,
          extra: { x: [1] },
        });
        expect(await codes.get('a')).toEqual({ _id: 'a', state: 'done', n: 1, extra: { x: [1] } });
        expect(await codes.update('missing', {}, { state: 'x' })).toBeUndefined();
      });

      it('lets exactly one of 50 parallel compare-and-set updates win', async () => {
        await codes.insert({ _id: 'a', state: 'pending' });
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            codes.update('a', { state: 'pending' }, { state: `won-${i}` }),
          ),
        );
        const winners = results.filter((r) => r !== undefined);
        expect(winners).toHaveLength(1);
        expect((await codes.get('a'))?.state).toBe(winners[0]?.state);
      });
    });

    describe('counters', () => {
      it('increments atomically and reads back', async () => {
        expect(await store.counter('k')).toBe(0);
        expect(await store.increment('k')).toBe(1);
        expect(await store.increment('k', { by: 4 })).toBe(5);
        expect(await store.counter('k')).toBe(5);
        await Promise.all(Array.from({ length: 50 }, () => store.increment('burst')));
        expect(await store.counter('burst')).toBe(50);
      });

      it('never passes the limit: exactly limit of 50 parallel increments succeed', async () => {
        const results = await Promise.all(
          Array.from({ length: 50 }, () => store.increment('limited', { limit: 10, ttlSeconds: 60 })),
        );
        expect(results.filter((r) => r <= 10)).toHaveLength(10);
        expect(results.filter((r) => r === 11)).toHaveLength(40);
        expect(await store.counter('limited')).toBe(10);
        expect(await store.increment('limited', { limit: 10 })).toBe(11);
        expect(await store.increment('big', { by: 11, limit: 10 })).toBe(11);
        expect(await store.counter('big')).toBe(0);
      });

      it('starts a new window once the counter expires (fixed window from creation)', async () => {
        expect(await store.increment('w', { ttlSeconds: 60, limit: 2 })).toBe(1);
        clock.advanceSeconds(30);
        expect(await store.increment('w', { ttlSeconds: 60, limit: 2 })).toBe(2);
        expect(await store.increment('w', { ttlSeconds: 60, limit: 2 })).toBe(3);
        clock.advanceSeconds(30);
        expect(await store.counter('w')).toBe(0);
        expect(await store.increment('w', { ttlSeconds: 60, limit: 2 })).toBe(1);
        clock.advanceSeconds(59);
        expect(await store.counter('w')).toBe(1);
        clock.advanceSeconds(1);
        expect(await store.counter('w')).toBe(0);
      });
    });

    describe('allocate', () => {
      it(`allocates ${target.allocationCount} unique values in a space of ${target.allocationSize}`, async () => {
        const values = new Set<number>();
        for (let i = 0; i < target.allocationCount; i++) {
          const value = await store.allocate('list-1', target.allocationSize, `owner-${i}`);
          expect(value).toBeGreaterThanOrEqual(0);
          expect(value).toBeLessThan(target.allocationSize);
          values.add(value);
        }
        expect(values.size).toBe(target.allocationCount);
      }, 60_000);

      it('never hands the same value to 50 parallel callers', async () => {
        const values = await Promise.all(
          Array.from({ length: 50 }, (_, i) => store.allocate('list-2', 64, `o${i}`)),
        );
        expect(new Set(values).size).toBe(50);
        // Spaces are independent.
        expect(await store.allocate('list-3', 1, 'x')).toBe(0);
      });

      it('allocates every value of a space exactly once in parallel bursts, past random probing and around its end', async () => {
        // Random probing misses more and more often, and the windows of 1,024 values read after it
        // (src/store/allocate.ts) start at a random place, so they wrap around the end of the space
        // (also in the smaller space used on jongodb) and lose races to the other callers of a burst.
        const size = target.allocationCount >= 2000 ? 2100 : 300;
        const values: number[] = [];
        for (let i = 0; i < size; i += 30) {
          const burst = Array.from({ length: Math.min(30, size - i) }, (_, j) =>
            store.allocate('wide', size, `o${i + j}`),
          );
          values.push(...(await Promise.all(burst)));
        }
        expect(new Set(values).size).toBe(size);
        expect(Math.min(...values)).toBe(0);
        expect(Math.max(...values)).toBe(size - 1);
        await expect(store.allocate('wide', size, 'late')).rejects.toBeInstanceOf(SpaceExhausted);
      }, 60_000);

      it('throws SpaceExhausted once every value is taken', async () => {
        const values = await Promise.all(
          Array.from({ length: 16 }, (_, i) => store.allocate('small', 16, `o${i}`)),
        );
        expect([...values].sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => i));
        await expect(store.allocate('small', 16, 'late')).rejects.toBeInstanceOf(SpaceExhausted);
      });
    });

    describe('units of work', () => {
      it('resolves with the work result once its writes are durable, visible to another instance', async () => {
        await codes.insert({ _id: 'spent', clientId: 'c1' });
        const result = await store.unit(async () => {
          await codes.insert({ _id: 'fresh', clientId: 'c1' });
          const won = await codes.consume('spent');
          const again = await codes.consume('spent');
          await store.increment('issued');
          return { won: won?._id, again };
        });
        expect(result).toEqual({ won: 'spent', again: undefined });
        const reader = target.siblings ? await openSibling() : store;
        const readerCodes = reader.collection<Code>({ name: 'codes' });
        expect(await readerCodes.get('fresh')).toMatchObject({ clientId: 'c1' });
        expect(await readerCodes.consume('spent')).toBeUndefined();
        expect(await reader.counter('issued')).toBe(1);
      });

      it('rejects with the work error, after the writes made before it are settled', async () => {
        const failure = new Error('work failed');
        await expect(
          store.unit(async () => {
            await codes.insert({ _id: 'kept', clientId: 'c1' });
            throw failure;
          }),
        ).rejects.toBe(failure);
        // The write made before the error stands (a unit is not a rollback).
        expect(await codes.get('kept')).toMatchObject({ clientId: 'c1' });
      });

      it('still gives a record to exactly one of 50 parallel units', async () => {
        await codes.insert({ _id: 'once' });
        const results = await Promise.all(
          Array.from({ length: 50 }, () =>
            store.unit(async () => (await codes.consume('once')) !== undefined),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });

    describe('availability', () => {
      it('answers ping while open and throws StoreUnavailable once closed', async () => {
        await store.ping();
        await codes.insert({ _id: 'a' });
        await store.close();
        await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailable);
        await expect(codes.get('a')).rejects.toBeInstanceOf(StoreUnavailable);
        await expect(codes.consume('a')).rejects.toBeInstanceOf(StoreUnavailable);
        await expect(store.increment('k')).rejects.toBeInstanceOf(StoreUnavailable);
      });
    });
  });
}
