import { deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';

/**
 * The two wire encodings of a status list. Both keep the raw list as bytes; they differ in bit
 * order, compression and text encoding, and mixing them up silently revokes the wrong credential,
 * so each has its own pair of functions and its own test against an independent decoder.
 */

/** Bytes that hold `size` entries of `bits` bits each. */
export const byteLength = (size: number, bits: number): number => Math.ceil((size * bits) / 8);

/**
 * W3C Bitstring Status List §4.2 (https://www.w3.org/TR/vc-bitstring-status-list/#bitstring-encoding):
 * index 0 is the most significant (left-most) bit of the first byte.
 */
export function getBitMsb(list: Uint8Array, index: number): number {
  return ((list[index >> 3] ?? 0) >> (7 - (index & 7))) & 1;
}

export function setBitMsb(list: Uint8Array, index: number, value: number): void {
  const mask = 1 << (7 - (index & 7));
  const byte = list[index >> 3] ?? 0;
  list[index >> 3] = value ? byte | mask : byte & ~mask;
}

/** `encodedList`: multibase base64url (`u` prefix, no padding) of the GZIP-compressed bitstring. */
export function encodeBitstring(list: Uint8Array): string {
  return `u${gzipSync(list, { level: 9 }).toString('base64url')}`;
}

export function decodeBitstring(encodedList: string): Uint8Array {
  if (!encodedList.startsWith('u')) throw new Error('encodedList is not multibase base64url');
  return new Uint8Array(gunzipSync(Buffer.from(encodedList.slice(1), 'base64url')));
}

/**
 * IETF Token Status List §4.1 (https://datatracker.ietf.org/doc/draft-ietf-oauth-status-list/):
 * entries of `bits` bits packed from the least significant bit of each byte upwards.
 */
export function getStatusLsb(list: Uint8Array, index: number, bits: number): number {
  const bit = index * bits;
  return ((list[bit >> 3] ?? 0) >> (bit & 7)) & ((1 << bits) - 1);
}

export function setStatusLsb(list: Uint8Array, index: number, bits: number, value: number): void {
  const bit = index * bits;
  const shift = bit & 7;
  const mask = ((1 << bits) - 1) << shift;
  list[bit >> 3] = ((list[bit >> 3] ?? 0) & ~mask) | ((value << shift) & mask);
}

/** `lst`: base64url (no padding) of the ZLIB (RFC 1950) DEFLATE-compressed byte array. */
export function encodeTokenList(list: Uint8Array): string {
  return deflateSync(list, { level: 9 }).toString('base64url');
}

export function decodeTokenList(lst: string): Uint8Array {
  return new Uint8Array(inflateSync(Buffer.from(lst, 'base64url')));
}
