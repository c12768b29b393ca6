import { hkdfSync, timingSafeEqual, X509Certificate } from 'node:crypto';
import {
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  type JWK,
  type JWTPayload,
  jwtVerify,
  type ProtectedHeaderParameters,
} from 'jose';
import { errors } from 'oidc-provider';
import type { Clock } from '../clock.ts';
import type { Config } from '../config/defaults.ts';
import { hasPrivateMembers } from '../crypto/jwk.ts';
import { x5cLeafKey } from '../crypto/x5c.ts';
import { AppError, InvalidClient } from '../errors.ts';

/**
 * OAuth 2.0 Attestation-Based Client Authentication (draft-ietf-oauth-attestation-based-client-auth,
 * https://datatracker.ietf.org/doc/draft-ietf-oauth-attestation-based-client-auth/): a wallet
 * authenticates with a Client Attestation JWT its wallet provider signed (header
 * `OAuth-Client-Attestation`, `typ` `oauth-client-attestation+jwt`, `sub` the client_id, `cnf.jwk`
 * the wallet instance key) and a Client Attestation PoP JWT that key signed (header
 * `OAuth-Client-Attestation-PoP`, `typ` `oauth-client-attestation-pop+jwt`, `aud` this authorization
 * server, a single-use `jti`, `iat`, the server's `challenge`).
 *
 * oidc-provider (`features.attestClientAuth`, draft 12) checks both at PAR and at the token endpoint
 * for the grants it answers; it asks this module for the attester's key (`attesterKey`) and for the
 * checks it does not make (`assertAttestationClaims`). The pre-authorized code grant, answered in
 * front of the provider (src/oidc/pre-authorized.ts), runs the whole check here
 * (`verifyClientAttestation`), with the same challenge and the provider's replay store.
 * Every failure is `invalid_client` (401), RFC 6749 §5.2.
 */

export const CLIENT_ATTESTATION_HEADER = 'oauth-client-attestation';
export const CLIENT_ATTESTATION_POP_HEADER = 'oauth-client-attestation-pop';
export const ATTESTATION_TYP = 'oauth-client-attestation+jwt';
export const POP_TYP = 'oauth-client-attestation-pop+jwt';
/** The client authentication method's name (draft §13.4, OAuth token endpoint auth method registry). */
export const ATTEST_JWT_CLIENT_AUTH = 'attest_jwt_client_auth';
/** Signing algorithms accepted for both JWTs (HAIP 1.0 and the EUDI wallets: ES256). */
export const CLIENT_ATTESTATION_ALGS = ['ES256'];
/** oidc-provider's challenge derivation: the info string and window (lib/helpers/challenge.js). */
const CHALLENGE_INFO = 'OAuth-Client-Attestation-PoP';
const CHALLENGE_STEP_SECONDS = 60;
/** How far a PoP's `iat` may lie from our clock, in seconds; also how long its `jti` is remembered. */
export const POP_WINDOW_SECONDS = 300;
const MAX_JWT_CHARS = 16_384;

/** Who may sign Client Attestations: wallet providers by `kid`, or `x5c` chains to a CA. */
export interface ClientAttestationTrust {
  readonly jwks: readonly JWK[];
  readonly caCertificates: readonly X509Certificate[];
}

export function clientAttestationTrust(
  jwks: readonly unknown[],
  caPems: readonly string[],
): ClientAttestationTrust {
  return { jwks: jwks as JWK[], caCertificates: caPems.map((pem) => new X509Certificate(pem)) };
}

/** The `challenge` the issuer hands out (its challenge endpoint, `use_attestation_challenge`). */
export interface AttestationChallenges {
  check(challenge: unknown): boolean;
  /** The challenge to hand out now. */
  next(): string;
}

/** The 32-byte secret the provider's challenges are derived from, itself derived from `secret`. */
export const challengeSecret = (secret: string): Buffer =>
  Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'idissuer/oidc/attestation-challenge', 32));

/** The trust anchors configured in `oidc.clientAttestation`. */
export const configuredTrust = (config: Config): ClientAttestationTrust =>
  clientAttestationTrust(
    config.oidc.clientAttestation.trustedJwks,
    config.oidc.clientAttestation.trustedCaPems,
  );

/**
 * oidc-provider's `features.attestClientAuth` hooks: the challenge secret, the attester's key from
 * our trust anchors, and the checks it does not make itself.
 */
export function providerAttestationHooks(config: Config, clock: Clock) {
  const trust = configuredTrust(config);
  return {
    challengeSecret: challengeSecret(config.keys.encryptionSecret),
    getAttestationSignaturePublicKey: async (_ctx: unknown, header: ProtectedHeaderParameters) => {
      if (header.alg !== 'ES256') throw fail('the client attestation alg must be ES256');
      return importJWK(attesterKey(header, trust, clock.now()), 'ES256');
    },
    assertAttestationJwtAndPop: async (
      _ctx: unknown,
      attestation: { payload: JWTPayload },
      pop: { payload: JWTPayload },
    ) => {
      // Called outside the provider's own try (lib/shared/attest_client_auth.js): an error of ours
      // would be its 500 server_error, so the refusal is handed over as the provider's 401.
      try {
        assertAttestationClaims(attestation.payload, pop.payload, clock.now());
      } catch (error) {
        if (error instanceof InvalidClient) throw new errors.InvalidClientAuth(error.description);
        throw error;
      }
    },
  };
}

/**
 * The provider's challenges (HKDF-SHA-256 of the secret over a 60-second step, the steps from two
 * before to two after now), checked with our clock: a challenge from the provider's challenge
 * endpoint is accepted here as it is there.
 */
export function attestationChallenges(secret: Buffer, clock: Clock): AttestationChallenges {
  const at = (step: number) => {
    const salt = Buffer.alloc(8);
    salt.writeBigUInt64BE(BigInt(step));
    return Buffer.from(hkdfSync('sha256', secret, salt, CHALLENGE_INFO, 32)).toString('base64url');
  };
  const step = () => Math.floor(clock.now() / 1000 / CHALLENGE_STEP_SECONDS);
  return {
    next: () => at(step() + 1),
    check(challenge) {
      if (typeof challenge !== 'string') return false;
      const now = step();
      const given = Buffer.from(challenge);
      let matched = false;
      for (let s = now - 2; s <= now + 2; s++) {
        const expected = Buffer.from(at(s));
        if (expected.length === given.length && timingSafeEqual(expected, given)) matched = true;
      }
      return matched;
    },
  };
}

const fail = (description: string) => new InvalidClient(`client authentication failed: ${description}`);

/** The public key of the wallet provider that signed a Client Attestation with this header. */
export function attesterKey(
  header: ProtectedHeaderParameters,
  trust: ClientAttestationTrust,
  now: number,
): JWK {
  if (header.x5c !== undefined)
    return x5cLeafKey(header.x5c, trust.caCertificates, now, 'the client attestation', fail);
  const found = typeof header.kid === 'string' ? trust.jwks.find((k) => k.kid === header.kid) : undefined;
  if (!found) throw fail('the client attestation issuer is not trusted');
  return found;
}

/**
 * What the draft asks beyond oidc-provider's own checks (signature, `typ`, `sub` = client_id,
 * `iat`/`exp`/`cnf`, a public `cnf.jwk`; PoP `aud`/`jti`/`iat`): the attestation names its
 * issuer (`iss`, §5.1), and the PoP is not older than the window (§5.2 freshness).
 */
export function assertAttestationClaims(attestation: JWTPayload, pop: JWTPayload, now: number): void {
  if (typeof attestation.iss !== 'string' || attestation.iss === '')
    throw fail('the client attestation must name its issuer (iss)');
  if (typeof pop.iat !== 'number' || Math.abs(now / 1000 - pop.iat) > POP_WINDOW_SECONDS)
    throw fail('the client attestation PoP iat is not recent enough');
}

export interface AttestationCheck {
  /** The two header values, as sent. */
  readonly attestation: string | undefined;
  readonly pop: string | undefined;
  /** This authorization server's issuer identifier: the PoP's `aud`. */
  readonly audience: string;
  readonly trust: ClientAttestationTrust;
  readonly clockToleranceSeconds: number;
  readonly challenges: AttestationChallenges;
  /** The single-use `jti` (the provider's ReplayDetection, so one PoP serves one request anywhere). */
  unique(clientId: string, jti: string, expiresAt: number): Promise<boolean>;
}

export interface VerifiedClientAttestation {
  readonly clientId: string;
  readonly issuer: string;
  readonly cnfJwk: JWK;
}

/** The `use_attestation_challenge` answer (draft §8) with a fresh challenge in its header. */
export class UseAttestationChallenge extends AppError {
  constructor(challenge: string) {
    super(400, 'use_attestation_challenge', 'a challenge is required in the client attestation PoP', {
      headers: { 'OAuth-Client-Attestation-Challenge': challenge },
    });
    this.name = 'use_attestation_challenge';
  }
}

async function verifySigned(
  jwt: string,
  key: JWK,
  typ: string,
  options: { now: number; tolerance: number; required: string[]; audience?: string },
  what: string,
): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(jwt, await importJWK(key, 'ES256'), {
      algorithms: CLIENT_ATTESTATION_ALGS,
      typ,
      currentDate: new Date(options.now),
      clockTolerance: options.tolerance,
      requiredClaims: options.required,
      ...(options.audience ? { audience: options.audience } : {}),
    });
    return payload;
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (code === 'ERR_JWT_EXPIRED') throw fail(`the ${what} has expired`);
    if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw fail(`the ${what} signature is invalid`);
    if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED')
      throw fail(`the ${what} ${(error as { claim?: string }).claim} claim is missing or invalid`);
    throw fail(`the ${what} cannot be verified (typ, alg or form)`);
  }
}

const headerOf = (jwt: string, what: string): ProtectedHeaderParameters => {
  try {
    return decodeProtectedHeader(jwt);
  } catch {
    throw fail(`the ${what} is not a JWS`);
  }
};

/**
 * The whole check for endpoints we answer ourselves; a PoP without a live challenge gets
 * `use_attestation_challenge` with the next one. Returns the authenticated client_id (`sub`).
 */
export async function verifyClientAttestation(
  check: AttestationCheck,
  clock: Clock,
): Promise<VerifiedClientAttestation> {
  const { attestation, pop } = check;
  if (!attestation) throw fail('the OAuth-Client-Attestation header is missing');
  if (!pop) throw fail('the OAuth-Client-Attestation-PoP header is missing');
  if (attestation.length > MAX_JWT_CHARS || pop.length > MAX_JWT_CHARS)
    throw fail('a client attestation is too large');
  const now = clock.now();
  const header = headerOf(attestation, 'client attestation');
  if (header.alg !== 'ES256') throw fail('the client attestation alg must be ES256');
  let unverified: JWTPayload;
  try {
    unverified = decodeJwt(attestation);
  } catch {
    throw fail('the client attestation is not a JWT');
  }
  if (typeof unverified.sub !== 'string' || unverified.sub === '')
    throw fail('the client attestation must name the client (sub)');
  const key = attesterKey(header, check.trust, now);
  const tolerance = check.clockToleranceSeconds;
  const claims = await verifySigned(
    attestation,
    key,
    ATTESTATION_TYP,
    { now, tolerance, required: ['iss', 'sub', 'exp', 'cnf'] },
    'client attestation',
  );
  const cnfJwk = (claims.cnf as { jwk?: JWK } | undefined)?.jwk;
  if (!cnfJwk || typeof cnfJwk !== 'object' || typeof cnfJwk.kty !== 'string' || hasPrivateMembers(cnfJwk))
    throw fail('the client attestation cnf.jwk must be a public key');
  if (headerOf(pop, 'client attestation PoP').alg !== 'ES256')
    throw fail('the client attestation PoP alg must be ES256');
  const popClaims = await verifySigned(
    pop,
    cnfJwk,
    POP_TYP,
    { now, tolerance, required: ['aud', 'jti', 'iat'], audience: check.audience },
    'client attestation PoP',
  );
  if (typeof popClaims.aud !== 'string') throw fail('the client attestation PoP aud must be a single string');
  if (typeof popClaims.jti !== 'string' || popClaims.jti === '' || popClaims.jti.length > 256)
    throw fail('the client attestation PoP jti must be a non-empty string');
  assertAttestationClaims(claims, popClaims, now);
  const clientId = claims.sub!;
  // Draft §5.2: the PoP is used once. The record lives in oidc-provider's ReplayDetection, which
  // keeps it for `expiresAt` minus its own (real) clock, so the expiry is on that clock too: on the
  // injected one, a clock behind real time would make the record expire at once.
  const expiresAt = Math.floor(Date.now() / 1000) + 2 * POP_WINDOW_SECONDS;
  if (!(await check.unique(clientId, popClaims.jti, expiresAt)))
    throw fail('the client attestation PoP jti was already used');
  if (!check.challenges.check(popClaims.challenge))
    throw new UseAttestationChallenge(check.challenges.next());
  return { clientId, issuer: claims.iss!, cnfJwk };
}
