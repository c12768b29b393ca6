import type { ManagedKey } from '../../keys/spi.ts';

/**
 * Compact JWS signing through the key's own `sign` (RFC 7515 §7.1; an in-process KeyObject or a
 * PKCS#11 token object alike), shared by jwt_vc_json, dc+sd-jwt
 * and the status list tokens. Hand-rolled rather than `jose.SignJWT` because the protected header
 * of one key and one `typ` never changes: it is encoded once and reused, and the signature is a
 * single signature call (bench/cases/jwt-vc.ts measures both paths side by side).
 */

export type JwsAlgorithm = 'EdDSA' | 'ES256';

/** Signs `data` with the key as JOSE wants it: Ed25519 raw, ECDSA as r||s (RFC 7518 §3.4), not DER. */
export function signBytes(key: ManagedKey, data: Buffer | string): Buffer {
  const input = typeof data === 'string' ? Buffer.from(data, 'ascii') : data;
  if (key.alg === 'EdDSA' || key.alg === 'ES256') return key.sign(input);
  throw new Error(`credential signing with ${key.alg} is not supported`);
}

const headerCache = new WeakMap<ManagedKey, Map<string, string>>();

/**
 * The base64url protected header for this key and header shape, memoized per key (a rotated key
 * is a new object, so its headers are computed afresh). `build` must be deterministic for `shape`.
 */
export function encodedHeader(key: ManagedKey, shape: string, build: () => Record<string, unknown>): string {
  let perKey = headerCache.get(key);
  if (!perKey) {
    perKey = new Map();
    headerCache.set(key, perKey);
  }
  let encoded = perKey.get(shape);
  if (encoded === undefined) {
    encoded = Buffer.from(JSON.stringify({ alg: key.alg, ...build() }), 'utf8').toString('base64url');
    perKey.set(shape, encoded);
  }
  return encoded;
}

/** `<header>.<payload>.<signature>` with an already encoded header. */
export function signCompact(key: ManagedKey, header: string, payload: Record<string, unknown>): string {
  const input = `${header}.${Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url')}`;
  return `${input}.${signBytes(key, input).toString('base64url')}`;
}

/** Epoch seconds of a Date. */
export const seconds = (date: Date): number => Math.floor(date.getTime() / 1000);

/** Epoch seconds rounded down to the hour: SECURITY.md row 36 (time claims must not link issuances). */
export const hourFloor = (epochMs: number): number => Math.floor(epochMs / 3_600_000) * 3600;
