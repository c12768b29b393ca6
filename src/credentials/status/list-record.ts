import type { StoredDoc } from '../../store/spi.ts';
import { byteLength, getBitMsb, getStatusLsb } from './encoding.ts';

/** A status list as the store keeps it, and how its entries are read. */

export type StatusPurpose = 'revocation' | 'suspension';
/** How a bitstring list credential is secured: as an ldp_vc (for ldp_vc credentials) or a JWT. */
export type BitstringSecuring = 'ldp_vc' | 'jwt';
export type ListKind = 'bitstring' | 'token';

/** draft-ietf-oauth-status-list §7.1 status types. */
export const TOKEN_STATUS = { valid: 0, invalid: 1, suspended: 2 } as const;

export interface StatusListRecord extends StoredDoc {
  kind: ListKind;
  /** Bitstring lists: one purpose per list. Token lists carry both in two-bit entries. */
  purpose?: StatusPurpose;
  securing?: BitstringSecuring;
  size: number;
  bits: 1 | 2;
  /** base64url of the raw (uncompressed) list; absent while every entry is 0. */
  data?: string;
  /** Incremented by every change; the compare-and-set guard and the cache key. */
  version: number;
  createdAt: number;
  updatedAt: number;
}

export const STATUS_LISTS_COLLECTION = { name: 'status_lists', indexes: ['kind'] };

/** The ids this service gives its lists (random, base64url). */
export const LIST_ID = /^[A-Za-z0-9_-]{16,64}$/;

/** `<publicUrl>/status/<kind>/<listId>`. */
export const statusListUrl = (publicUrl: string, kind: ListKind, listId: string): string =>
  `${publicUrl}/status/${kind}/${listId}`;

/** The list's raw (uncompressed) bytes. */
export const rawOf = (record: StatusListRecord): Uint8Array =>
  record.data
    ? new Uint8Array(Buffer.from(record.data, 'base64url'))
    : new Uint8Array(byteLength(record.size, record.bits));

/** One entry's value: a bit (bitstring, most significant first) or a status (token, least significant first). */
export const readEntry = (record: StatusListRecord, raw: Uint8Array, index: number): number =>
  record.kind === 'bitstring' ? getBitMsb(raw, index) : getStatusLsb(raw, index, record.bits);
