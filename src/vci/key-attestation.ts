import { X509Certificate } from 'node:crypto';
import {
  decodeProtectedHeader,
  importJWK,
  type JWK,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
  type ProtectedHeaderParameters,
} from 'jose';
import {
  type CanonicalKey,
  canonicalPublicKey,
  hasPrivateMembers,
  NonCanonicalKey,
  publicJwk,
} from '../crypto/jwk.ts';
import { x5cLeafKey } from '../crypto/x5c.ts';
import { InvalidProof } from '../errors.ts';

/**
 * Key attestations (OpenID4VCI 1.0 Appendix D,
 * https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html#appendix-D): a JWT
 * from the wallet provider or key storage vouching for the keys a credential will be bound to, and
 * how well they are protected. Accepted in a `jwt` proof's `key_attestation` header and as the
 * `attestation` proof type. Every failure is `invalid_proof` (SECURITY.md row 25).
 */

export const KEY_ATTESTATION_TYPES = ['key-attestation+jwt', 'keyattestation+jwt'];
const ASYMMETRIC = ['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'PS256', 'RS256'];
/** The `attestation` proof type's proof_signing_alg_values_supported (metadata and check alike). */
export const ATTESTATION_PROOF_ALGS: readonly string[] = ['ES256', 'ES384', 'EdDSA'];

export interface KeyAttestationTrust {
  /** Attestation issuers trusted by `kid` (public JWKs with `kid`). */
  jwks: JWK[];
  /** Trust anchors for `x5c` chains (the anchor itself is not expected in the chain). */
  caCertificates: X509Certificate[];
}

/** What a configuration demands (`key_attestations_required`): any one listed level must be attested. */
export interface KeyAttestationRequirement {
  key_storage?: string[];
  user_authentication?: string[];
}

/**
 * The requirement that applies to a configuration: its own `key_attestations_required`, else the
 * issuer-wide one (config vci.keyAttestationsRequired, null: none). Read by the metadata and the
 * proof checks alike, so what is advertised is what is enforced.
 */
export const keyAttestationRequirement = (
  own: KeyAttestationRequirement | undefined,
  issuerWide: KeyAttestationRequirement | null | undefined,
): KeyAttestationRequirement | undefined => own ?? issuerWide ?? undefined;

export interface VerifiedKeyAttestation {
  attestedKeys: JWK[];
  thumbprints: string[];
  nonce?: string;
}

export function parseTrust(jwks: unknown[], caPems: string[]): KeyAttestationTrust {
  return {
    jwks: jwks as JWK[],
    caCertificates: caPems.map((pem) => new X509Certificate(pem)),
  };
}

export const hasTrust = (trust: KeyAttestationTrust) =>
  trust.jwks.length > 0 || trust.caCertificates.length > 0;

function signerKey(header: ProtectedHeaderParameters, trust: KeyAttestationTrust, now: number): JWK {
  if (header.x5c)
    return x5cLeafKey(
      header.x5c,
      trust.caCertificates,
      now,
      'the key attestation',
      (m) => new InvalidProof(m),
    );
  if (typeof header.kid === 'string') {
    const found = trust.jwks.find((k) => k.kid === header.kid);
    if (found) return found;
  }
  throw new InvalidProof('the key attestation issuer is not trusted');
}

function meets(attested: unknown, required: string[] | undefined): boolean {
  if (!required || required.length === 0) return true;
  return Array.isArray(attested) && attested.some((level) => required.includes(level as string));
}

export async function verifyKeyAttestation(
  jwt: unknown,
  options: {
    trust: KeyAttestationTrust;
    now: number;
    clockSkewSeconds: number;
    /** `jwt`: inside a jwt proof (exp required); `attestation`: the proof itself (nonce required). */
    use: 'jwt' | 'attestation';
    requirement?: KeyAttestationRequirement;
    /**
     * Appendix F.1 / F.3: "the `alg` JOSE headers of [...] `key_attestation` [...] MUST match one of
     * the values listed in the `proof_signing_alg_values_supported` metadata parameter".
     */
    algorithms?: readonly string[];
  },
): Promise<VerifiedKeyAttestation> {
  if (typeof jwt !== 'string' || jwt.split('.').length !== 3)
    throw new InvalidProof('the key attestation must be a compact JWS');
  if (!hasTrust(options.trust)) throw new InvalidProof('this issuer trusts no key attestation issuer');
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(jwt);
  } catch {
    throw new InvalidProof('the key attestation header cannot be decoded');
  }
  if (!KEY_ATTESTATION_TYPES.includes(String(header.typ)))
    throw new InvalidProof('the key attestation typ must be key-attestation+jwt');
  if (
    typeof header.alg !== 'string' ||
    !ASYMMETRIC.includes(header.alg) ||
    (options.algorithms !== undefined && !options.algorithms.includes(header.alg))
  )
    throw new InvalidProof('the key attestation alg is not allowed');
  const jwk = signerKey(header, options.trust, options.now);
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(jwt, await importJWK(jwk, header.alg), {
      algorithms: [header.alg],
      currentDate: new Date(options.now),
      clockTolerance: options.clockSkewSeconds,
      requiredClaims: options.use === 'jwt' ? ['iat', 'exp'] : ['iat'],
    }));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw new InvalidProof('the key attestation has expired');
    if (error instanceof joseErrors.JWSSignatureVerificationFailed)
      throw new InvalidProof('the key attestation signature is invalid');
    if (error instanceof joseErrors.JWTClaimValidationFailed)
      throw new InvalidProof(`the key attestation ${error.claim} claim is invalid`);
    throw new InvalidProof('the key attestation cannot be verified');
  }
  const keys = payload.attested_keys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.some((k) => !k || typeof k !== 'object')) {
    throw new InvalidProof('the key attestation must list attested_keys');
  }
  if ((keys as JWK[]).some(hasPrivateMembers)) {
    throw new InvalidProof('attested_keys must be public keys');
  }
  if (options.use === 'attestation' && typeof payload.nonce !== 'string') {
    throw new InvalidProof('a key attestation used as proof must carry the c_nonce');
  }
  if (!meets(payload.key_storage, options.requirement?.key_storage)) {
    throw new InvalidProof('the attested key storage does not meet this credential requirement');
  }
  if (!meets(payload.user_authentication, options.requirement?.user_authentication)) {
    throw new InvalidProof('the attested user authentication does not meet this credential requirement');
  }
  // Keys by value: one key spelled two ways must not count as two keys (src/crypto/jwk.ts).
  const canonical: CanonicalKey[] = (keys as JWK[]).map((k) => {
    try {
      return canonicalPublicKey(k);
    } catch (error) {
      if (error instanceof NonCanonicalKey)
        throw new InvalidProof(`an attested key is not canonically encoded: ${error.message}`);
      throw error;
    }
  });
  const attestedKeys = (keys as JWK[]).map(publicJwk);
  return {
    attestedKeys,
    thumbprints: canonical.map((k) => k.thumbprint),
    ...(typeof payload.nonce === 'string' ? { nonce: payload.nonce } : {}),
  };
}
