import { ECDH } from 'node:crypto';
import type { JWK } from 'jose';
import { publicJwk } from './jwk.ts';
import { Base58Error, base58btcDecode } from './multibase.ts';
import { publicKeyMultibase } from './multikey.ts';

/**
 * The DID methods of holder keys, encoded and decoded here. Both are self-certifying: the key is in
 * the DID itself, so resolution is pure decoding, never a network call. Wallets put them in a
 * proof's `kid` (OpenID4VCI 1.0 Appendix F.1: "kid ... MUST be a DID URL referring to a DID
 * Document"); formats without a DID from the wallet name the holder by did:jwk.
 * - did:key (https://w3c-ccg.github.io/did-method-key/): multibase base58btc of a multicodec key;
 *   Ed25519 (0xed) and P-256 (0x1200, compressed point) are supported.
 * - did:jwk (https://github.com/quartzjer/did-jwk/blob/main/spec.md): base64url of the JWK.
 */

export class DidResolutionError extends Error {
  override name = 'DidResolutionError';
}

function readVarint(bytes: Uint8Array): { value: number; length: number } {
  let value = 0;
  let shift = 0;
  for (let i = 0; i < Math.min(bytes.length, 4); i++) {
    value |= (bytes[i]! & 0x7f) << shift;
    if ((bytes[i]! & 0x80) === 0) return { value, length: i + 1 };
    shift += 7;
  }
  throw new DidResolutionError('invalid multicodec prefix');
}

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

/** The public JWK of a did:key (Ed25519 or P-256). */
export function resolveDidKey(did: string): JWK {
  const id = did.slice('did:key:'.length);
  if (!id.startsWith('z')) throw new DidResolutionError('did:key must use multibase base58btc (z...)');
  let bytes: Uint8Array;
  try {
    bytes = base58btcDecode(id.slice(1));
  } catch (error) {
    if (error instanceof Base58Error) throw new DidResolutionError('invalid base58btc character');
    throw error;
  }
  const { value: codec, length } = readVarint(bytes);
  const key = bytes.slice(length);
  if (codec === 0xed) {
    if (key.length !== 32) throw new DidResolutionError('Ed25519 did:key must hold 32 bytes');
    return { kty: 'OKP', crv: 'Ed25519', x: b64url(key) };
  }
  if (codec === 0x1200) {
    if (key.length !== 33) throw new DidResolutionError('P-256 did:key must hold a 33-byte compressed point');
    let point: Buffer;
    try {
      point = ECDH.convertKey(Buffer.from(key), 'prime256v1', undefined, undefined, 'uncompressed') as Buffer;
    } catch {
      throw new DidResolutionError('P-256 did:key is not a point on the curve');
    }
    return { kty: 'EC', crv: 'P-256', x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33, 65)) };
  }
  throw new DidResolutionError(
    `did:key multicodec 0x${codec.toString(16)} is not supported (Ed25519, P-256 only)`,
  );
}

/** The did:key for an Ed25519 or P-256 public JWK (its Multikey, src/crypto/multikey.ts). */
export function didKeyFromJwk(jwk: JWK): string {
  const supported = (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') || (jwk.kty === 'EC' && jwk.crv === 'P-256');
  if (!supported) throw new DidResolutionError('did:key supports Ed25519 and P-256 only');
  return `did:key:${publicKeyMultibase(jwk)}`;
}

/**
 * The did:jwk of a public key: base64url of the JSON of its public members (src/crypto/jwk.ts
 * `publicJwk`, fixed order), so one key always gets one DID and no private member can leak into it.
 */
export function didJwkFromJwk(jwk: JWK): string {
  return `did:jwk:${Buffer.from(JSON.stringify(publicJwk(jwk)), 'utf8').toString('base64url')}`;
}

/** The public JWK of a did:jwk. */
export function resolveDidJwk(did: string): JWK {
  let jwk: unknown;
  try {
    jwk = JSON.parse(Buffer.from(did.slice('did:jwk:'.length), 'base64url').toString('utf8'));
  } catch {
    throw new DidResolutionError('did:jwk is not base64url-encoded JSON');
  }
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk))
    throw new DidResolutionError('did:jwk must encode a JWK object');
  return jwk as JWK;
}

export interface ResolvedDidKey {
  /** The DID without fragment. */
  did: string;
  jwk: JWK;
}

/**
 * Resolves a DID URL from a proof's `kid`. For did:key the fragment must be the key itself (or
 * absent); for did:jwk it must be `#0` (or absent). Other methods are refused: we never fetch.
 */
export function resolveKid(kid: string): ResolvedDidKey {
  const hash = kid.indexOf('#');
  const did = hash === -1 ? kid : kid.slice(0, hash);
  const fragment = hash === -1 ? undefined : kid.slice(hash + 1);
  if (did.startsWith('did:key:')) {
    if (fragment !== undefined && fragment !== did.slice('did:key:'.length)) {
      throw new DidResolutionError('did:key fragment must repeat the key');
    }
    return { did, jwk: resolveDidKey(did) };
  }
  if (did.startsWith('did:jwk:')) {
    if (fragment !== undefined && fragment !== '0')
      throw new DidResolutionError('did:jwk fragment must be #0');
    return { did, jwk: resolveDidJwk(did) };
  }
  throw new DidResolutionError('kid must be a did:key or did:jwk DID URL');
}
