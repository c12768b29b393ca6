import type { ConfigurationRegistry } from '../../credentials/configurations/registry.ts';
import { AppError, InvalidCredentialRequest, InvalidNonce, InvalidProof } from '../../errors.ts';
import type { IssuanceOutcome } from '../issuance.ts';
import type { Nonces } from '../nonces.ts';
import { type EncodedResponse, encodePending } from './encoding.ts';
import { decodeKeyProofs, refuseProofAndProofs } from './proofs.ts';
import { decodeResponseEncryption } from './response-encryption.ts';
import { field, fits, isString, type WireObject } from './schema.ts';
import type { DecodedCredentialRequest } from './types.ts';

/**
 * OpenID4VCI draft 13, for wallets that have not moved to 1.0: the credential is named by `format`
 * plus its type (`credential_definition.type`, `vct` or `doctype`), the answer is one `credential`
 * with a fresh `c_nonce`, and nonce problems are `invalid_proof` carrying a c_nonce.
 * https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0-13.html#section-7
 */

/** Draft 13 §7.3.1 error codes, for draft-13 requests only. */
const UnsupportedCredentialType = (description: string) =>
  new AppError(400, 'unsupported_credential_type', description);
const UnsupportedCredentialFormat = (description: string) =>
  new AppError(400, 'unsupported_credential_format', description);

/** What resolving a draft-13 description needs: the offered configurations and the token's. */
export interface Draft13Context {
  readonly batchSize: number;
  readonly registry: Pick<ConfigurationRegistry, 'findByFormat' | 'list'>;
  readonly grantedConfigurationIds: readonly string[];
}

const format = field<string>(
  { type: 'string' },
  () => new InvalidCredentialRequest('format must be a string'),
);
// §7.2 and Appendix A: the type is a hint to match on; a member of the wrong JSON type is no hint.
const definitionWithTypes = fits<{ type: unknown[] }>({
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'array' } },
});

/** The configuration a draft-13 request describes by format and type, among those the token covers. */
function configurationFor(body: WireObject, context: Draft13Context): string {
  const requested = format(body.format);
  const definition = body.credential_definition;
  const types = definitionWithTypes(definition) ? definition.type.filter(isString) : undefined;
  const candidates = context.registry.findByFormat(requested, {
    ...(types ? { types } : {}),
    ...(isString(body.vct) ? { vct: body.vct } : {}),
    ...(isString(body.doctype) ? { doctype: body.doctype } : {}),
  });
  if (candidates.length === 0) {
    const offered = requested === 'vc+sd-jwt' ? 'dc+sd-jwt' : requested;
    if (context.registry.list().every((c) => c.format !== offered)) {
      throw UnsupportedCredentialFormat('this credential format is not supported');
    }
    throw UnsupportedCredentialType('no credential of this type is offered in this format');
  }
  const granted = candidates.find((c) => context.grantedConfigurationIds.includes(c.id));
  if (!granted) throw UnsupportedCredentialType('the access token does not cover this credential');
  return granted.id;
}

/** §7.2: the description resolved to the configuration it names, its proof and encryption parameters. */
export function decodeCredentialRequest(body: WireObject, context: Draft13Context): DecodedCredentialRequest {
  refuseProofAndProofs(body);
  if (body.credential_identifier !== undefined) {
    throw new InvalidCredentialRequest(
      'credential_identifier must not be combined with credential_configuration_id or format',
    );
  }
  const configurationId = configurationFor(body, context);
  return {
    request: {
      kind: 'configuration',
      configurationId,
      proofs: decodeKeyProofs(body, context.batchSize),
    },
    encryption: decodeResponseEncryption(body.credential_response_encryption),
  };
}

/** The draft-13 encoders need a fresh c_nonce for each answer: the nonce endpoint is 1.0's. */
export function createDraft13Encoder(nonces: Pick<Nonces, 'issue'>) {
  return {
    /** §7.3 and §9.2: one `credential` at the top level, with a fresh c_nonce to prove the next key. */
    async encodeCredentialResponse(outcome: IssuanceOutcome): Promise<EncodedResponse> {
      if (outcome.kind === 'pending') return encodePending(outcome);
      const { nonce, expiresInSeconds } = await nonces.issue();
      return {
        status: 200,
        body: {
          credential: outcome.credentials[0],
          c_nonce: nonce,
          c_nonce_expires_in: expiresInSeconds,
          notification_id: outcome.notificationId,
        },
      };
    },

    /** §7.3.2: a nonce problem is `invalid_proof` carrying a fresh c_nonce to retry with. */
    async encodeError(error: unknown): Promise<unknown> {
      if (!(error instanceof InvalidNonce || error instanceof InvalidProof)) return error;
      const { nonce, expiresInSeconds } = await nonces.issue();
      return new InvalidProof(error.description, {
        extra: { c_nonce: nonce, c_nonce_expires_in: expiresInSeconds },
      });
    },
  };
}
