import { InvalidCredentialRequest, InvalidProof } from '../../errors.ts';
import { field, type WireObject } from './schema.ts';
import type { KeyProofs } from './types.ts';

/**
 * The key proofs of a credential request, for both versions: OpenID4VCI 1.0 §8.2 `proofs` (one
 * proof type, a non-empty array), and the single `proof` object of draft 13 §7.2, which drafts
 * 14–15 still send with a credential_configuration_id (a batch of one).
 * https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html#section-8.2
 */

// Draft 13 §7.2: `proof` is {proof_type: "jwt", jwt}.
const singleProof = field<{ proof_type: 'jwt'; jwt: string }>(
  {
    type: 'object',
    required: ['proof_type', 'jwt'],
    properties: { proof_type: { const: 'jwt' }, jwt: { type: 'string' } },
  },
  () => new InvalidProof('proof must be {proof_type: "jwt", jwt}'),
);

// §8.2: "proofs: ... a JSON object ... MUST contain exactly one parameter named as the proof type".
const proofsObject = field<Record<string, unknown>>(
  { type: 'object', minProperties: 1, maxProperties: 1 },
  () => new InvalidCredentialRequest('proofs must hold exactly one proof type'),
);

const PROOF_TYPES = ['jwt', 'attestation'] as const;

// §8.2: "... whose value is a non-empty array". Compiled once per proof type, at load (an ajv
// compile per request cost ~0.3 ms of CPU in the credential endpoint).
const proofLists = Object.fromEntries(
  PROOF_TYPES.map((type) => [
    type,
    field<unknown[]>(
      { type: 'array', minItems: 1 },
      () => new InvalidCredentialRequest(`proofs.${type} must be a non-empty array`),
    ),
  ]),
) as Record<(typeof PROOF_TYPES)[number], (value: unknown) => unknown[]>;

// Appendix F.1 / F.3: each proof is a compact JWS (checked in full by src/vci/proof.ts).
const jwtList = field<string[]>(
  { type: 'array', items: { type: 'string' } },
  () => new InvalidProof('the proof must be a compact JWS'),
);
const attestationList = field<[string]>(
  { type: 'array', items: { type: 'string' } },
  () => new InvalidProof('the key attestation must be a compact JWS'),
);

export function decodeKeyProofs(body: WireObject, batchSize: number): KeyProofs {
  if (body.proof !== undefined) return { type: 'jwt', jwts: [singleProof(body.proof).jwt] };
  if (body.proofs === undefined) return { type: 'none' };
  const [name, list] = Object.entries(proofsObject(body.proofs))[0]!;
  const type = PROOF_TYPES.find((known) => known === name);
  if (!type) throw new InvalidProof(`proof type ${name} is not supported`);
  const items = proofLists[type](list);
  if (items.length > batchSize) throw new InvalidCredentialRequest(`at most ${batchSize} proofs per request`);
  if (type === 'jwt') return { type: 'jwt', jwts: jwtList(items) };
  // Appendix F.3: the attestation proof type carries exactly one key attestation.
  if (items.length !== 1) throw new InvalidProof('proofs.attestation must hold exactly one key attestation');
  return { type: 'attestation', attestation: attestationList(items)[0] };
}

/** §8.2: `proof` and `proofs` must not both be present. */
export function refuseProofAndProofs(body: WireObject): void {
  if (body.proof !== undefined && body.proofs !== undefined) {
    throw new InvalidCredentialRequest('proof and proofs must not both be present');
  }
}
