/**
 * MongoDB storage adapter (official driver; the `store/mongo*.ts` modules are the only ones that
 * import `mongodb`). One MongoDB collection per SPI collection, `_id` = document id. Written for the
 * subset of MongoDB that the test server (jongodb) implements: updateOne/deleteOne/insertOne with
 * `$set`/`$inc`/`$unset`, upserts, unique and TTL indexes. No findOneAndUpdate (not atomic there),
 * no projections.
 */
import { type Db, type Document, MongoClient, type Collection as MongoCollection } from 'mongodb';
import type { Clock } from '../clock.ts';
import { allocateFree } from './allocate.ts';
import { MongoSpiCollection } from './mongo-collection.ts';
import { live } from './mongo-documents.ts';
import { describeHosts, isDuplicateKey, isUnavailable, redact } from './mongo-errors.ts';
import {
  type Collection,
  type CollectionSpec,
  type Store,
  type StoredDoc,
  StoreError,
  StoreUnavailable,
  UniqueViolation,
} from './spi.ts';
import {
  assertAllocation,
  assertCollectionName,
  assertFieldName,
  assertId,
  incrementOptions,
} from './validate.ts';

export interface MongoStoreOptions {
  /** Connection string; may carry credentials, which never appear in errors. */
  url: string;
  database: string;
  serverSelectionTimeoutMs: number;
  socketTimeoutMs: number;
  connectTimeoutMs: number;
  clock: Clock;
  /** How often expired records are deleted; 0 turns the periodic sweep off (reads ignore them anyway). */
  sweepIntervalSeconds: number;
}

/** Internal collections; the dot keeps them apart from SPI names (`[a-z0-9_]+`). */
const COUNTERS = 'store.counters';
const ALLOCATIONS = 'store.allocations';

interface CounterDoc {
  _id: string;
  value: number;
  expiresAt?: Date;
}
interface AllocationDoc {
  _id: string;
  space: string;
  value: number;
  owner: string;
}

export class MongoStore implements Store {
  readonly kind = 'mongo' as const;
  readonly #client: MongoClient;
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #url: string;
  readonly #collections = new Map<string, MongoSpiCollection<StoredDoc>>();
  readonly #counters: MongoCollection<CounterDoc>;
  readonly #allocations: MongoCollection<AllocationDoc>;
  #timer: NodeJS.Timeout | undefined;
  #sweepIntervalSeconds: number;

  constructor(options: MongoStoreOptions) {
    this.#clock = options.clock;
    this.#url = options.url;
    this.#sweepIntervalSeconds = options.sweepIntervalSeconds;
    this.#client = new MongoClient(options.url, {
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMs,
      socketTimeoutMS: options.socketTimeoutMs,
      connectTimeoutMS: options.connectTimeoutMs,
      retryWrites: true,
      writeConcern: { w: 'majority', journal: true },
    });
    this.#db = this.#client.db(options.database);
    this.#counters = this.#db.collection<CounterDoc>(COUNTERS);
    this.#allocations = this.#db.collection<AllocationDoc>(ALLOCATIONS);
  }

  /** Connects, checks the server answers and creates the internal indexes. */
  async open(): Promise<void> {
    try {
      await this.#client.connect();
      await this.#db.admin().command({ ping: 1 });
      await this.#counters.createIndex({ expiresAt: 1 }, { name: 'ttl:expiresAt', expireAfterSeconds: 0 });
      await this.#allocations.createIndex({ space: 1 }, { name: 'space' });
    } catch (error) {
      await this.#client.close().catch(() => {});
      const reason = redact(
        error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        this.#url,
      );
      const message = `MongoDB at ${describeHosts(this.#url)} is unavailable (${reason})`;
      throw isUnavailable(error) ? new StoreUnavailable(message) : new StoreError(message);
    }
    if (this.#sweepIntervalSeconds > 0) {
      this.#timer = setInterval(() => {
        // A failed sweep is retried at the next tick; the TTL index and expiry-aware reads cover it.
        this.sweep().catch(() => {});
      }, this.#sweepIntervalSeconds * 1000);
      this.#timer.unref();
    }
  }

  collection<T extends StoredDoc = StoredDoc>(spec: CollectionSpec): Collection<T> {
    assertCollectionName(spec.name);
    for (const field of spec.indexes ?? []) assertFieldName(field);
    for (const fields of spec.unique ?? []) {
      if (fields.length === 0) throw new TypeError('store: a unique set needs at least one field');
      for (const field of fields) assertFieldName(field);
    }
    const collection = new MongoSpiCollection<StoredDoc>(this, this.#db, spec);
    // Sweeping needs the names: listCollections is not available everywhere (jongodb).
    if (!this.#collections.has(spec.name)) this.#collections.set(spec.name, collection);
    return collection as unknown as Collection<T>;
  }

  async increment(
    key: string,
    options: { by?: number; ttlSeconds?: number; limit?: number } = {},
  ): Promise<number> {
    assertId(key);
    const { by, ttlSeconds, limit } = incrementOptions(options);
    if (limit !== undefined && by > limit) return limit + 1;
    return this.guard(COUNTERS, async () => {
      for (let attempt = 0; attempt < 5; attempt++) {
        const now = this.now();
        const expiresAt = ttlSeconds === undefined ? undefined : new Date(now + ttlSeconds * 1000);
        // A counter whose window is over starts again (a fixed window). Only one caller can match.
        const reset = await this.#counters.updateOne(
          { _id: key, expiresAt: { $lte: new Date(now) } },
          expiresAt ? { $set: { value: by, expiresAt } } : { $set: { value: by }, $unset: { expiresAt: '' } },
        );
        if (reset.modifiedCount === 1) return by;
        // Add only while the result stays within the limit. When the counter exists but does not
        // match (at the limit), the upsert collides with its _id: that is the refusal.
        const q: Document = { _id: key, ...live(now) };
        if (limit !== undefined) q.value = { $lte: limit - by };
        try {
          const result = await this.#counters.updateOne(
            q,
            { $inc: { value: by }, ...(expiresAt ? { $setOnInsert: { expiresAt } } : {}) },
            { upsert: true },
          );
          if (result.upsertedCount === 1) return by;
          if (result.matchedCount === 1) {
            const current = await this.#counters.findOne({ _id: key });
            // Read after the increment: the value includes ours (and maybe later ones, still <= limit).
            return Math.max(current?.value ?? by, by);
          }
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
        }
        const current = await this.#counters.findOne({ _id: key });
        const currentLive = current !== null && (!current.expiresAt || current.expiresAt.getTime() > now);
        if (currentLive && limit !== undefined && current.value + by > limit) return limit + 1;
        // Otherwise it was created or expired under us: try again.
      }
      throw new StoreError(`counter ${key}: too much contention`);
    });
  }

  async counter(key: string): Promise<number> {
    assertId(key);
    const now = this.now();
    const doc = await this.guard(COUNTERS, () => this.#counters.findOne({ _id: key, ...live(now) }));
    if (doc === null || (doc.expiresAt && doc.expiresAt.getTime() <= now)) return 0;
    return doc.value;
  }

  async allocate(space: string, size: number, owner: string): Promise<number> {
    assertAllocation(space, size, owner);
    return this.guard(ALLOCATIONS, async () => {
      // The unique _id decides races: a colliding insert fails and the caller tries another value.
      const claim = async (value: number): Promise<boolean> => {
        try {
          await this.#allocations.insertOne({ _id: `${space}:${value}`, space, value, owner });
          return true;
        } catch (error) {
          if (isDuplicateKey(error)) return false;
          throw error;
        }
      };
      // Only the window being looked at is read (allocate.ts), never the whole space.
      const taken = async (from: number, to: number) =>
        (await this.#allocations.find({ space, value: { $gte: from, $lt: to } }).toArray()).map(
          (doc) => doc.value,
        );
      return allocateFree(space, size, claim, taken);
    });
  }

  /** Every acknowledged MongoDB write is already durable (majority, journaled): nothing to defer. */
  unit<T>(work: () => Promise<T>): Promise<T> {
    return work();
  }

  async ping(): Promise<void> {
    await this.guard('admin', () => this.#db.admin().command({ ping: 1 }));
  }

  async sweep(): Promise<void> {
    const now = this.now();
    for (const collection of this.#collections.values()) await collection.sweep(now);
    await this.guard(COUNTERS, () => this.#counters.deleteMany({ expiresAt: { $lte: new Date(now) } }));
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#client.close();
  }

  /** @internal */
  now(): number {
    return this.#clock.now();
  }

  /** @internal Maps driver errors: duplicate keys to UniqueViolation, lost servers to StoreUnavailable. */
  async guard<R>(collection: string, operation: () => Promise<R>): Promise<R> {
    try {
      return await operation();
    } catch (error) {
      if (isDuplicateKey(error)) throw new UniqueViolation(collection);
      if (isUnavailable(error)) {
        const reason = redact(`${(error as Error).name}: ${(error as Error).message}`, this.#url);
        throw new StoreUnavailable(`MongoDB at ${describeHosts(this.#url)} is unavailable (${reason})`);
      }
      throw error;
    }
  }
}

/** Connects and verifies the server answers; throws StoreUnavailable (naming the host only) if not. */
export async function openMongoStore(options: MongoStoreOptions): Promise<Store> {
  const store = new MongoStore(options);
  await store.open();
  return store;
}
