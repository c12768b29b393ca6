import type { Db, Document, Collection as MongoCollection } from 'mongodb';
import { fromMongo, live, query, type RawDoc, SEQ, toMongo } from './mongo-documents.ts';
import { isDuplicateKey } from './mongo-errors.ts';
import type { Collection, CollectionSpec, Filter, StoredDoc } from './spi.ts';
import { assertDoc, assertId, assertLimit, isLive, updateEntries } from './validate.ts';

/** One SPI collection over one MongoDB collection (`_id` = document id), built by `MongoStore`. */

/** What a collection needs from its store: the clock and the mapping of driver errors. */
export interface CollectionHost {
  now(): number;
  guard<R>(collection: string, operation: () => Promise<R>): Promise<R>;
}

export class MongoSpiCollection<T extends StoredDoc> implements Collection<T> {
  readonly name: string;
  readonly #store: CollectionHost;
  readonly #collection: MongoCollection<RawDoc>;
  readonly #spec: CollectionSpec;
  #ready: Promise<void> | undefined;

  constructor(store: CollectionHost, db: Db, spec: CollectionSpec) {
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
