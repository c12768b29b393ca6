import { randomInt } from 'node:crypto';
import type { Clock } from '../../src/clock.ts';
import {
  type Collection,
  type CollectionSpec,
  type Filter,
  SpaceExhausted,
  type Store,
  type StoredDoc,
  StoreUnavailable,
  UniqueViolation,
} from '../../src/store/spi.ts';
import {
  assertAllocation,
  assertCollectionName,
  assertDoc,
  assertFieldName,
  assertId,
  assertLimit,
  filterEntries,
  incrementOptions,
  isLive,
  type Scalar,
  updateEntries,
} from '../../src/store/validate.ts';

/**
 * An in-memory `Store` test double honouring the SPI semantics (expiry checked on every read,
 * unique constraints, compare-and-set update, consume-once, bounded counters, the adapters'
 * argument checks from src/store/validate.ts, StoreUnavailable once closed). For unit tests only;
 * test/contract/memory.test.ts runs the storage contract against it, as against the real adapters.
 * Documents are deep-copied in and out so a test cannot mutate stored state by accident.
 */
export function createMemoryStore(clock: Clock): Store {
  const collections = new Map<string, MemoryCollection<StoredDoc>>();
  const counters = new Map<string, { value: number; expiresAt?: number }>();
  const spaces = new Map<string, Map<number, string>>();
  const live = (expiresAt: number | undefined) => isLive({ expiresAt }, clock.now());
  const state = { closed: false };
  const open = () => {
    if (state.closed) throw new StoreUnavailable('memory store: closed');
  };

  return {
    kind: 'embedded',
    collection<T extends StoredDoc = StoredDoc>(spec: CollectionSpec): Collection<T> {
      assertCollectionName(spec.name);
      for (const field of spec.indexes ?? []) assertFieldName(field);
      for (const fields of spec.unique ?? []) for (const field of fields) assertFieldName(field);
      let collection = collections.get(spec.name);
      if (!collection) {
        collection = new MemoryCollection(spec, clock, open);
        collections.set(spec.name, collection);
      }
      return collection as unknown as Collection<T>;
    },
    async increment(key, options = {}) {
      open();
      assertId(key);
      const { by, ttlSeconds, limit } = incrementOptions(options);
      let counter = counters.get(key);
      if (!counter || !live(counter.expiresAt)) {
        counter = {
          value: 0,
          ...(ttlSeconds ? { expiresAt: clock.now() + ttlSeconds * 1000 } : {}),
        };
        counters.set(key, counter);
      }
      if (limit !== undefined && counter.value + by > limit) return limit + 1;
      counter.value += by;
      return counter.value;
    },
    async counter(key) {
      open();
      assertId(key);
      const counter = counters.get(key);
      return counter && live(counter.expiresAt) ? counter.value : 0;
    },
    async allocate(space, size, owner) {
      open();
      assertAllocation(space, size, owner);
      let taken = spaces.get(space);
      if (!taken) {
        taken = new Map();
        spaces.set(space, taken);
      }
      if (taken.size >= size) throw new SpaceExhausted(`no free value left in ${space}`);
      for (;;) {
        const value = randomInt(size);
        if (!taken.has(value)) {
          taken.set(value, owner);
          return value;
        }
      }
    },
    unit: (work) => work(),
    async ping() {
      open();
    },
    async sweep() {
      open();
      for (const collection of collections.values()) collection.sweep();
      for (const [key, counter] of counters) if (!live(counter.expiresAt)) counters.delete(key);
    },
    async close() {
      state.closed = true;
    },
  };
}

class MemoryCollection<T extends StoredDoc> implements Collection<T> {
  readonly name: string;
  private readonly docs = new Map<string, T>();
  private readonly unique: string[][];
  private readonly clock: Clock;
  /** Throws StoreUnavailable once the store is closed. */
  private readonly open: () => void;

  constructor(spec: CollectionSpec, clock: Clock, open: () => void) {
    this.name = spec.name;
    this.unique = spec.unique ?? [];
    this.clock = clock;
    this.open = open;
  }

  private isLive(doc: T): boolean {
    return isLive(doc, this.clock.now());
  }

  private liveDoc(id: string): T | undefined {
    this.open();
    assertId(id);
    const doc = this.docs.get(id);
    return doc && this.isLive(doc) ? doc : undefined;
  }

  private checkUnique(doc: T, replacing?: string): void {
    for (const fields of this.unique) {
      if (fields.some((field) => doc[field] === undefined || doc[field] === null)) continue;
      for (const other of this.docs.values()) {
        if (other._id === replacing || !this.isLive(other)) continue;
        if (fields.every((field) => other[field] === doc[field])) throw new UniqueViolation(this.name);
      }
    }
  }

  sweep(): void {
    for (const [id, doc] of this.docs) if (!this.isLive(doc)) this.docs.delete(id);
  }

  async insert(doc: T): Promise<void> {
    assertDoc(doc);
    if (this.liveDoc(doc._id)) throw new UniqueViolation(this.name);
    this.checkUnique(doc, doc._id);
    this.docs.set(doc._id, structuredClone(doc));
  }

  async put(doc: T): Promise<void> {
    this.open();
    assertDoc(doc);
    this.checkUnique(doc, doc._id);
    this.docs.set(doc._id, structuredClone(doc));
  }

  async get(id: string): Promise<T | undefined> {
    const doc = this.liveDoc(id);
    return doc && structuredClone(doc);
  }

  async delete(id: string): Promise<boolean> {
    const found = this.liveDoc(id) !== undefined;
    this.docs.delete(id);
    return found;
  }

  async find(filter: Filter, options: { limit?: number } = {}): Promise<T[]> {
    this.open();
    const entries = filterEntries(filter);
    assertLimit(options.limit);
    const found: T[] = [];
    for (const doc of this.docs.values()) {
      if (options.limit !== undefined && found.length >= options.limit) break;
      if (this.isLive(doc) && matches(doc, entries)) found.push(structuredClone(doc));
    }
    return found;
  }

  async update(id: string, where: Filter, fields: Partial<T>): Promise<T | undefined> {
    const entries = filterEntries(where);
    const changes = updateEntries(fields);
    const doc = this.liveDoc(id);
    if (!doc || !matches(doc, entries)) return undefined;
    const updated = { ...doc, ...structuredClone(Object.fromEntries(changes)) } as T;
    this.checkUnique(updated, id);
    this.docs.set(id, updated);
    return structuredClone(updated);
  }

  async consume(id: string, where: Filter = {}): Promise<T | undefined> {
    const entries = filterEntries(where);
    const doc = this.liveDoc(id);
    if (!doc || doc['consumedAt'] !== undefined || !matches(doc, entries)) return undefined;
    this.docs.set(id, { ...doc, consumedAt: this.clock.now() });
    return structuredClone(doc);
  }

  async deleteMany(filter: Filter): Promise<number> {
    this.open();
    const entries = filterEntries(filter);
    let deleted = 0;
    for (const [id, doc] of this.docs) {
      if (this.isLive(doc) && matches(doc, entries)) {
        this.docs.delete(id);
        deleted++;
      }
    }
    return deleted;
  }
}

function matches(doc: StoredDoc, entries: [string, Scalar][]): boolean {
  return entries.every(([field, value]) => (doc[field] ?? null) === value);
}
