import { randomInt } from 'node:crypto';
import type { Clock } from '../../src/clock.ts';
import {
  type Collection,
  type CollectionSpec,
  type Filter,
  SpaceExhausted,
  type Store,
  type StoredDoc,
  UniqueViolation,
} from '../../src/store/spi.ts';

/**
 * An in-memory `Store` test double honouring the SPI semantics (expiry checked on every read,
 * unique constraints, compare-and-set update, consume-once, bounded counters). For unit tests
 * only; the real adapters are checked by test/contract. Documents are deep-copied in and out so a
 * test cannot mutate stored state by accident.
 */
export function createMemoryStore(clock: Clock): Store {
  const collections = new Map<string, MemoryCollection<StoredDoc>>();
  const counters = new Map<string, { value: number; expiresAt?: number }>();
  const spaces = new Map<string, Map<number, string>>();
  const live = (expiresAt: number | undefined) => expiresAt === undefined || expiresAt > clock.now();

  return {
    kind: 'embedded',
    collection<T extends StoredDoc = StoredDoc>(spec: CollectionSpec): Collection<T> {
      let collection = collections.get(spec.name);
      if (!collection) {
        collection = new MemoryCollection(spec, clock);
        collections.set(spec.name, collection);
      }
      return collection as unknown as Collection<T>;
    },
    async increment(key, options = {}) {
      const by = options.by ?? 1;
      let counter = counters.get(key);
      if (!counter || !live(counter.expiresAt)) {
        counter = {
          value: 0,
          ...(options.ttlSeconds ? { expiresAt: clock.now() + options.ttlSeconds * 1000 } : {}),
        };
        counters.set(key, counter);
      }
      if (options.limit !== undefined && counter.value + by > options.limit) return options.limit + 1;
      counter.value += by;
      return counter.value;
    },
    async counter(key) {
      const counter = counters.get(key);
      return counter && live(counter.expiresAt) ? counter.value : 0;
    },
    async allocate(space, size, owner) {
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
    async ping() {},
    async sweep() {
      for (const collection of collections.values()) collection.sweep();
      for (const [key, counter] of counters) if (!live(counter.expiresAt)) counters.delete(key);
    },
    async close() {},
  };
}

class MemoryCollection<T extends StoredDoc> implements Collection<T> {
  readonly name: string;
  private readonly docs = new Map<string, T>();
  private readonly unique: string[][];
  private readonly clock: Clock;

  constructor(spec: CollectionSpec, clock: Clock) {
    this.name = spec.name;
    this.unique = spec.unique ?? [];
    this.clock = clock;
  }

  private isLive(doc: T): boolean {
    return doc.expiresAt === undefined || doc.expiresAt > this.clock.now();
  }

  private liveDoc(id: string): T | undefined {
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
    if (this.liveDoc(doc._id)) throw new UniqueViolation(this.name);
    this.checkUnique(doc, doc._id);
    this.docs.set(doc._id, structuredClone(doc));
  }

  async put(doc: T): Promise<void> {
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
    const found: T[] = [];
    for (const doc of this.docs.values()) {
      if (options.limit !== undefined && found.length >= options.limit) break;
      if (this.isLive(doc) && matches(doc, filter)) found.push(structuredClone(doc));
    }
    return found;
  }

  async update(id: string, where: Filter, fields: Partial<T>): Promise<T | undefined> {
    const doc = this.liveDoc(id);
    if (!doc || !matches(doc, where)) return undefined;
    const updated = { ...doc, ...structuredClone(fields) } as T;
    this.checkUnique(updated, id);
    this.docs.set(id, updated);
    return structuredClone(updated);
  }

  async consume(id: string, where: Filter = {}): Promise<T | undefined> {
    const doc = this.liveDoc(id);
    if (!doc || doc['consumedAt'] !== undefined || !matches(doc, where)) return undefined;
    this.docs.set(id, { ...doc, consumedAt: this.clock.now() });
    return structuredClone(doc);
  }

  async deleteMany(filter: Filter): Promise<number> {
    let deleted = 0;
    for (const [id, doc] of this.docs) {
      if (this.isLive(doc) && matches(doc, filter)) {
        this.docs.delete(id);
        deleted++;
      }
    }
    return deleted;
  }
}

function matches(doc: StoredDoc, filter: Filter): boolean {
  return Object.entries(filter).every(([field, value]) => (doc[field] ?? null) === value);
}
