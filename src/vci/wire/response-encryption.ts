import type { JWK } from 'jose';
import { InvalidEncryptionParameters } from '../../errors.ts';
import { ENCRYPTION_ALGS, ENCRYPTION_ENCS } from '../metadata.ts';
import { field, isString, type WireObject } from './schema.ts';
import type { ResponseEncryptionParameters } from './types.ts';

/**
 * `credential_response_encryption` (OpenID4VCI 1.0 §8.2 and §10,
 * https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html#section-10): `{jwk, enc}`,
 * the alg taken from the JWK; draft 13 §7.2 sends `alg` beside the JWK. Both spellings are read in
 * both versions, as before. Unsupported parameters are `invalid_encryption_parameters`, never a
 * silent plaintext answer (SECURITY.md row 37); the key itself is checked by src/vci/encryption.ts.
 */

const encryptionObject = field<WireObject>(
  { type: 'object' },
  () => new InvalidEncryptionParameters('credential_response_encryption must be an object'),
);
const encryptionKey = field<JWK>(
  { type: 'object' },
  () => new InvalidEncryptionParameters('credential_response_encryption.jwk is required'),
);
const supportedAlg = field<string>(
  { enum: [...ENCRYPTION_ALGS] },
  () => new InvalidEncryptionParameters(`the key's alg must be one of ${ENCRYPTION_ALGS.join(', ')}`),
);
const supportedEnc = field<string>(
  { enum: [...ENCRYPTION_ENCS] },
  () => new InvalidEncryptionParameters(`enc must be one of ${ENCRYPTION_ENCS.join(', ')}`),
);

export function decodeResponseEncryption(value: unknown): ResponseEncryptionParameters | undefined {
  if (value === undefined || value === null) return undefined;
  const parameters = encryptionObject(value);
  const jwk = encryptionKey(parameters.jwk);
  const alg = supportedAlg(isString(parameters.alg) ? parameters.alg : jwk.alg);
  const enc = supportedEnc(parameters.enc);
  // §8.2 `zip` asks for compression; we publish no zip_values_supported (§12.2.4: "If absent then
  // compression is not supported"), so the answer is encrypted uncompressed, its JWE header without
  // `zip`, which every JWE reader reads as uncompressed (RFC 7516 §4.1.3). Refusing it failed the OIDF
  // suite's encrypted happy flow (conformance-suite 12f2a4dac6, vci10issuer/VCIIssuerHappyFlow.java:123-144
  // expects 200 for zip=DEF; condition/VCICheckCredentialResponseCompression.java:44-47 accepts no zip
  // when DEF is not advertised). A zip that is not a string is still malformed.
  if (parameters.zip !== undefined && !isString(parameters.zip))
    throw new InvalidEncryptionParameters('credential_response_encryption.zip must be a string');
  return { jwk, alg, enc };
}
