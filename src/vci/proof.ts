import { verify as cryptoVerify, X509Certificate } from 'node:crypto';
import {
  decodeProtectedHeader,
  importJWK,
  type JWK,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
  type ProtectedHeaderParameters,
} from 'jose';
import { DidResolutionError, resolveKid } from '../crypto/did.ts';
import { es256Verify, PublicKeyCache } from '../crypto/ecdsa.ts';
import { canonicalPublicKey, hasPrivateMembers, NonCanonicalKey, publicJwk } from '../crypto/jwk.ts';
import { InvalidNonce, InvalidProof } from '../errors.ts';
import {
  type KeyAttestationRequirement,
  type KeyAttestationTrust,
  type VerifiedKeyAttestation,
  verifyKeyAttestation,
} from './key-attestation.ts';

/**
 * Key proof validation for the `jwt` proof type, OpenID4VCI 1.0 Appendix F.1 and F.4
 * (https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html#appendix-F.4).
 * Pure: the caller consumes the nonce (once per request, atomically) after every proof passed.
 */

export const PROOF_TYP = 'openid4vci-proof+jwt';

export interface ProofExpectations {
  /** The Credential Issuer Identifier: the only accepted `aud`. */
  issuer: string;
  /** The access token's client; when set, a present `iss` must equal it (F.1: "iss ... client_id"). */
  clientId?: string;
  /** Accepted JWS algorithms (the configuration's proof_signing_alg_values_supported). */
  algorithms: readonly string[];
  /** The configuration's binding methods (`did:key`, `did:jwk`, `jwk`). */
  bindingMethods: readonly string[];
  /** Epoch ms. */
  now: number;
  maxAgeSeconds: number;
  clockSkewSeconds: number;
  /** Trusted key attestation issuers; a `key_attestation` header is verified against them. */
  keyAttestationTrust?: KeyAttestationTrust;
  /** Set when the configuration requires a key attestation (`key_attestations_required`). */
  keyAttestationRequired?: KeyAttestationRequirement;
  /**
   * Whether the access token's client opted into `proof_kid_with_jwk` (src/oidc/clients.ts): asked
   * only when a header carries both `kid` and `jwk`, so a compliant proof costs no lookup.
   */
  kidWithJwkAllowed?: () => Promise<boolean>;
}

export interface VerifiedProof {
  jwk: JWK;
  /** The DID of a `kid` proof, without fragment. */
  did?: string;
  /** RFC 7638 thumbprint of the proof key (what the ledger keeps). */
  thumbprint: string;
  /** The `nonce` claim (checked against the store by the caller). */
  nonce: string;
  /**
   * The keys of a `key_attestation` header, the proof key among them: Appendix F.1, "The
   * Credential Issuer SHOULD issue a Credential for each cryptographic public key specified in the
   * attested_keys claim within the key_attestation parameter".
   */
  attested?: { jwk: JWK; thumbprint: string }[];
}

/** A `kid` that indexes attested_keys: a non-negative decimal integer ("0", "1", ...). */
const ATTESTED_KEY_INDEX = /^(0|[1-9][0-9]{0,3})$/;

/**
 * The proof key named by `kid` as an index into the key attestation's attested_keys (OpenID4VCI
 * 1.0 Appendix F.1, whose example carries `"kid": "0"` beside `key_attestation`; the EUDI wallet
 * library signs with attested_keys[0] and sends exactly that header). A DID URL `kid` keeps its
 * meaning; `jwk` and `x5c` still exclude `kid`.
 */
function attestedKeyFromHeader(
  header: ProtectedHeaderParameters,
  attested: VerifiedKeyAttestation | undefined,
  bindingMethods: readonly string[],
): { jwk: JWK; did?: string } | undefined {
  if (!attested || typeof header.kid !== 'string' || header.kid.startsWith('did:')) return undefined;
  if (header.jwk !== undefined || header.x5c !== undefined) return undefined;
  const index = ATTESTED_KEY_INDEX.test(header.kid) ? Number(header.kid) : -1;
  const jwk = attested.attestedKeys[index];
  if (!jwk) throw new InvalidProof('the proof kid must be an index into the key attestation attested_keys');
  if (!bindingMethods.includes('jwk'))
    throw new InvalidProof('jwk holder binding is not supported for this credential');
  return { jwk };
}

function keyFromHeader(
  header: ProtectedHeaderParameters,
  bindingMethods: readonly string[],
): { jwk: JWK; did?: string } {
  const carriers = [header.kid !== undefined, header.jwk !== undefined, header.x5c !== undefined].filter(
    Boolean,
  ).length;
  // F.1: "the kid, jwk and x5c (...) header parameters (...) MUST NOT be present at the same time" (one key).
  if (carriers === 0) throw new InvalidProof('the proof header must carry the key as kid, jwk or x5c');
  if (carriers > 1) throw new InvalidProof('the proof header must carry exactly one of kid, jwk and x5c');
  if (header.jwk) {
    const jwk = header.jwk as JWK;
    // F.4: the key must not be a private key.
    if (hasPrivateMembers(jwk) || jwk.kty === 'oct') {
      throw new InvalidProof('the proof jwk must be a public asymmetric key');
    }
    if (!bindingMethods.includes('jwk'))
      throw new InvalidProof('jwk holder binding is not supported for this credential');
    return { jwk };
  }
  if (header.x5c) {
    if (!Array.isArray(header.x5c) || typeof header.x5c[0] !== 'string')
      throw new InvalidProof('x5c must be an array of certificates');
    if (!bindingMethods.includes('jwk'))
      throw new InvalidProof('key binding by certificate is not supported for this credential');
    try {
      const cert = new X509Certificate(Buffer.from(header.x5c[0], 'base64'));
      const jwk = cert.publicKey.export({ format: 'jwk' }) as JWK;
      return { jwk };
    } catch {
      throw new InvalidProof('the x5c leaf certificate cannot be parsed');
    }
  }
  const kid = String(header.kid);
  const method = kid.startsWith('did:key:') ? 'did:key' : kid.startsWith('did:jwk:') ? 'did:jwk' : undefined;
  if (!method || !bindingMethods.includes(method)) {
    throw new InvalidProof(
      `kid must be a DID URL of a supported method (${bindingMethods.filter((m) => m.startsWith('did:')).join(', ')})`,
    );
  }
  try {
    const resolved = resolveKid(kid);
    if (hasPrivateMembers(resolved.jwk)) throw new InvalidProof('the DID must hold a public key');
    return resolved;
  } catch (error) {
    if (error instanceof DidResolutionError)
      throw new InvalidProof(`the kid cannot be resolved: ${error.message}`);
    throw error;
  }
}

/**
 * walt.id's wallet signs key proofs with both `kid` (its key id, the JWK thumbprint) and `jwk`
 * (waltid-openid4vc ProofOfPossession.kt JWTProofBuilder), which F.1 forbids ("It MUST NOT be
 * present if jwk or x5c is present"). For a client registered with the `proof_kid_with_jwk`
 * leniency, a `kid` that is not a DID URL is ignored and the proof's key is its `jwk`; a DID URL
 * `kid` beside a `jwk` names two keys and stays refused, as does everything for other clients.
 */
async function withoutWaltIdKid(
  header: ProtectedHeaderParameters,
  expect: ProofExpectations,
): Promise<ProtectedHeaderParameters> {
  if (header.kid === undefined || header.jwk === undefined || header.x5c !== undefined) return header;
  if (typeof header.kid !== 'string' || header.kid.startsWith('did:')) return header;
  if (!(await expect.kidWithJwkAllowed?.())) return header;
  const { kid: _ignored, ...rest } = header;
  return rest;
}

/** Validates one proof JWT; throws InvalidProof or InvalidNonce naming what failed. */
export async function verifyProofJwt(jwt: unknown, expect: ProofExpectations): Promise<VerifiedProof> {
  if (typeof jwt !== 'string' || jwt.split('.').length !== 3)
    throw new InvalidProof('the proof must be a compact JWS');
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(jwt);
  } catch {
    throw new InvalidProof('the proof header cannot be decoded');
  }
  if (header.typ !== PROOF_TYP) throw new InvalidProof(`the proof typ must be ${PROOF_TYP}`);
  if (typeof header.alg !== 'string' || !expect.algorithms.includes(header.alg)) {
    throw new InvalidProof(`the proof alg must be one of ${expect.algorithms.join(', ')}`);
  }
  // Appendix D / F.1: a key attestation in the header is verified first, since its attested_keys
  // may hold the proof key itself (`kid` as an index).
  const attestation = (header as { key_attestation?: unknown }).key_attestation;
  const attested =
    attestation === undefined
      ? undefined
      : await verifyKeyAttestation(attestation, {
          trust: expect.keyAttestationTrust ?? { jwks: [], caCertificates: [] },
          now: expect.now,
          clockSkewSeconds: expect.clockSkewSeconds,
          use: 'jwt',
          algorithms: expect.algorithms,
          ...(expect.keyAttestationRequired ? { requirement: expect.keyAttestationRequired } : {}),
        });
  if (!attested && expect.keyAttestationRequired)
    throw new InvalidProof('this credential requires a key attestation');
  const { jwk, did } =
    attestedKeyFromHeader(header, attested, expect.bindingMethods) ??
    keyFromHeader(await withoutWaltIdKid(header, expect), expect.bindingMethods);
  // Keys are compared by value (the distinct keys of a batch, the ledger's thumbprint): only the
  // canonical spelling of a key is accepted (src/crypto/jwk.ts; RFC 7638 §3, RFC 7518 §2, §6.2.1).
  let thumbprint: string;
  try {
    thumbprint = canonicalPublicKey(jwk).thumbprint;
  } catch (error) {
    if (error instanceof NonCanonicalKey)
      throw new InvalidProof(`the proof key is not canonically encoded: ${error.message}`);
    throw error;
  }

  let payload: JWTPayload | undefined = fastVerify(jwt, header, jwk, expect);
  if (payload === undefined) {
    payload = await joseVerify(jwt, header.alg, jwk, expect);
  }

  const nowSeconds = expect.now / 1000;
  if (typeof payload.iat !== 'number') throw new InvalidProof('the proof must have an iat claim');
  if (payload.iat > nowSeconds + expect.clockSkewSeconds)
    throw new InvalidProof('the proof iat is in the future');
  if (payload.iat < nowSeconds - expect.maxAgeSeconds) throw new InvalidProof('the proof iat is too old');
  if (payload.iss !== undefined && expect.clientId !== undefined && payload.iss !== expect.clientId) {
    throw new InvalidProof('the proof iss must be the client_id of the access token');
  }
  // §7.2 / F.4: a c_nonce from the nonce endpoint must be in the proof; a missing or unknown one is
  // `invalid_nonce`, so the wallet fetches a new nonce and retries (§8.3.1.2).
  if (typeof payload.nonce !== 'string' || payload.nonce.length === 0)
    throw new InvalidNonce('the proof must carry a c_nonce from the nonce endpoint');
  // Appendix D / F.1: the key attestation must cover the proof key and, when it carries a nonce,
  // carry this c_nonce.
  if (attested) {
    if (!attested.thumbprints.includes(thumbprint))
      throw new InvalidProof('the key attestation does not attest the proof key');
    if (attested.nonce !== undefined && attested.nonce !== payload.nonce) {
      throw new InvalidProof('the key attestation nonce is not the c_nonce of the proof');
    }
  }
  return {
    jwk: publicJwk(jwk),
    ...(did ? { did } : {}),
    thumbprint,
    nonce: payload.nonce,
    ...(attested
      ? { attested: attested.attestedKeys.map((k, i) => ({ jwk: k, thumbprint: attested.thumbprints[i]! })) }
      : {}),
  };
}

/** The full jose verification; its errors are what the wallet sees (mapped to invalid_proof). */
async function joseVerify(
  jwt: string,
  alg: string,
  jwk: JWK,
  expect: ProofExpectations,
): Promise<JWTPayload> {
  try {
    const key = await importJWK(jwk, alg);
    const { payload } = await jwtVerify(jwt, key, {
      typ: PROOF_TYP,
      algorithms: [alg],
      audience: expect.issuer,
      currentDate: new Date(expect.now),
      clockTolerance: expect.clockSkewSeconds,
    });
    return payload;
  } catch (error) {
    if (error instanceof joseErrors.JWTClaimValidationFailed) {
      throw new InvalidProof(
        error.claim === 'aud'
          ? 'the proof aud must be the credential issuer identifier'
          : `the proof ${error.claim} claim is invalid`,
      );
    }
    if (error instanceof joseErrors.JWSSignatureVerificationFailed)
      throw new InvalidProof('the proof signature is invalid');
    if (error instanceof joseErrors.JOSEError) throw new InvalidProof(`the proof is invalid (${error.code})`);
    throw new InvalidProof('the proof key cannot be used with its alg');
  }
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;
/** Proof keys imported once (the fast path only sees canonical JWKs: verifyProofJwt checks first). */
const proofKeys = new PublicKeyCache();
const JWK_MEMBERS = new Set(['kty', 'crv', 'x', 'y', 'kid', 'alg', 'use']);
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The synchronous fast path of the proof check: one node:crypto verify instead of jose's WebCrypto
 * import + verify (two thread-pool jobs per proof, ~10% of a credential request's CPU). It only
 * ACCEPTS, and only proofs jose would accept with the same result: any doubt returns undefined and
 * the caller runs jose, so every rejection (and its error text) still comes from jose. Guards:
 * - alg/key pairs ES256 + EC P-256 and EdDSA + OKP Ed25519 only (jose maps alg to key the same way);
 * - a JWK with only the members jose ignores here (no key_ops/ext, which WebCrypto import checks;
 *   a JWK `alg` must equal the header's and a `use` be `sig`, as jose requires);
 * - no `crit` or `b64` in the header (jose's extension and unencoded-payload handling);
 * - segments in strict base64url without an impossible length (Buffer decoding is lenient where
 *   jose's decoding throws), a 64-byte signature, a payload in strict UTF-8 that is a JSON object;
 * - claims: the same checks and tolerance as jose's validateClaimsSet for the options joseVerify
 *   passes (aud presence and match, numeric iat/nbf/exp, nbf and exp against now ± tolerance).
 */
function fastVerify(
  jwt: string,
  header: ProtectedHeaderParameters,
  jwk: JWK,
  expect: ProofExpectations,
): JWTPayload | undefined {
  const alg = header.alg;
  const ec = alg === 'ES256' && jwk.kty === 'EC' && jwk.crv === 'P-256';
  const ed = alg === 'EdDSA' && jwk.kty === 'OKP' && jwk.crv === 'Ed25519';
  if (!ec && !ed) return undefined;
  for (const member of Object.keys(jwk)) if (!JWK_MEMBERS.has(member)) return undefined;
  if (jwk.alg !== undefined && jwk.alg !== alg) return undefined;
  if (jwk.use !== undefined && jwk.use !== 'sig') return undefined;
  if (Object.hasOwn(header, 'crit') || Object.hasOwn(header, 'b64')) return undefined;
  const tolerance = expect.clockSkewSeconds;
  if (!Number.isFinite(tolerance) || tolerance < 0) return undefined;
  const dot1 = jwt.indexOf('.');
  const dot2 = jwt.indexOf('.', dot1 + 1);
  const encodedPayload = jwt.slice(dot1 + 1, dot2);
  const encodedSignature = jwt.slice(dot2 + 1);
  for (const segment of [jwt.slice(0, dot1), encodedPayload, encodedSignature]) {
    if (segment.length % 4 === 1 || !BASE64URL.test(segment)) return undefined;
  }
  const signature = Buffer.from(encodedSignature, 'base64url');
  if (signature.length !== 64) return undefined;
  try {
    const key = proofKeys.get(jwk);
    const input = Buffer.from(jwt.slice(0, dot2), 'ascii');
    const valid = ec ? es256Verify(key, input, signature) : cryptoVerify(null, input, key, signature);
    if (!valid) return undefined;
  } catch {
    return undefined;
  }
  let payload: unknown;
  try {
    payload = JSON.parse(strictUtf8.decode(Buffer.from(encodedPayload, 'base64url')));
  } catch {
    return undefined;
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const claims = payload as JWTPayload;
  const aud = claims.aud;
  if (!(aud === expect.issuer || (Array.isArray(aud) && aud.includes(expect.issuer)))) return undefined;
  const now = Math.floor(expect.now / 1000);
  if (claims.iat !== undefined && typeof claims.iat !== 'number') return undefined;
  if (claims.nbf !== undefined && !(typeof claims.nbf === 'number' && claims.nbf <= now + tolerance))
    return undefined;
  if (claims.exp !== undefined && !(typeof claims.exp === 'number' && claims.exp > now - tolerance))
    return undefined;
  return claims;
}
