/**
 * Embedded storage adapter on `node:sqlite`. Every document lives in one `docs` table as JSON;
 * declared indexes and unique sets become partial expression indexes on `json_extract(body, ...)`.
 *
 * DatabaseSync is synchronous, so one process never interleaves two statements, but several
 * processes (or several stores) may share the file: every state change that must be exclusive is a
 * single conditional statement, so SQLite's write lock is what decides races.
 *
 * Group commit: the writes made during one turn of the event loop (all the requests being served
 * concurrently) share one transaction, opened by the first write (BEGIN IMMEDIATE: this
 * connection holds the write lock) and committed from setImmediate at the end of that turn. A
 * commit per statement cost ~160 us CPU and ~280 us wall per credential request (4 writes) on
 * this machine; one per turn ~35-50 us. No caller sees a result before it is durable: every
 * operation that ran while a batch was open (writes, and reads that may have seen its writes)
 * resolves only after the COMMIT, and rejects if the batch fails. Conditional writes stay single
 * statements inside the transaction, decided under the write lock as before; a statement that
 * fails (e.g. a unique violation) is rolled back alone (SQLite's default ABORT), the batch goes on.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { closeSync, openSync, readSync } from 'node:fs';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import type { Clock } from '../clock.ts';
import { allocateFree } from './allocate.ts';
import type { CheckpointerData } from './embedded-checkpointer.ts';
import {
  type Collection,
  type CollectionSpec,
  type Filter,
  type Store,
  StoreDamaged,
  type StoredDoc,
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
  updateEntries,
} from './validate.ts';

export interface EmbeddedStoreOptions {
  /** Database file path, or `:memory:` (private to this store instance). */
  file: string;
  clock: Clock;
  /** How often expired records are deleted; 0 turns the periodic sweep off (reads ignore them anyway). */
  sweepIntervalSeconds: number;
  /** How long a statement waits for another connection's write lock before failing (StoreUnavailable). */
  busyTimeoutMs?: number;
  /**
   * SQLite `synchronous` in WAL mode. `normal` (default): a commit is durable once the process has
   * written it, so a crash of the service (even kill -9) loses nothing, but a power loss or OS crash
   * may lose the last commits; the database never corrupts. `full`: every commit waits for fsync,
   * also surviving power loss, at several milliseconds per write on ordinary disks.
   */
  synchronous?: 'normal' | 'full';
  /**
   * How often a worker thread checkpoints the WAL into the database file (embedded-checkpointer.ts).
   * 0: SQLite's automatic checkpoints, run by the committing statement on the event loop (a copy
   * of ~1,000 pages and two fsyncs every few hundred requests). Ignored for `:memory:`.
   */
  checkpointIntervalMs?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS docs (
  seq INTEGER PRIMARY KEY,
  coll TEXT NOT NULL,
  id TEXT NOT NULL,
  body TEXT NOT NULL,
  expires_at INTEGER,
  consumed_at INTEGER,
  UNIQUE (coll, id)
);
CREATE INDEX IF NOT EXISTS docs_expiry ON docs (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires_at INTEGER);
CREATE INDEX IF NOT EXISTS counters_expiry ON counters (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS allocations (
  space TEXT NOT NULL,
  value INTEGER NOT NULL,
  owner TEXT NOT NULL,
  PRIMARY KEY (space, value)
) WITHOUT ROWID;
`;

const LIVE = '(expires_at IS NULL OR expires_at > ?)';

// SQLite primary result codes (the low byte of the extended code).
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_READONLY = 8;
const SQLITE_IOERR = 10;
const SQLITE_FULL = 13;
const SQLITE_CANTOPEN = 14;
const SQLITE_CORRUPT = 11;
const SQLITE_CONSTRAINT = 19;
const SQLITE_NOTADB = 26;
const DAMAGED_CODES = new Set([SQLITE_CORRUPT, SQLITE_NOTADB]);
/** The first 16 bytes of every SQLite database file (https://sqlite.org/fileformat.html §1.3). */
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const UNAVAILABLE_CODES = new Set([
  SQLITE_BUSY,
  SQLITE_LOCKED,
  SQLITE_READONLY,
  SQLITE_IOERR,
  SQLITE_FULL,
  SQLITE_CANTOPEN,
]);

function sqliteCode(error: unknown): number | undefined {
  const code = (error as { errcode?: unknown })?.errcode;
  return typeof code === 'number' ? code & 0xff : undefined;
}

const isConstraint = (error: unknown): boolean => sqliteCode(error) === SQLITE_CONSTRAINT;

/** `json_extract` path for a field name already checked by assertFieldName. */
const path = (field: string): string => `'$.${field}'`;

/**
 * SQL conditions for an equality filter. Field names are validated identifiers (the only text that
 * enters the SQL); values are always bound. The type checks keep `1`, `true` and `'1'` apart,
 * like MongoDB does; `null` matches a null or missing field, like MongoDB does.
 */
function filterSql(filter: Filter | undefined): { sql: string; params: SQLInputValue[] } {
  const parts: string[] = [];
  const params: SQLInputValue[] = [];
  for (const [field, value] of filterEntries(filter)) {
    const extract = `json_extract(body, ${path(field)})`;
    const type = `json_type(body, ${path(field)})`;
    if (value === null) {
      parts.push(`${extract} IS NULL`);
    } else if (typeof value === 'boolean') {
      parts.push(`${extract} = ? AND ${type} = '${value ? 'true' : 'false'}'`);
      params.push(value ? 1 : 0);
    } else if (typeof value === 'string') {
      parts.push(`${extract} = ? AND ${type} = 'text'`);
      params.push(value);
    } else {
      parts.push(`${extract} = ? AND ${type} IN ('integer', 'real')`);
      params.push(value);
    }
  }
  return { sql: parts.map((part) => ` AND ${part}`).join(''), params };
}

function parse<T>(row: Record<string, SQLInputValue> | undefined): T | undefined {
  return row === undefined ? undefined : (JSON.parse(String(row.body)) as T);
}

const numberOrNull = (value: unknown): number | null => (typeof value === 'number' ? value : null);

/** The `(coll, id, body, expires_at, consumed_at)` values of a document's row. */
const docRow = (coll: string, doc: StoredDoc) =>
  [coll, doc._id, JSON.stringify(doc), numberOrNull(doc.expiresAt), numberOrNull(doc.consumedAt)] as const;

class EmbeddedCollection<T extends StoredDoc> implements Collection<T> {
  readonly name: string;
  readonly #store: EmbeddedStore;

  constructor(store: EmbeddedStore, name: string) {
    this.#store = store;
    this.name = name;
  }

  async insert(doc: T): Promise<void> {
    assertDoc(doc);
    await this.#store.write(this.name, () =>
      this.#store
        .stmt('INSERT INTO docs (coll, id, body, expires_at, consumed_at) VALUES (?, ?, ?, ?, ?)')
        .run(...docRow(this.name, doc)),
    );
  }

  async put(doc: T): Promise<void> {
    assertDoc(doc);
    // A replaced document moves to the end of the insertion order, as a fresh insert would.
    await this.#store.write(this.name, () =>
      this.#store
        .stmt(
          `INSERT INTO docs (coll, id, body, expires_at, consumed_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (coll, id) DO UPDATE SET seq = (SELECT max(seq) + 1 FROM docs), body = excluded.body,
             expires_at = excluded.expires_at, consumed_at = excluded.consumed_at`,
        )
        .run(...docRow(this.name, doc)),
    );
  }

  async get(id: string): Promise<T | undefined> {
    assertId(id);
    const now = this.#store.now();
    const row = this.#store.guard(() =>
      this.#store.stmt(`SELECT body FROM docs WHERE coll = ? AND id = ? AND ${LIVE}`).get(this.name, id, now),
    );
    await this.#store.durable();
    return this.#live(parse<T>(row), now);
  }

  async delete(id: string): Promise<boolean> {
    assertId(id);
    const now = this.#store.now();
    const result = this.#store.change(() =>
      this.#store.stmt(`DELETE FROM docs WHERE coll = ? AND id = ? AND ${LIVE}`).run(this.name, id, now),
    );
    await this.#store.durable();
    return Number(result.changes) > 0;
  }

  async find(filter: Filter, options: { limit?: number } = {}): Promise<T[]> {
    assertLimit(options.limit);
    const where = filterSql(filter);
    const now = this.#store.now();
    // The collection name (a validated identifier) is inlined so SQLite can use the partial indexes.
    const rows = this.#store.guard(() =>
      this.#store
        .stmt(
          `SELECT body FROM docs WHERE coll = '${this.name}' AND ${LIVE}${where.sql} ORDER BY seq LIMIT ?`,
        )
        .all(now, ...where.params, options.limit ?? -1),
    );
    await this.#store.durable();
    return rows.map((row) => parse<T>(row)).filter((doc): doc is T => doc !== undefined && isLive(doc, now));
  }

  async update(id: string, where: Filter, fields: Partial<T>): Promise<T | undefined> {
    assertId(id);
    const conditions = filterSql(where);
    const entries = updateEntries(fields);
    const sets: string[] = [];
    const setParams: SQLInputValue[] = [];
    let body = 'body';
    const paths: string[] = [];
    for (const [field, value] of entries) {
      if (field === 'expiresAt' && value === null) {
        body = `json_remove(${body}, ${path(field)})`;
        sets.push('expires_at = NULL');
        continue;
      }
      if (field === 'expiresAt' || field === 'consumedAt') {
        if (value !== null && (typeof value !== 'number' || !Number.isFinite(value))) {
          throw new TypeError(`store: ${field} must be epoch milliseconds`);
        }
        sets.push(`${field === 'expiresAt' ? 'expires_at' : 'consumed_at'} = ?`);
        setParams.push(value as number | null);
      }
      paths.push(`${path(field)}, json(?)`);
    }
    const jsonParams = entries
      .filter(([field, value]) => !(field === 'expiresAt' && value === null))
      .map(([, value]) => JSON.stringify(value));
    if (paths.length > 0) body = `json_set(${body}, ${paths.join(', ')})`;
    const now = this.#store.now();
    const sql = `UPDATE docs SET body = ${body}${sets.map((set) => `, ${set}`).join('')}
      WHERE coll = ? AND id = ? AND ${LIVE}${conditions.sql} RETURNING body`;
    const row = await this.#store.write(this.name, () =>
      this.#store.stmt(sql).get(...jsonParams, ...setParams, this.name, id, now, ...conditions.params),
    );
    return this.#live(parse<T>(row), now);
  }

  async consume(id: string, where?: Filter): Promise<T | undefined> {
    assertId(id);
    const conditions = filterSql(where);
    const now = this.#store.now();
    // The single conditional write that decides the race: only one statement can see consumed_at NULL.
    const row = this.#store.change(() =>
      this.#store
        .stmt(
          `UPDATE docs SET consumed_at = ?, body = json_set(body, '$.consumedAt', ?)
           WHERE coll = ? AND id = ? AND consumed_at IS NULL AND ${LIVE}${conditions.sql} RETURNING body`,
        )
        .get(now, now, this.name, id, now, ...conditions.params),
    );
    await this.#store.durable();
    const doc = parse<T>(row);
    if (doc === undefined) return undefined;
    // The SPI returns the document as it was before the consume.
    delete (doc as StoredDoc).consumedAt;
    return doc;
  }

  async deleteMany(filter: Filter): Promise<number> {
    const where = filterSql(filter);
    const now = this.#store.now();
    const result = this.#store.change(() =>
      this.#store
        .stmt(`DELETE FROM docs WHERE coll = '${this.name}' AND ${LIVE}${where.sql}`)
        .run(now, ...where.params),
    );
    await this.#store.durable();
    return Number(result.changes);
  }

  #live(doc: T | undefined, now: number): T | undefined {
    return doc !== undefined && isLive(doc, now) ? doc : undefined;
  }
}

/** Expired records deleted per statement by the sweep. */
const SWEEP_BATCH = 200;
/**
 * After each batch the sweep waits this many times as long as the batch took, so it never takes
 * more than a tenth of the event loop, whatever the file's size makes a delete cost.
 */
const SWEEP_PAUSE_FACTOR = 9;

/**
 * WAL frames (pages, ~16 MB) after which this connection finishes the worker's checkpoint, so that
 * the WAL starts over (embedded-checkpointer.ts).
 */
const WAL_FINISH_FRAMES = 4096;
/**
 * WAL frames (~256 MB) after which the worker forces a RESTART checkpoint instead. This connection
 * empties the WAL within a turn of being asked, so only other connections writing to the same file
 * get it this far; the margin covers a burst of writes between two of the worker's ticks.
 */
const WAL_RESTART_FRAMES = 16 * WAL_FINISH_FRAMES;

/** Stores of this thread with an open group-commit transaction (normally at most one). */
const openBatches = new Set<EmbeddedStore>();

/** A running unit of work (Store.unit): the group-commit batches its operations joined. */
interface Unit {
  store: EmbeddedStore;
  batches: Set<Promise<void>>;
}
const units = new AsyncLocalStorage<Unit>();

export class EmbeddedStore implements Store {
  readonly kind = 'embedded' as const;
  readonly #db: DatabaseSync;
  readonly #clock: Clock;
  readonly #statements = new Map<string, StatementSync>();
  readonly #timer: NodeJS.Timeout | undefined;
  /** The periodic sweep still running, if any: the next tick leaves it alone. */
  #sweeping: Promise<void> | undefined;
  #checkpointer: Worker | undefined;
  /** The worker asked this connection to copy the WAL's last frames (#finishCheckpoint). */
  #checkpointDue = false;
  #closed = false;
  readonly #file: string;
  /** Set once the file is known to be damaged: every operation then fails with it (fail closed). */
  #damaged: StoreUnavailable | undefined;
  /** The open group-commit transaction, if any (see the file comment). */
  #batch: Batch | undefined;

  constructor(options: EmbeddedStoreOptions) {
    this.#clock = options.clock;
    this.#file = options.file;
    try {
      this.#db = new DatabaseSync(options.file);
      this.#db.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
      if (options.file !== ':memory:') {
        this.#db.exec('PRAGMA journal_mode = WAL');
        this.#db.exec(`PRAGMA synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      }
      this.#db.exec(SCHEMA);
    } catch (error) {
      const code = sqliteCode(error);
      if (code !== undefined && DAMAGED_CODES.has(code)) throw this.#damage((error as Error).message);
      throw new StoreUnavailable(`embedded store: cannot open ${options.file}: ${(error as Error).message}`);
    }
    const checkpointMs = options.checkpointIntervalMs ?? 0;
    if (options.file !== ':memory:' && checkpointMs > 0)
      this.#startCheckpointer(options.file, checkpointMs, options);
    if (options.sweepIntervalSeconds > 0) {
      this.#timer = setInterval(() => {
        // A failed sweep is retried at the next tick; reads never see expired records anyway.
        this.#sweeping ??= this.sweep()
          .catch(() => {})
          .finally(() => {
            this.#sweeping = undefined;
          });
      }, options.sweepIntervalSeconds * 1000);
      this.#timer.unref();
    }
  }

  collection<T extends StoredDoc = StoredDoc>(spec: CollectionSpec): Collection<T> {
    const { name } = spec;
    assertCollectionName(name);
    this.guard(() => {
      for (const field of spec.indexes ?? []) {
        assertFieldName(field);
        this.#db.exec(
          `CREATE INDEX IF NOT EXISTS "ix:${name}:${field}" ON docs (json_extract(body, ${path(field)}), seq) WHERE coll = '${name}'`,
        );
      }
      for (const fields of spec.unique ?? []) {
        if (fields.length === 0) throw new TypeError('store: a unique set needs at least one field');
        for (const field of fields) assertFieldName(field);
        // SQLite treats NULLs as distinct: a document lacking one of the fields is not constrained.
        const columns = fields.map((field) => `json_extract(body, ${path(field)})`).join(', ');
        this.#db.exec(
          `CREATE UNIQUE INDEX IF NOT EXISTS "ux:${name}:${fields.join(',')}" ON docs (${columns}) WHERE coll = '${name}'`,
        );
      }
    });
    return new EmbeddedCollection<T>(this, name);
  }

  async increment(
    key: string,
    options: { by?: number; ttlSeconds?: number; limit?: number } = {},
  ): Promise<number> {
    assertId(key);
    const { by, ttlSeconds, limit } = incrementOptions(options);
    if (limit !== undefined && by > limit) return limit + 1;
    const now = this.now();
    const expiresAt = ttlSeconds === undefined ? null : now + ttlSeconds * 1000;
    // One statement: create, reset an expired window, or add within the limit; nothing otherwise.
    const row = this.change(() =>
      this.stmt(
        `INSERT INTO counters (key, value, expires_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (key) DO UPDATE SET
           value = CASE WHEN counters.expires_at <= ?4 THEN ?2 ELSE counters.value + ?2 END,
           expires_at = CASE WHEN counters.expires_at <= ?4 THEN ?3 ELSE counters.expires_at END
         WHERE counters.expires_at <= ?4 OR ?5 IS NULL OR counters.value + ?2 <= ?5
         RETURNING value`,
      ).get(key, by, expiresAt, now, limit ?? null),
    );
    await this.durable();
    if (row === undefined) return (limit as number) + 1;
    return Number(row.value);
  }

  async counter(key: string): Promise<number> {
    assertId(key);
    const row = this.guard(() =>
      this.stmt(`SELECT value FROM counters WHERE key = ? AND ${LIVE}`).get(key, this.now()),
    );
    await this.durable();
    return row === undefined ? 0 : Number(row.value);
  }

  async allocate(space: string, size: number, owner: string): Promise<number> {
    assertAllocation(space, size, owner);
    const claim = async (value: number): Promise<boolean> => {
      const inserted =
        Number(
          this.change(() =>
            this.stmt('INSERT OR IGNORE INTO allocations (space, value, owner) VALUES (?, ?, ?)').run(
              space,
              value,
              owner,
            ),
          ).changes,
        ) === 1;
      if (inserted) await this.durable();
      return inserted;
    };
    const taken = async (from: number, to: number) =>
      this.guard(() =>
        this.stmt('SELECT value FROM allocations WHERE space = ? AND value >= ? AND value < ?').all(
          space,
          from,
          to,
        ),
      ).map((row) => Number(row.value));
    return allocateFree(space, size, claim, taken);
  }

  /**
   * Operations inside the unit do not wait for their batch's COMMIT; the unit waits once for every
   * batch they joined (usually one: all of a request's writes made in one event-loop turn share a
   * transaction instead of paying a commit, and a turn, each) and rejects if any failed, also
   * when `work` failed (its error may carry something written inside, such as a fresh nonce).
   */
  async unit<T>(work: () => Promise<T>): Promise<T> {
    const unit: Unit = { store: this, batches: new Set() };
    try {
      return await units.run(unit, work);
    } finally {
      await Promise.all(unit.batches);
    }
  }

  /**
   * Readiness: the database answers, and its file still starts with the SQLite header. SQLite
   * itself would go on answering from its page cache and the WAL for a while after the file was
   * overwritten or truncated; the header check (one 16-byte read) notices at once.
   */
  async ping(): Promise<void> {
    if (this.#file !== ':memory:' && !this.#closed && !this.#damaged) this.#checkHeader();
    this.guard(() => this.stmt('SELECT 1').get());
    await this.durable();
  }

  #checkHeader(): void {
    const header = Buffer.alloc(SQLITE_MAGIC.length);
    let read: number;
    try {
      const fd = openSync(this.#file, 'r');
      try {
        read = readSync(fd, header, 0, header.length, 0);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      throw new StoreUnavailable(`embedded store: cannot read ${this.#file}: ${(error as Error).message}`);
    }
    if (read < header.length || !header.equals(SQLITE_MAGIC)) throw this.#damage('no SQLite header');
  }

  /** Marks the store damaged (every later operation fails) and returns the error that says so. */
  #damage(reason: string): StoreUnavailable {
    this.#damaged ??= new StoreDamaged(
      `embedded store: the database file ${this.#file} is damaged (${reason}): stop the service and restore the file from a backup`,
    );
    return this.#damaged;
  }

  /**
   * Deletes expired records SWEEP_BATCH at a time, pausing after each batch (SWEEP_PAUSE_FACTOR).
   * Under load a minute gathers tens of thousands (35,000 used nonces at 580 credentials/s); one
   * DELETE of them all held the event loop for hundreds of milliseconds, and batches back to back
   * (one per turn) took seconds of a loaded service's CPU at once on a file of 500 MB: requests
   * queued behind them for up to 7 s, every minute.
   */
  async sweep(): Promise<void> {
    const now = this.now();
    for (const table of ['docs', 'counters'] as const) {
      const key = table === 'docs' ? 'seq' : 'key';
      for (;;) {
        const started = performance.now();
        const deleted = this.change(
          () =>
            this.stmt(
              `DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ${SWEEP_BATCH})`,
            ).run(now).changes,
        );
        await this.durable();
        if (Number(deleted) < SWEEP_BATCH) break;
        const pauseMs = (performance.now() - started) * SWEEP_PAUSE_FACTOR;
        await new Promise((resolve) => setTimeout(resolve, Math.max(1, pauseMs)));
      }
    }
  }

  #startCheckpointer(file: string, intervalMs: number, options: EmbeddedStoreOptions): void {
    this.#db.exec('PRAGMA wal_autocheckpoint = 0');
    // When the WAL starts over, a file grown past this is truncated back to it.
    this.#db.exec(`PRAGMA journal_size_limit = ${WAL_FINISH_FRAMES * 4096}`);
    const workerData: CheckpointerData = {
      file,
      intervalMs,
      busyTimeoutMs: options.busyTimeoutMs ?? 5000,
      finishAboveFrames: WAL_FINISH_FRAMES,
      restartAboveFrames: WAL_RESTART_FRAMES,
    };
    const worker = new Worker(new URL('./embedded-checkpointer.ts', import.meta.url), { workerData });
    worker.unref();
    worker.on('message', () => {
      this.#checkpointDue = true;
      // Between two transactions now, or right after the open batch commits (#flush).
      if (!this.#batch) this.#finishCheckpoint();
    });
    // Should the worker ever stop on its own, checkpoints go back to the committing connection.
    const fallBack = () => {
      if (this.#checkpointer !== worker) return;
      this.#checkpointer = undefined;
      if (!this.#closed) this.guard(() => this.#db.exec('PRAGMA wal_autocheckpoint = 1000'));
    };
    worker.once('error', fallBack);
    worker.once('exit', fallBack);
    this.#checkpointer = worker;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#batch) this.#flush();
    // Closed from here on: operations started while the checkpointer stops get StoreUnavailable.
    this.#closed = true;
    const checkpointer = this.#checkpointer;
    this.#checkpointer = undefined;
    if (checkpointer) {
      // Referenced again while it closes: an unreferenced worker would let the process end here,
      // with whatever the caller meant to do after close() (print, exit with a code) undone.
      checkpointer.ref();
      const exited = new Promise((resolve) => checkpointer.once('exit', resolve));
      checkpointer.postMessage('close');
      const timer = setTimeout(() => void checkpointer.terminate(), 2000);
      await exited;
      clearTimeout(timer);
    }
    if (this.#timer) clearInterval(this.#timer);
    this.#statements.clear();
    this.#db.close();
  }

  /** @internal */
  now(): number {
    return this.#clock.now();
  }

  /** @internal A cached prepared statement. */
  stmt(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** @internal Runs statements, mapping closed, locked or damaged databases to StoreUnavailable. */
  guard<R>(run: () => R): R {
    if (this.#closed) throw new StoreUnavailable('embedded store is closed');
    if (this.#damaged) throw this.#damaged;
    try {
      return run();
    } catch (error) {
      const code = sqliteCode(error);
      if (code !== undefined && DAMAGED_CODES.has(code)) throw this.#damage((error as Error).message);
      if (code !== undefined && UNAVAILABLE_CODES.has(code)) {
        throw new StoreUnavailable(`embedded store: ${(error as Error).message}`);
      }
      throw error;
    }
  }

  /**
   * @internal Runs a write that unique constraints may refuse. An expired record that the sweep
   * has not deleted yet must not block it: on a violation, delete the collection's expired records
   * and try once more; a second violation is a real one.
   */
  async write<R>(coll: string, run: () => R): Promise<R> {
    let result: R;
    try {
      result = this.change(run);
    } catch (error) {
      if (!isConstraint(error)) throw error;
      this.change(() =>
        this.stmt('DELETE FROM docs WHERE coll = ? AND expires_at IS NOT NULL AND expires_at <= ?').run(
          coll,
          this.now(),
        ),
      );
      try {
        result = this.change(run);
      } catch (again) {
        if (isConstraint(again)) throw new UniqueViolation(coll);
        throw again;
      }
    }
    await this.durable();
    return result;
  }

  /**
   * @internal Runs state-changing statements inside the group-commit transaction, opening it
   * (and scheduling its commit at the end of this event-loop turn) when none is open.
   */
  change<R>(run: () => R): R {
    if (!this.#batch) {
      if (this.#closed) throw new StoreUnavailable('embedded store is closed');
      // Another store of this thread holding the write lock (tests open several on one file)
      // could never commit while this one waits synchronously for the lock: commit it first.
      for (const other of openBatches) if (other !== this) other.#flush();
      this.guard(() => this.#db.exec('BEGIN IMMEDIATE'));
      openBatches.add(this);
      let settle!: (error?: unknown) => void;
      const promise = new Promise<void>((resolve, reject) => {
        settle = (error) => (error === undefined ? resolve() : reject(error));
      });
      // Every operation of the batch awaits this promise; the no-op handler only keeps a failed
      // batch that nobody awaits any more from being reported as an unhandled rejection.
      promise.catch(() => {});
      this.#batch = { promise, settle, immediate: setImmediate(() => this.#flush()) };
    }
    try {
      return this.guard(run);
    } catch (error) {
      // SQLite rolls back the whole transaction on some errors (full disk, I/O error, busy): the
      // batch's earlier writes are gone, so they must fail too, and later writes start a new batch.
      if (!this.#db.isTransaction) this.#fail(error);
      throw error;
    }
  }

  /**
   * @internal Resolves once everything this connection has done so far is committed, so that no
   * caller acts on (or answers with) a write that could still be rolled back; immediately when no
   * batch is open.
   */
  durable(): Promise<void> | undefined {
    const batch = this.#batch?.promise;
    const unit = units.getStore();
    if (batch && unit?.store === this) {
      // Inside a unit of work: the unit awaits this batch before it resolves.
      unit.batches.add(batch);
      return undefined;
    }
    return batch;
  }

  #flush(): void {
    const batch = this.#batch;
    if (!batch) return;
    this.#batch = undefined;
    openBatches.delete(this);
    clearImmediate(batch.immediate);
    try {
      this.guard(() => this.#db.exec('COMMIT'));
      batch.settle();
      if (this.#checkpointDue) this.#finishCheckpoint();
    } catch (error) {
      try {
        if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      } catch {
        // The connection is unusable; the next statement reports it.
      }
      batch.settle(
        error instanceof StoreUnavailable
          ? error
          : new StoreUnavailable(`embedded store: commit failed: ${(error as Error).message}`),
      );
    }
  }

  /**
   * Copies into the database file the WAL frames the worker's PASSIVE checkpoints left behind.
   * This connection is the file's writer and has no transaction open, so no frame arrives during
   * the copy and it ends with the whole WAL backfilled: the next commit writes the WAL from its
   * beginning again. The worker has copied all but the last few hundred frames by now, and PASSIVE
   * never waits for a lock (busy: another connection is checkpointing; the worker asks again).
   */
  #finishCheckpoint(): void {
    if (this.#closed || this.#damaged || this.#db.isTransaction) return;
    this.#checkpointDue = false;
    try {
      this.stmt('PRAGMA wal_checkpoint(PASSIVE)').get();
    } catch {
      // A transient I/O error: the worker asks again while the WAL stays long.
    }
    // The worker paused its own checkpoints meanwhile, so that this one found the lock free.
    this.#checkpointer?.postMessage('finished');
  }

  #fail(error: unknown): void {
    const batch = this.#batch;
    if (!batch) return;
    this.#batch = undefined;
    openBatches.delete(this);
    clearImmediate(batch.immediate);
    batch.settle(
      error instanceof StoreUnavailable
        ? error
        : new StoreUnavailable(`embedded store: transaction rolled back: ${(error as Error).message}`),
    );
  }
}

interface Batch {
  promise: Promise<void>;
  settle(error?: unknown): void;
  immediate: NodeJS.Immediate;
}

export function openEmbeddedStore(options: EmbeddedStoreOptions): Store {
  return new EmbeddedStore(options);
}
