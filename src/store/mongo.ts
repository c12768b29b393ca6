/**
 * MongoDB storage adapter (official driver; the only module that imports `mongodb`). One MongoDB
 * collection per SPI collection, `_id` = document id. Written for the subset of MongoDB that the
 * test server (jongodb) implements: updateOne/deleteOne/insertOne with `$set`/`$inc`/`$unset`,
 * upserts, unique and TTL indexes. No findOneAndUpdate (not atomic there), no projections.
 */
import { randomInt } from 'node:crypto';
import {
  type Db,
  type Document,
  MongoClient,
  MongoClientClosedError,
  type Collection as MongoCollection,
  MongoError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  MongoWriteConcernError,
  ObjectId,
} from 'mongodb';
import type { Clock } from '../clock.ts';
import {
  type Collection,
  type CollectionSpec,
  type Filter,
  SpaceExhausted,
  type Store,
  type StoredDoc,
  StoreError,
  StoreUnavailable,
  UniqueViolation,
} from './spi.ts';
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
  RANDOM_ALLOCATION_ATTEMPTS,
  updateEntries,
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
/** Insertion order for `find`; stripped from returned documents. */
const SEQ = '_seq';

/** A document as stored: string `_id`, `expiresAt` as a BSON Date (for the TTL index). */
type RawDoc = Document & { _id: string };
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

/** `host:port[,host:port]` of a connection string, without credentials, path or options. */
export function describeHosts(url: string): string {
  const authority = url.replace(/^[A-Za-z0-9+.-]+:\/\//, '').split(/[/?]/, 1)[0] ?? '';
  return authority.slice(authority.lastIndexOf('@') + 1);
}

/** Removes the connection string's password (raw and percent-decoded) from a message. */
function redact(message: string, url: string): string {
  const authority = url.replace(/^[A-Za-z0-9+.-]+:\/\//, '').split(/[/?]/, 1)[0] ?? '';
  const at = authority.lastIndexOf('@');
  let out = message.split(url).join('<connection string>');
  if (at < 0) return out;
  const userinfo = authority.slice(0, at);
  const password = userinfo.slice(userinfo.indexOf(':') + 1);
  if (userinfo.includes(':') && password) {
    let decoded = password;
    try {
      decoded = decodeURIComponent(password);
    } catch {}
    for (const secret of [password, decoded]) out = out.split(secret).join('***');
  }
  return out;
}

const isDuplicateKey = (error: unknown): boolean => error instanceof MongoServerError && error.code === 11000;

/**
 * Socket errors the driver can let through unwrapped when the server vanishes mid-write (seen here:
 * `EPIPE` "This socket has been ended by the other party" from a ping right after the server died).
 */
const SOCKET_ERROR_CODES = new Set([
  'EPIPE',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENOTCONN',
]);

function isUnavailable(error: unknown): boolean {
  return (
    SOCKET_ERROR_CODES.has((error as { code?: unknown })?.code as string) ||
    error instanceof MongoNetworkError || // includes MongoNetworkTimeoutError
    error instanceof MongoServerSelectionError ||
    error instanceof MongoTopologyClosedError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoClientClosedError ||
    error instanceof MongoServerClosedError ||
    error instanceof MongoOperationTimeoutError ||
    error instanceof MongoWriteConcernError ||
    (error instanceof MongoError && error.hasErrorLabel('RetryableWriteError'))
  );
}

/** Expiry condition of every read: no `expiresAt` (or null), or one after `now`. */
const live = (now: number): Document => ({
  $or: [{ expiresAt: null }, { expiresAt: { $gt: new Date(now) } }],
});

/** A Mongo query from an SPI filter: identifiers as keys, scalars as values (never operators). */
function query(filter: Filter | undefined): Document {
  return Object.fromEntries(
    filterEntries(filter).map(([field, value]) => [
      field,
      field === 'expiresAt' && typeof value === 'number' ? new Date(value) : value,
    ]),
  );
}

function toMongo(doc: StoredDoc): RawDoc {
  const out: RawDoc = { ...doc, [SEQ]: new ObjectId() };
  if (typeof doc.expiresAt === 'number') out.expiresAt = new Date(doc.expiresAt);
  else delete out.expiresAt;
  return out;
}

function fromMongo<T extends StoredDoc>(raw: Document | null): T | undefined {
  if (raw === null) return undefined;
  const { [SEQ]: _seq, ...doc } = raw;
  if (doc.expiresAt instanceof Date) doc.expiresAt = doc.expiresAt.getTime();
  return doc as T;
}

class MongoSpiCollection<T extends StoredDoc> implements Collection<T> {
  readonly name: string;
  readonly #store: MongoStore;
  readonly #collection: MongoCollection<RawDoc>;
  readonly #spec: CollectionSpec;
  #ready: Promise<void> | undefined;

  constructor(store: MongoStore, db: Db, spec: CollectionSpec) {
    this.#store = store;
    this.name = spec.name;
    this.#spec = spec;
    this.#collection = db.collection<RawDoc>(spec.name);
  }

  /** Creates the indexes once; a failure is retried by the next operation. */
  #indexes(): Promise<void> {
    this.#ready ??= this.#createIndexes().catch((error) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  async #createIndexes(): Promise<void> {
    const c = this.#collection;
    await c.createIndex({ expiresAt: 1 }, { name: 'ttl:expiresAt', expireAfterSeconds: 0 });
    await c.createIndex({ [SEQ]: 1 }, { name: 'order' });
    for (const field of this.#spec.indexes ?? []) {
      await c.createIndex({ [field]: 1, [SEQ]: 1 }, { name: `ix:${field}` });
    }
    for (const fields of this.#spec.unique ?? []) {
      // Documents lacking a field are not constrained (as in the embedded adapter). Expiry cannot be
      // part of the filter (it moves with time): writes retry after deleting expired conflicts.
      await c.createIndex(Object.fromEntries(fields.map((field) => [field, 1])), {
        name: `ux:${fields.join(',')}`,
        unique: true,
        partialFilterExpression: Object.fromEntries(fields.map((field) => [field, { $exists: true }])),
      });
    }
  }

  #run<R>(operation: () => Promise<R>): Promise<R> {
    return this.#store.guard(this.name, async () => {
      await this.#indexes();
      return operation();
    });
  }

  /**
   * A write that unique indexes may refuse. An expired document not yet removed must not block it:
   * on a duplicate key, delete the collection's expired documents and try once more.
   */
  async #write<R>(operation: () => Promise<R>): Promise<R> {
    return this.#run(async () => {
      try {
        return await operation();
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
      await this.#collection.deleteMany({ expiresAt: { $lte: new Date(this.#store.now()) } });
      return operation();
    });
  }

  async insert(doc: T): Promise<void> {
    assertDoc(doc);
    await this.#write(() => this.#collection.insertOne(toMongo(doc)));
  }

  async put(doc: T): Promise<void> {
    assertDoc(doc);
    await this.#write(() => this.#collection.replaceOne({ _id: doc._id }, toMongo(doc), { upsert: true }));
  }

  async get(id: string): Promise<T | undefined> {
    assertId(id);
    const now = this.#store.now();
    const doc = fromMongo<T>(await this.#run(() => this.#collection.findOne({ _id: id, ...live(now) })));
    return doc !== undefined && isLive(doc, now) ? doc : undefined;
  }

  async delete(id: string): Promise<boolean> {
    assertId(id);
    const now = this.#store.now();
    const result = await this.#run(() => this.#collection.deleteOne({ _id: id, ...live(now) }));
    return result.deletedCount === 1;
  }

  async find(filter: Filter, options: { limit?: number } = {}): Promise<T[]> {
    assertLimit(options.limit);
    const q = { ...query(filter), ...live(this.#store.now()) };
    const raws = await this.#run(() => {
      const cursor = this.#collection.find(q).sort({ [SEQ]: 1 });
      return (options.limit === undefined ? cursor : cursor.limit(options.limit)).toArray();
    });
    const now = this.#store.now();
    return raws.map((raw) => fromMongo<T>(raw) as T).filter((doc) => isLive(doc, now));
  }

  async update(id: string, where: Filter, fields: Partial<T>): Promise<T | undefined> {
    assertId(id);
    const entries = updateEntries(fields);
    const $set: Document = {};
    const $unset: Document = {};
    for (const [field, value] of entries) {
      if (field === 'expiresAt') {
        if (value === null) {
          $unset.expiresAt = '';
          continue;
        }
        if (typeof value !== 'number' || !Number.isFinite(value)) {
          throw new TypeError('store: expiresAt must be epoch milliseconds');
        }
        $set.expiresAt = new Date(value);
        continue;
      }
      $set[field] = value;
    }
    const now = this.#store.now();
    // Our own `_id` and expiry conditions come last so `where` cannot override them.
    const q = { ...query(where), _id: id, ...live(now) };
    const change: Document = {};
    if (Object.keys($set).length > 0) change.$set = $set;
    if (Object.keys($unset).length > 0) change.$unset = $unset;
    if (Object.keys(change).length === 0) {
      const doc = fromMongo<T>(await this.#run(() => this.#collection.findOne(q)));
      return doc !== undefined && isLive(doc, now) ? doc : undefined;
    }
    const result = await this.#write(() => this.#collection.updateOne(q, change));
    if (result.matchedCount !== 1) return undefined;
    return fromMongo<T>(await this.#run(() => this.#collection.findOne({ _id: id })));
  }

  async consume(id: string, where?: Filter): Promise<T | undefined> {
    assertId(id);
    const now = this.#store.now();
    const q = { ...query(where), _id: id, consumedAt: null, ...live(now) };
    // The single conditional write that decides the race; the document is read only by the winner.
    const result = await this.#run(() => this.#collection.updateOne(q, { $set: { consumedAt: now } }));
    if (result.modifiedCount !== 1) return undefined;
    const doc = fromMongo<T>(await this.#run(() => this.#collection.findOne({ _id: id })));
    if (doc === undefined) return undefined;
    // The SPI returns the document as it was before the consume.
    delete (doc as StoredDoc).consumedAt;
    return doc;
  }

  async deleteMany(filter: Filter): Promise<number> {
    const q = { ...query(filter), ...live(this.#store.now()) };
    const result = await this.#run(() => this.#collection.deleteMany(q));
    return result.deletedCount;
  }

  /** @internal */
  async sweep(now: number): Promise<void> {
    await this.#run(() => this.#collection.deleteMany({ expiresAt: { $lte: new Date(now) } }));
  }
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
      for (let attempt = 0; attempt < RANDOM_ALLOCATION_ATTEMPTS; attempt++) {
        const value = randomInt(size);
        if (await claim(value)) return value;
      }
      // Random probing keeps missing: the space is nearly full, so pick among the values still free.
      for (;;) {
        const taken = new Uint8Array(size);
        for (const doc of await this.#allocations.find({ space }).toArray()) {
          if (doc.value < size) taken[doc.value] = 1;
        }
        const free: number[] = [];
        for (let value = 0; value < size; value++) if (taken[value] === 0) free.push(value);
        if (free.length === 0) throw new SpaceExhausted(`allocation space ${space} is full (${size} values)`);
        const value = free[randomInt(free.length)] as number;
        if (await claim(value)) return value;
      }
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
