/**
 * Checks shared by the adapters. Field names end up inside SQL text (embedded) or as query keys
 * (mongo), so they must be plain identifiers; filter values must be scalars so that nothing taken
 * from a request can turn into a query operator (`{ $ne: null }`) or SQL.
 */
import type { Filter } from './spi.ts';

const COLLECTION_NAME = /^[a-z0-9_]+$/;
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function assertCollectionName(name: string): void {
  if (typeof name !== 'string' || !COLLECTION_NAME.test(name)) {
    throw new TypeError(`store: invalid collection name ${JSON.stringify(name)}`);
  }
}

export function assertFieldName(field: string): void {
  // `__proto__` passes the pattern but would set a prototype when assigned as a key.
  if (typeof field !== 'string' || !FIELD_NAME.test(field) || field === '__proto__') {
    throw new TypeError(`store: invalid field name ${JSON.stringify(field)}`);
  }
}

export function assertId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || id.length === 0)
    throw new TypeError('store: a document id must be a non-empty string');
}

export type Scalar = string | number | boolean | null;

/** Checks the shape every stored document must have. */
export function assertDoc(doc: { _id: unknown; expiresAt?: unknown }): void {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new TypeError('store: a document must be an object');
  assertId(doc._id);
  assertExpiresAt(doc.expiresAt);
}

/** True unless the document's `expiresAt` is at or before `now` (the in-code half of every expiry check). */
export function isLive(doc: { expiresAt?: unknown }, now: number): boolean {
  return typeof doc.expiresAt !== 'number' || doc.expiresAt > now;
}

/** Returns the filter's entries after checking every key is an identifier and every value a scalar. */
export function filterEntries(filter: Filter | undefined): [string, Scalar][] {
  if (filter === undefined) return [];
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) {
    throw new TypeError('store: a filter must be a plain object');
  }
  const entries = Object.entries(filter);
  for (const [field, value] of entries) {
    assertFieldName(field);
    const ok =
      value === null ||
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value));
    if (!ok)
      throw new TypeError(
        `store: filter value for ${field} must be a string, finite number, boolean or null`,
      );
  }
  return entries as [string, Scalar][];
}

/** The fields of an update, without undefined values; `_id` cannot change. */
export function updateEntries(fields: Record<string, unknown>): [string, unknown][] {
  if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) {
    throw new TypeError('store: update fields must be a plain object');
  }
  const entries = Object.entries(fields).filter(([, value]) => value !== undefined);
  for (const [field] of entries) {
    assertFieldName(field);
    if (field === '_id') throw new TypeError('store: update cannot change _id');
  }
  return entries;
}

export function assertLimit(limit: number | undefined): void {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new TypeError('store: limit must be a positive integer');
  }
}

export function assertExpiresAt(value: unknown): void {
  if (value !== undefined && value !== null && (typeof value !== 'number' || !Number.isFinite(value))) {
    throw new TypeError('store: expiresAt must be epoch milliseconds');
  }
}

export function assertAllocation(space: string, size: number, owner: string): void {
  if (typeof space !== 'string' || space.length === 0)
    throw new TypeError('store: space must be a non-empty string');
  if (typeof owner !== 'string') throw new TypeError('store: owner must be a string');
  // crypto.randomInt accepts ranges below 2^48.
  if (!Number.isSafeInteger(size) || size < 1 || size >= 2 ** 48) {
    throw new TypeError('store: size must be a positive integer below 2^48');
  }
}

export function incrementOptions(options: { by?: number; ttlSeconds?: number; limit?: number } = {}): {
  by: number;
  ttlSeconds: number | undefined;
  limit: number | undefined;
} {
  const { by = 1, ttlSeconds, limit } = options;
  if (!Number.isSafeInteger(by) || by < 1)
    throw new TypeError('store: increment by must be a positive integer');
  if (ttlSeconds !== undefined && !(Number.isFinite(ttlSeconds) && ttlSeconds > 0)) {
    throw new TypeError('store: ttlSeconds must be positive');
  }
  if (limit !== undefined && !Number.isSafeInteger(limit))
    throw new TypeError('store: limit must be an integer');
  return { by, ttlSeconds, limit };
}

/** When an allocation falls back from random probing to scanning for free values. */
export const RANDOM_ALLOCATION_ATTEMPTS = 12;
