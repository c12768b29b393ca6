import { type BinaryLike, hash } from 'node:crypto';

/**
 * SHA-256 (FIPS 180-4) in the encodings this service needs. One-shot `hash` from node:crypto: the
 * same bytes as a `createHash` object, without making one per call (the ldp_vc fast path hashes
 * on every issuance). Strings are hashed as UTF-8.
 */

/** The 32-byte digest. */
export const sha256 = (data: BinaryLike): Buffer => hash('sha256', data, 'buffer');

/**
 * The digest in base64url without padding: what stores key a high-entropy secret by (codes,
 * tokens, grant ids), RFC 7638 JWK thumbprints and RFC 9449 `ath`.
 */
export const sha256Base64url = (data: BinaryLike): string => hash('sha256', data, 'base64url');

/** The digest in lowercase hex (RDFC-1.0 §4.4 hashes blank nodes to hex). */
export const sha256Hex = (data: BinaryLike): string => hash('sha256', data, 'hex');
