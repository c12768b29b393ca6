import { InvalidCredentialRequest, UnknownCredentialIdentifier } from '../../errors.ts';
import type { IssuanceOutcome } from '../issuance.ts';
import { type EncodedResponse, encodePending } from './encoding.ts';
import { decodeKeyProofs, refuseProofAndProofs } from './proofs.ts';
import { decodeResponseEncryption } from './response-encryption.ts';
import { field, type WireObject } from './schema.ts';
import type { DecodedCredentialRequest } from './types.ts';

/**
 * OpenID4VCI 1.0 (and drafts 14–15, which already name the credential by
 * credential_configuration_id): the credential request decoder and the response and error encoders.
 * https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html#section-8
 */

const configurationId = field<string>(
  { type: 'string' },
  () => new InvalidCredentialRequest('credential_configuration_id or credential_identifier is required'),
);
// §8.2: an identifier the Token Response never gave is unknown, whatever its JSON type.
const credentialIdentifier = field<string>(
  { type: 'string' },
  () => new UnknownCredentialIdentifier('the credential_identifier is not known for this access token'),
);

/** §8.2. Which configuration a request names, its proofs and its encryption parameters. */
export function decodeCredentialRequest(body: WireObject, batchSize: number): DecodedCredentialRequest {
  refuseProofAndProofs(body);
  if (body.credential_identifier !== undefined) {
    // §8.2: credential_identifier comes from the Token Response's authorization_details, and
    // replaces credential_configuration_id.
    if (body.credential_configuration_id !== undefined || body.format !== undefined) {
      throw new InvalidCredentialRequest(
        'credential_identifier must not be combined with credential_configuration_id or format',
      );
    }
    const identifier = credentialIdentifier(body.credential_identifier);
    return {
      request: {
        kind: 'identifier',
        credentialIdentifier: identifier,
        proofs: decodeKeyProofs(body, batchSize),
      },
      encryption: decodeResponseEncryption(body.credential_response_encryption),
    };
  }
  const id = configurationId(body.credential_configuration_id);
  return {
    request: { kind: 'configuration', configurationId: id, proofs: decodeKeyProofs(body, batchSize) },
    encryption: decodeResponseEncryption(body.credential_response_encryption),
  };
}

/** §8.3 and §9.2: every credential in `credentials`, with the notification_id. */
export async function encodeCredentialResponse(outcome: IssuanceOutcome): Promise<EncodedResponse> {
  if (outcome.kind === 'pending') return encodePending(outcome);
  return {
    status: 200,
    body: {
      credentials: outcome.credentials.map((credential) => ({ credential })),
      notification_id: outcome.notificationId,
    },
  };
}

/** §8.3.1.2: the core's errors are 1.0's codes already. */
export async function encodeError(error: unknown): Promise<unknown> {
  return error;
}
