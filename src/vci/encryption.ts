import { CompactEncrypt, compactDecrypt, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { canonicalPublicKey, hasPrivateMembers, NonCanonicalKey } from '../crypto/jwk.ts';
import { InvalidCredentialRequest, InvalidEncryptionParameters } from '../errors.ts';
import type { KeyStore, ManagedKey } from '../keys/spi.ts';
import { ENCRYPTION_ENCS } from './metadata.ts';
import type { ResponseEncryptionParameters } from './wire/types.ts';

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

/** Key agreement curves for ECDH-ES (RFC 7518 §4.6, RFC 8037 §3.2) this issuer encrypts to. */
const ECDH_CURVES: Record<string, readonly string[]> = { EC: ['P-256', 'P-384', 'P-521'], OKP: ['X25519'] };
/** RFC 7518 §4.3 / §3.3: RSA keys of 2048 bits or more; beyond 8192 bits only costs CPU. */
const RSA_MIN_BITS = 2048;
const RSA_MAX_BITS = 8192;
/** NIST SP 800-56B Rev. 2 §6.2.1: 65537 ≤ e < 2^256, odd (a small e such as 1 leaks the CEK). */
const RSA_MIN_EXPONENT = 65_537n;

/**
 * Every parameter is checked (here and on the wire, src/vci/wire/response-encryption.ts) before
 * the credential endpoint spends a nonce, allocates a status index or signs anything (issue 10,
 * all or nothing): key type, curve, size and encoding, alg and enc, no private members, and at last
 * one trial encryption with the imported key, so the encryption of the real answer cannot fail on
 * the wallet's parameters.
 */

export async function prepareResponseEncryption(
  parameters: ResponseEncryptionParameters | undefined,
  required: boolean,
): Promise<ResponseEncryption | undefined> {
  if (parameters === undefined) {
    if (required)
      throw new InvalidEncryptionParameters('this issuer requires credential_response_encryption');
    return undefined;
  }
  // The shape, alg, enc and zip were checked on the wire (src/vci/wire/response-encryption.ts).
  const { jwk: key, alg, enc } = parameters;
  if (hasPrivateMembers(key) || key.kty === 'oct') {
    throw new InvalidEncryptionParameters('credential_response_encryption.jwk must be a public key');
  }
  if (key.use !== undefined && key.use !== 'enc')
    throw new InvalidEncryptionParameters('credential_response_encryption.jwk must be an encryption key');
  if (alg === 'ECDH-ES' && !(key.kty === 'EC' || key.kty === 'OKP'))
    throw new InvalidEncryptionParameters('ECDH-ES needs an EC or OKP key');
  if (alg === 'RSA-OAEP-256' && key.kty !== 'RSA')
    throw new InvalidEncryptionParameters('RSA-OAEP-256 needs an RSA key');
  if (alg === 'ECDH-ES' && !ECDH_CURVES[key.kty as string]?.includes(String(key.crv))) {
    throw new InvalidEncryptionParameters('ECDH-ES keys must be on P-256, P-384, P-521 or X25519');
  }
  if (key.kid !== undefined && (typeof key.kid !== 'string' || key.kid.length > 256))
    throw new InvalidEncryptionParameters('credential_response_encryption.jwk kid must be a short string');
  let canonical: ReturnType<typeof canonicalPublicKey>;
  try {
    canonical = canonicalPublicKey(key);
  } catch (error) {
    if (!(error instanceof NonCanonicalKey)) throw error;
    throw new InvalidEncryptionParameters(`credential_response_encryption.jwk: ${error.message}`);
  }
  if (canonical.modulusBits !== undefined) {
    if (canonical.modulusBits < RSA_MIN_BITS || canonical.modulusBits > RSA_MAX_BITS) {
      throw new InvalidEncryptionParameters(
        `RSA keys must have a modulus of ${RSA_MIN_BITS} to ${RSA_MAX_BITS} bits`,
      );
    }
    const e = BigInt(`0x${Buffer.from(key.e as string, 'base64url').toString('hex')}`);
    if (e < RSA_MIN_EXPONENT || e % 2n === 0n || e >= 1n << 256n) {
      throw new InvalidEncryptionParameters('the RSA public exponent must be odd and at least 65537');
    }
  }
  let encryption: ResponseEncryption;
  try {
    encryption = { key: await importJWK(key, alg), alg, enc, ...(key.kid ? { kid: key.kid } : {}) };
    // The trial: whatever the checks above missed (a point off its curve, key_ops) fails now.
    await encryptResponse({}, encryption);
  } catch {
    throw new InvalidEncryptionParameters('credential_response_encryption.jwk cannot be used');
  }
  return encryption;
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

/**
 * Credential request encryption (OpenID4VCI 1.0 §8.2, §9.1 and §10,
 * https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html#section-10): the
 * wallet sends the credential (or deferred credential) request as a JWT inside a compact JWE,
 * `Content-Type: application/jwt`, encrypted to a key of `credential_request_encryption.jwks`.
 * §10: "The JWE `alg` algorithm used MUST be equal to the `alg` value of the chosen JWK. If the
 * selected public key contains a `kid` parameter, the JWE MUST include the same value in the
 * `kid` JWE Header Parameter". Our keys are P-256 ECDH-ES keys of the key store's `encryption`
 * purpose, each with a `kid`; the private keys never leave the key store.
 */
export const REQUEST_ENCRYPTION_ALG = 'ECDH-ES';

/** §12.2.4 `credential_request_encryption.jwks`: the published keys (retired ones too, until unpublished). */
export function requestEncryptionJwks(keys: Pick<KeyStore, 'published'>): JWK[] {
  return keys.published('encryption').map((key) => ({ ...key.publicJwk }));
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Opens an encrypted request: every header parameter is checked before the key is used (the
 * issuer's `kid`, `alg` ECDH-ES, a supported `enc`, no `zip`), then the JWE is decrypted and its
 * plaintext returned (the JSON request, parsed by the caller). Nothing is spent before this.
 * A JWE that names another key, an algorithm we do not take, or fails its tag is
 * `invalid_encryption_parameters` (§8.3.1.2: the request's encryption parameters are invalid);
 * a body that is no compact JWE at all is `invalid_credential_request` (malformed).
 */
export async function decryptRequest(jwe: string, keys: readonly ManagedKey[]): Promise<string> {
  // RFC 7516 §7.1: header.encrypted_key.iv.ciphertext.tag.
  if (jwe.split('.').length !== 5)
    throw new InvalidCredentialRequest('an application/jwt request must be a compact JWE');
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(jwe);
  } catch {
    throw new InvalidEncryptionParameters('the request JWE header cannot be decoded');
  }
  if (header.alg !== REQUEST_ENCRYPTION_ALG)
    throw new InvalidEncryptionParameters(`the request JWE alg must be ${REQUEST_ENCRYPTION_ALG}`);
  const encs: readonly string[] = ENCRYPTION_ENCS;
  if (typeof header.enc !== 'string' || !encs.includes(header.enc))
    throw new InvalidEncryptionParameters(`the request JWE enc must be one of ${encs.join(', ')}`);
  // §12.2.4: no zip_values_supported is published, so no compression is supported.
  if (header.zip !== undefined) throw new InvalidEncryptionParameters('compression (zip) is not supported');
  const key =
    typeof header.kid === 'string'
      ? keys.find((k) => k.kid === header.kid && k.alg === 'ECDH-ES')
      : undefined;
  if (!key) {
    throw new InvalidEncryptionParameters(
      'the request JWE kid must name a key of credential_request_encryption.jwks',
    );
  }
  try {
    const { plaintext } = await compactDecrypt(jwe, key.privateKey, {
      keyManagementAlgorithms: [REQUEST_ENCRYPTION_ALG],
      contentEncryptionAlgorithms: [...encs],
    });
    return strictUtf8.decode(plaintext);
  } catch {
    throw new InvalidEncryptionParameters('the credential request cannot be decrypted');
  }
}
