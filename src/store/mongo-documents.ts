import { type Document, ObjectId } from 'mongodb';
import type { Filter, StoredDoc } from './spi.ts';
import { filterEntries } from './validate.ts';

/**
 * SPI documents and filters as the MongoDB adapter stores and queries them: `expiresAt` as a BSON
 * Date (for the TTL index), an insertion-order field for `find`, expiry in every read.
 */

/** Insertion order for `find`; stripped from returned documents. */
export const SEQ = '_seq';

/** A document as stored: string `_id`, `expiresAt` as a BSON Date (for the TTL index). */
export type RawDoc = Document & { _id: string };

/** Expiry condition of every read: no `expiresAt` (or null), or one after `now`. */
export const live = (now: number): Document => ({
  $or: [{ expiresAt: null }, { expiresAt: { $gt: new Date(now) } }],
});

/** A Mongo query from an SPI filter: identifiers as keys, scalars as values (never operators). */
export function query(filter: Filter | undefined): Document {
  return Object.fromEntries(
    filterEntries(filter).map(([field, value]) => [
      field,
      field === 'expiresAt' && typeof value === 'number' ? new Date(value) : value,
    ]),
  );
}

export function toMongo(doc: StoredDoc): RawDoc {
  const out: RawDoc = { ...doc, [SEQ]: new ObjectId() };
  if (typeof doc.expiresAt === 'number') out.expiresAt = new Date(doc.expiresAt);
  else delete out.expiresAt;
  return out;
}

export function fromMongo<T extends StoredDoc>(raw: Document | null): T | undefined {
  if (raw === null) return undefined;
  const { [SEQ]: _seq, ...doc } = raw;
  if (doc.expiresAt instanceof Date) doc.expiresAt = doc.expiresAt.getTime();
  return doc as T;
}
