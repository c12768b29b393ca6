import { InvalidTransactionId } from '../../errors.ts';
import { decodeResponseEncryption } from './response-encryption.ts';
import { field, type WireObject } from './schema.ts';
import type { DeferredCredentialRequest } from './types.ts';

/**
 * The deferred credential request: OpenID4VCI 1.0 §9.1 and draft 13 §9.1 have one shape
 * (`transaction_id`, and in 1.0 `credential_response_encryption`), so one decoder serves both; the
 * version of a transaction is the one of the credential request that started it, recorded with it.
 * https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html#section-9.1
 */
const transactionId = field<string>(
  { type: 'string', maxLength: 200 },
  () => new InvalidTransactionId('transaction_id is invalid'),
);

export function decodeDeferredCredentialRequest(body: WireObject): DeferredCredentialRequest {
  const encryption = decodeResponseEncryption(body.credential_response_encryption);
  return { transactionId: transactionId(body.transaction_id), encryption };
}
