/**
 * The storage SPI: every module keeps its state through this interface, never through a
 * database driver. Documents are plain JSON objects addressed by a string id inside a named
 * collection. Two adapters implement it: `embedded` (node:sqlite) and `mongo` (official driver).
 *
 * Guarantees every adapter must give (checked by test/contract/store.contract.ts):
 * - a record whose `expiresAt` (epoch milliseconds) is at or before `clock.now()` is invisible to
 *   every read, whether or not it has been swept yet;
 * - `consume` is a single conditional write: among any number of concurrent callers exactly one
 *   receives the document, the others receive `undefined`;
 * - `increment` is atomic and, with a `limit`, never lets a counter pass the limit under races;
 * - a unique constraint violation throws `UniqueViolation`, and an unreachable database throws
 *   `StoreUnavailable` (rendered as 503 by the HTTP layer).
 */

/** A stored document. `_id` is the primary key; `expiresAt` (epoch ms), when set, makes it expire. */
export interface StoredDoc {
  _id: string;
  expiresAt?: number;
  [field: string]: unknown;
}

/** Equality filter on top-level fields; values are JSON scalars. Never pass request input as a key. */
export type Filter = Record<string, string | number | boolean | null>;

export interface CollectionSpec {
  /** Collection name: lowercase letters, digits and underscores. */
  name: string;
  /** Top-level fields that `find` filters on; each gets an index. */
  indexes?: string[];
  /** Sets of top-level fields whose combined values must be unique among live records. */
  unique?: string[][];
}

export interface Collection<T extends StoredDoc = StoredDoc> {
  readonly name: string;
  /** Inserts a new document; throws UniqueViolation when `_id` or a unique field set already exists. */
  insert(doc: T): Promise<void>;
  /** Inserts or replaces the document with this `_id`. Unique constraints still apply. */
  put(doc: T): Promise<void>;
  get(id: string): Promise<T | undefined>;
  /** Returns true when a live document was deleted. */
  delete(id: string): Promise<boolean>;
  /** Live documents whose fields equal every entry of `filter`, in insertion order, at most `limit`. */
  find(filter: Filter, options?: { limit?: number }): Promise<T[]>;
  /**
   * Sets `fields` on the live document `id` only if every entry of `where` matches (a compare-and-set).
   * Returns the updated document, or undefined when no live document matched.
   */
  update(id: string, where: Filter, fields: Partial<T>): Promise<T | undefined>;
  /**
   * Consume-once: atomically marks the live, unconsumed document `id` as consumed (sets
   * `consumedAt`) and returns it as it was before. Every other caller, concurrent or later, gets
   * undefined. `where` adds conditions that must also hold (e.g. the owning client).
   */
  consume(id: string, where?: Filter): Promise<T | undefined>;
  /** Deletes documents matching the filter; returns how many. */
  deleteMany(filter: Filter): Promise<number>;
}

export interface Store {
  readonly kind: 'embedded' | 'mongo';
  collection<T extends StoredDoc = StoredDoc>(spec: CollectionSpec): Collection<T>;
  /**
   * Atomically adds `by` (default 1) to counter `key` and returns the new value. The counter
   * expires `ttlSeconds` after it was created (fixed window). With `limit`, the increment is refused
   * when it would pass the limit: the call then returns `limit + 1` without changing the counter,
   * so concurrent callers can never together exceed the limit.
   */
  increment(key: string, options?: { by?: number; ttlSeconds?: number; limit?: number }): Promise<number>;
  /** Reads a counter without changing it (0 when absent or expired). */
  counter(key: string): Promise<number>;
  /**
   * Allocates a random integer in [0, size) unique within `space` (e.g. one status list), recording
   * `owner` with it. Concurrent callers never receive the same value. Throws SpaceExhausted when
   * every value is taken.
   */
  allocate(space: string, size: number, owner: string): Promise<number>;
  /**
   * Runs `work` as one unit of work: its operations need not become durable one by one (the
   * embedded store then commits them in as few transactions as possible), and the returned promise
   * settles only once every write made inside is durable. It rejects with StoreUnavailable when one
   * is not, even though `work` saw it succeed; so nothing learnt inside a unit may reach anyone
   * outside (an HTTP answer, a message) before the unit resolves.
   */
  unit<T>(work: () => Promise<T>): Promise<T>;
  /** Throws StoreUnavailable when the database cannot answer. Used by /health/ready. */
  ping(): Promise<void>;
  /** Deletes expired records now (also runs periodically). */
  sweep(): Promise<void>;
  close(): Promise<void>;
}

export class StoreError extends Error {
  override name = 'StoreError';
}
/** A unique constraint (primary key or a declared unique field set) was violated. */
export class UniqueViolation extends StoreError {
  override name = 'UniqueViolation';
  readonly collection: string;
  constructor(collection: string) {
    super(`unique constraint violated in ${collection}`);
    this.collection = collection;
  }
}
/** The database did not answer in time or refused the connection. */
export class StoreUnavailable extends StoreError {
  override name = 'StoreUnavailable';
}
/** The store's data is damaged (a corrupted or replaced database file): unavailable until restored. */
export class StoreDamaged extends StoreUnavailable {
  override name = 'StoreDamaged';
}
/** `allocate` found no free value in the space. */
export class SpaceExhausted extends StoreError {
  override name = 'SpaceExhausted';
}
