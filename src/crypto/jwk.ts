import type { JWK } from 'jose';
import { sha256Base64url } from './hash.ts';

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

/**
 * The members that make a JWK private (or secret): a key holding any of them is refused wherever a
 * public key is expected (proof keys, attested keys, response encryption keys, client `jwks`).
 * - RFC 7518 §6.2.2: EC `d`; §6.3.2: RSA `d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`; §6.4.1: `oct` `k`
 *   (a symmetric key is secret as a whole);
 * - RFC 8037 §2: OKP `d`;
 * - `priv`: the private key of the AKP key type (ML-DSA, draft-ietf-cose-dilithium §5,
 *   https://datatracker.ietf.org/doc/draft-ietf-cose-dilithium/), not in RFC 7517/8037 but a
 *   private key all the same. Client `jwks` already refused it; it is refused everywhere now.
 * RFC 7517 §4 lets a JWK carry members beyond these, so the check is by name, own members only.
 */
export const PRIVATE_MEMBERS: readonly string[] = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];

/** Whether `jwk` has any private member (PRIVATE_MEMBERS) of its own. */
export const hasPrivateMembers = (jwk: object): boolean => PRIVATE_MEMBERS.some((m) => Object.hasOwn(jwk, m));

/**
 * The public key members of a JWK (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2) in a fixed order (kty,
 * crv, x, y, n, e), absent ones left out: what goes into a credential's holder binding.
 */
export function publicJwk(jwk: JWK): JWK {
  const { kty, crv, x, y, n, e } = jwk;
  return Object.fromEntries(
    Object.entries({ kty, crv, x, y, n, e }).filter(([, v]) => v !== undefined),
  ) as JWK;
}

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
  const thumbprint = sha256Base64url(JSON.stringify(members));
  return { jwk: members as JWK, thumbprint, ...(modulusBits !== undefined ? { modulusBits } : {}) };
}
