import { createHash } from 'node:crypto';
import type { JWK } from 'jose';

/**
 * Public keys by value. A JWK spells its key material in base64url, and one key has many spellings
 * that lenient decoders (Buffer, most JOSE libraries) read as the same bytes: a last character with
 * its unused low bits set, `=` padding, a leading zero octet in an RSA integer, a short EC
 * coordinate. Anything that compares keys (the distinct keys of a batch, SECURITY.md row 25; the
 * thumbprint the ledger keeps) must compare the key, so only the one canonical spelling is accepted:
 * - RFC 7515 §2 / RFC 4648 §3.5: base64url without padding, and the unused bits of the last
 *   character are zero (checked by re-encoding the decoded bytes);
 * - RFC 7518 §6.2.1.2–3: an EC coordinate is the full size of a coordinate for the curve;
 * - RFC 8037 §2: an OKP `x` is the curve's public key length;
 * - RFC 7518 §2 (Base64urlUInt, used by `n` and `e`, §6.3.1): the minimum number of octets, so no
 *   leading zero octet.
 * The thumbprint is then RFC 7638 over the required members of that canonical form.
 */

/** Bytes of one EC coordinate per curve. */
const EC_COORDINATE_BYTES: Record<string, number> = { 'P-256': 32, 'P-384': 48, 'P-521': 66, secp256k1: 32 };
/** Bytes of an OKP public key per curve. */
const OKP_KEY_BYTES: Record<string, number> = { Ed25519: 32, Ed448: 57, X25519: 32, X448: 56 };
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Own entries only: `crv: "constructor"` must not find Object.prototype's. */
const sizeFor = (table: Record<string, number>, crv: unknown): number | undefined =>
  typeof crv === 'string' && Object.hasOwn(table, crv) ? table[crv] : undefined;

export class NonCanonicalKey extends Error {
  override name = 'NonCanonicalKey';
}

export interface CanonicalKey {
  /** The RFC 7638 required members only (the public key, nothing else). */
  jwk: JWK;
  /** RFC 7638 SHA-256 thumbprint, base64url. */
  thumbprint: string;
  /** RSA modulus length in bits (RSA keys only). */
  modulusBits?: number;
}

function octets(jwk: Record<string, unknown>, member: string): Buffer {
  const value = jwk[member];
  if (typeof value !== 'string' || !BASE64URL.test(value))
    throw new NonCanonicalKey(`"${member}" must be unpadded base64url`);
  const bytes = Buffer.from(value, 'base64url');
  if (bytes.length === 0 || bytes.toString('base64url') !== value)
    throw new NonCanonicalKey(`"${member}" is not the canonical base64url of its bytes`);
  return bytes;
}

function fixedLength(jwk: Record<string, unknown>, member: string, length: number): void {
  if (octets(jwk, member).length !== length)
    throw new NonCanonicalKey(`"${member}" must be ${length} octets for curve ${String(jwk.crv)}`);
}

function unsignedInteger(jwk: Record<string, unknown>, member: string): Buffer {
  const bytes = octets(jwk, member);
  if (bytes[0] === 0) throw new NonCanonicalKey(`"${member}" must not start with a zero octet`);
  return bytes;
}

/**
 * The canonical public key of a JWK (EC, OKP or RSA), or NonCanonicalKey saying which member is
 * spelled otherwise. Private members are not looked at here: callers refuse them first.
 */
export function canonicalPublicKey(input: unknown): CanonicalKey {
  if (!input || typeof input !== 'object' || Array.isArray(input))
    throw new NonCanonicalKey('the key must be a JWK object');
  const jwk = input as Record<string, unknown>;
  let members: Record<string, string>;
  let modulusBits: number | undefined;
  // RFC 7638 §3.2: the required members, in lexicographic order.
  if (jwk.kty === 'EC') {
    const size = sizeFor(EC_COORDINATE_BYTES, jwk.crv);
    if (!size) throw new NonCanonicalKey('unsupported EC curve');
    fixedLength(jwk, 'x', size);
    fixedLength(jwk, 'y', size);
    members = { crv: jwk.crv as string, kty: 'EC', x: jwk.x as string, y: jwk.y as string };
  } else if (jwk.kty === 'OKP') {
    const size = sizeFor(OKP_KEY_BYTES, jwk.crv);
    if (!size) throw new NonCanonicalKey('unsupported OKP curve');
    fixedLength(jwk, 'x', size);
    members = { crv: jwk.crv as string, kty: 'OKP', x: jwk.x as string };
  } else if (jwk.kty === 'RSA') {
    const n = unsignedInteger(jwk, 'n');
    unsignedInteger(jwk, 'e');
    modulusBits = (n.length - 1) * 8 + (32 - Math.clz32(n[0]!));
    members = { e: jwk.e as string, kty: 'RSA', n: jwk.n as string };
  } else {
    throw new NonCanonicalKey('kty must be EC, OKP or RSA');
  }
  const thumbprint = createHash('sha256').update(JSON.stringify(members), 'utf8').digest('base64url');
  return { jwk: members as JWK, thumbprint, ...(modulusBits !== undefined ? { modulusBits } : {}) };
}
