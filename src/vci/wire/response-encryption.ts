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
  if (parameters.zip !== undefined)
    throw new InvalidEncryptionParameters('compression (zip) is not supported');
  return { jwk, alg, enc };
}
