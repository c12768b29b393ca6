import { CompactEncrypt, importJWK, type JWK } from 'jose';
import { InvalidEncryptionParameters } from '../errors.ts';
import { ENCRYPTION_ALGS, ENCRYPTION_ENCS } from './metadata.ts';

/**
 * Credential response encryption (OpenID4VCI 1.0 §10,
 * https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html#section-10): the wallet
 * sends `credential_response_encryption: {jwk, enc}` (draft 13 also `alg`); the response becomes a
 * compact JWE (`application/jwt`) whose plaintext is the JSON response. Unsupported or unsafe
 * parameters are `invalid_encryption_parameters`, never a silent plaintext answer (SECURITY.md row 37).
 */
export interface ResponseEncryption {
  key: Awaited<ReturnType<typeof importJWK>>;
  alg: string;
  enc: string;
  kid?: string;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

export async function parseResponseEncryption(
  value: unknown,
  required: boolean,
): Promise<ResponseEncryption | undefined> {
  if (value === undefined || value === null) {
    if (required)
      throw new InvalidEncryptionParameters('this issuer requires credential_response_encryption');
    return undefined;
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidEncryptionParameters('credential_response_encryption must be an object');
  }
  const {
    jwk,
    alg: requestAlg,
    enc,
    zip,
  } = value as { jwk?: unknown; alg?: unknown; enc?: unknown; zip?: unknown };
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk))
    throw new InvalidEncryptionParameters('credential_response_encryption.jwk is required');
  const key = jwk as JWK;
  if (PRIVATE_MEMBERS.some((m) => Object.hasOwn(key, m)) || key.kty === 'oct') {
    throw new InvalidEncryptionParameters('credential_response_encryption.jwk must be a public key');
  }
  if (key.use !== undefined && key.use !== 'enc')
    throw new InvalidEncryptionParameters('credential_response_encryption.jwk must be an encryption key');
  // 1.0 takes `alg` from the JWK; draft 13 sends it beside the JWK.
  const alg = typeof requestAlg === 'string' ? requestAlg : key.alg;
  if (typeof alg !== 'string' || !(ENCRYPTION_ALGS as readonly string[]).includes(alg)) {
    throw new InvalidEncryptionParameters(`the key's alg must be one of ${ENCRYPTION_ALGS.join(', ')}`);
  }
  if (typeof enc !== 'string' || !(ENCRYPTION_ENCS as readonly string[]).includes(enc)) {
    throw new InvalidEncryptionParameters(`enc must be one of ${ENCRYPTION_ENCS.join(', ')}`);
  }
  if (zip !== undefined) throw new InvalidEncryptionParameters('compression (zip) is not supported');
  if (alg === 'ECDH-ES' && !(key.kty === 'EC' || key.kty === 'OKP'))
    throw new InvalidEncryptionParameters('ECDH-ES needs an EC or OKP key');
  if (alg === 'RSA-OAEP-256' && key.kty !== 'RSA')
    throw new InvalidEncryptionParameters('RSA-OAEP-256 needs an RSA key');
  let imported: Awaited<ReturnType<typeof importJWK>>;
  try {
    imported = await importJWK(key, alg);
  } catch {
    throw new InvalidEncryptionParameters('credential_response_encryption.jwk cannot be used');
  }
  return { key: imported, alg, enc, ...(key.kid ? { kid: key.kid } : {}) };
}

export async function encryptResponse(
  body: Record<string, unknown>,
  encryption: ResponseEncryption,
): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(body)))
    .setProtectedHeader({
      alg: encryption.alg,
      enc: encryption.enc,
      ...(encryption.kid ? { kid: encryption.kid } : {}),
    })
    .encrypt(encryption.key);
}
