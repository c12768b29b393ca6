import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
  scrypt,
  timingSafeEqual,
} from 'node:crypto';
import { sha256Base64url, sha256 as sha256Bytes } from '../crypto/hash.ts';

/**
 * Cryptographic helpers of the KYC module: keys derived from `keys.encryptionSecret`, sealed
 * (AES-256-GCM) records, keyed hashes of individual IDs, pairwise subjects and slow secret hashes.
 * No key material leaves this file except as derived `Buffer`s held by the callers.
 */

/** Derives a 256-bit purpose-specific key (HKDF-SHA256, RFC 5869) from the configured secret. */
export function deriveKey(secret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'idissuer-kyc-v1', purpose, 32));
}

const keyIds = new WeakMap<Buffer, string>();

/**
 * A short public fingerprint of a key, stored with each sealed record so a key change is detected.
 * Memoized per key Buffer (callers derive their keys once and keep them): every open() checks it.
 * Keys are never mutated in place, and the fingerprint is public.
 */
export function keyId(key: Buffer): string {
  let id = keyIds.get(key);
  if (id === undefined) {
    id = `kyc-${sha256Base64url(key).slice(0, 10)}`;
    keyIds.set(key, id);
  }
  return id;
}

const keyObjects = new WeakMap<Buffer, KeyObject>();

/**
 * The key as a KeyObject, made once per key Buffer: node:crypto re-imports a Buffer key on every
 * createHmac / createCipheriv call (~10 µs each here, against ~2.5 µs for a whole HMAC with a
 * KeyObject). Same assumption as keyId: keys are never mutated in place.
 */
function keyObject(key: Buffer): KeyObject {
  let object = keyObjects.get(key);
  if (object === undefined) {
    object = createSecretKey(key);
    keyObjects.set(key, object);
  }
  return object;
}

/** SHA-256, base64url: how KYC stores key tokens, captures and individual IDs (src/crypto/hash.ts). */
export { sha256Base64url as sha256 };

export const hmac = (key: Buffer, value: string): string =>
  createHmac('sha256', keyObject(key)).update(value).digest('base64url');

/** Constant-time equality of two strings (compared as SHA-256 digests, so lengths never leak). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256Bytes(a), sha256Bytes(b));
}

/** Sealed JSON: AES-256-GCM with a fresh 96-bit IV per record; `aad` binds it to its record id. */
export interface Sealed {
  kid: string;
  iv: string;
  tag: string;
  ct: string;
}

export class SealedRecordError extends Error {
  override name = 'SealedRecordError';
}

export function seal(key: Buffer, value: unknown, aad: string): Sealed {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyObject(key), iv);
  cipher.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return {
    kid: keyId(key),
    iv: iv.toString('base64url'),
    tag: cipher.getAuthTag().toString('base64url'),
    ct: ct.toString('base64url'),
  };
}

/** Opens a sealed record; a wrong key, a moved or a tampered record throws SealedRecordError. */
export function open<T>(key: Buffer, sealed: Sealed, aad: string): T {
  if (sealed.kid !== keyId(key)) throw new SealedRecordError(`record sealed under unknown key ${sealed.kid}`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyObject(key), Buffer.from(sealed.iv, 'base64url'));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64url'));
    const plain = Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64url')), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as T;
  } catch (error) {
    throw new SealedRecordError('record failed authentication (tampered or corrupt)', { cause: error });
  }
}

/**
 * OIDC Core §8.1 pairwise subject: base64url(SHA-256(sector | accountId | salt)). The same person
 * gets a different, stable `sub` at each sector, and relying parties cannot correlate them.
 * https://openid.net/specs/openid-connect-core-1_0.html#PairwiseAlg
 */
export function pairwiseSubject(sector: string, accountId: string, salt: string): string {
  return sha256Base64url(`${sector}|${accountId}|${salt}`);
}

/** Individual IDs are compared after trimming and dropping spaces and dashes people type. */
export const normalizeIndividualId = (individualId: string): string =>
  individualId
    .normalize('NFKC')
    .replace(/[\s-]+/g, '')
    .toUpperCase();

const SCRYPT_R = 8;
const SCRYPT_P = 1;

function scryptAsync(secret: string, salt: Buffer, cost: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      secret.normalize('NFKC'),
      salt,
      32,
      { N: cost, r: SCRYPT_R, p: SCRYPT_P, maxmem: 256 * cost * SCRYPT_R },
      (error, key) => (error ? reject(error) : resolve(key)),
    ),
  );
}

/** A slow, salted hash for a PIN or password: `scrypt$N$r$p$salt$hash`. */
export async function hashSecret(secret: string, cost: number): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(secret, salt, cost);
  return ['scrypt', cost, SCRYPT_R, SCRYPT_P, salt.toString('base64url'), hash.toString('base64url')].join(
    '$',
  );
}

/**
 * Verifies a secret against a stored hash in constant time. Callers without a stored hash (unknown
 * individual) pass a dummy hash of the same cost, so both paths take the same time.
 */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, cost, , , salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !cost || !salt || !hash) return false;
  const computed = await scryptAsync(secret, Buffer.from(salt, 'base64url'), Number(cost));
  const expected = Buffer.from(hash, 'base64url');
  return expected.length === computed.length && timingSafeEqual(expected, computed);
}
