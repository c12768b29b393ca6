import type { JWK } from 'jose';
import type { Clock } from '../clock.ts';
import type { Config } from '../config/defaults.ts';
import type { CredentialDefinition } from '../credentials/configurations/types.ts';
import { InvalidCredentialRequest, InvalidProof } from '../errors.ts';
import {
  ATTESTATION_PROOF_ALGS,
  type KeyAttestationTrust,
  keyAttestationRequirement,
  verifyKeyAttestation,
} from './key-attestation.ts';
import { type VerifiedProof, verifyProofJwt } from './proof.ts';
import type { KeyProofs } from './wire/types.ts';

/**
 * The key proofs of a credential request (OpenID4VCI 1.0 §8.2, Appendix F): verified into the
 * holder keys the credentials are bound to. Spends nothing: the c_nonces they carry are consumed
 * by the issuer once nothing else can refuse the request.
 */

export interface Holder {
  jwk: JWK;
  did?: string;
  thumbprint: string;
}

/** What the proofs of a request established, before anything is spent. */
export interface VerifiedProofs {
  holders: Holder[];
  /** The distinct c_nonce values the proofs carry; consumed once each by `issue`. */
  nonces: string[];
}

export interface HolderProofDeps {
  config: Config;
  clock: Clock;
  /** Trusted key attestation issuers (config vci.keyAttestationTrusted*). */
  keyAttestationTrust: KeyAttestationTrust;
  /** Whether a registered client lists a leniency (src/oidc/clients.ts `hasLeniency`). */
  clientLeniency?: (clientId: string, name: 'proof_kid_with_jwk') => Promise<boolean>;
}

/** Verifies every proof against the configuration's binding; spends nothing. */
export async function verifyHolderProofs(
  binding: CredentialDefinition['binding'],
  proofs: KeyProofs,
  clientId: string | undefined,
  deps: HolderProofDeps,
): Promise<VerifiedProofs> {
  if (!binding || proofs.type === 'none') return { holders: [], nonces: [] };
  const vci = deps.config.vci;
  const now = deps.clock.now();
  // The configuration's own key_attestations_required wins over the issuer-wide switch.
  const required = keyAttestationRequirement(binding.keyAttestationsRequired, vci.keyAttestationsRequired);
  if (proofs.type === 'attestation') {
    // Appendix F.3: the key attestation is the proof; its nonce is the c_nonce; one credential per attested key.
    const attested = await verifyKeyAttestation(proofs.attestation, {
      trust: deps.keyAttestationTrust,
      now,
      clockSkewSeconds: vci.proofClockSkewSeconds,
      use: 'attestation',
      algorithms: ATTESTATION_PROOF_ALGS,
      ...(required ? { requirement: required } : {}),
    });
    if (new Set(attested.thumbprints).size !== attested.thumbprints.length) {
      throw new InvalidProof('attested_keys must be distinct keys');
    }
    if (attested.attestedKeys.length > vci.batchSize)
      throw new InvalidCredentialRequest(`at most ${vci.batchSize} keys per request`);
    return {
      holders: attested.attestedKeys.map((jwk, i) => ({ jwk, thumbprint: attested.thumbprints[i]! })),
      nonces: [attested.nonce!],
    };
  }
  // The leniency belongs to the client the access token was issued to (its registration's
  // `leniencies`); a token without a client (anonymous pre-authorized code redemption, as walt.id's
  // wallet does it) has the deployment's vci.anonymousClientLeniencies. Looked up once, when needed.
  let kidWithJwk: Promise<boolean> | undefined;
  const kidWithJwkAllowed = () => {
    kidWithJwk ??= clientId
      ? (deps.clientLeniency?.(clientId, 'proof_kid_with_jwk') ?? Promise.resolve(false))
      : Promise.resolve(vci.anonymousClientLeniencies.includes('proof_kid_with_jwk'));
    return kidWithJwk;
  };
  const verified: VerifiedProof[] = [];
  for (const jwt of proofs.jwts) {
    verified.push(
      await verifyProofJwt(jwt, {
        issuer: deps.config.resolved.publicUrl,
        ...(clientId ? { clientId } : {}),
        algorithms: binding.proofSigningAlgs,
        bindingMethods: binding.methods,
        now,
        maxAgeSeconds: vci.proofMaxAgeSeconds,
        clockSkewSeconds: vci.proofClockSkewSeconds,
        keyAttestationTrust: deps.keyAttestationTrust,
        ...(required ? { keyAttestationRequired: required } : {}),
        kidWithJwkAllowed,
      }),
    );
  }
  // Batch: one credential per key, each on a distinct key (SECURITY.md row 25); a proof with a key
  // attestation stands for every attested key (Appendix F.1: "SHOULD issue a Credential for each
  // cryptographic public key specified in the attested_keys claim"). Thumbprints are of the
  // canonical key (src/crypto/jwk.ts), so two spellings of one key are one key.
  const holders: Holder[] = verified.flatMap(
    (p) => p.attested ?? [{ jwk: p.jwk, ...(p.did ? { did: p.did } : {}), thumbprint: p.thumbprint }],
  );
  if (new Set(holders.map((k) => k.thumbprint)).size !== holders.length)
    throw new InvalidProof('every proof in a batch must use a distinct key');
  if (holders.length > vci.batchSize)
    throw new InvalidCredentialRequest(`at most ${vci.batchSize} keys per request`);
  return { holders, nonces: [...new Set(verified.map((p) => p.nonce))] };
}
