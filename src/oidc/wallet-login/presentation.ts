import { createHash } from 'node:crypto';
import { decodeProtectedHeader, importJWK, type JWK, type JWTPayload, jwtVerify } from 'jose';
import type { Clock } from '../../clock.ts';
import type { StatusService } from '../../credentials/status/service.ts';
import type { KeyStore } from '../../keys/spi.ts';

/**
 * Verifies one SD-JWT VC presentation of a credential this service issued (draft-ietf-oauth-sd-jwt-vc,
 * SD-JWT RFC 9901 §7.3): the issuer-signed JWT with one of our published credential keys, its
 * disclosures against `_sd`, its validity window, its entry in our own token status list, and the
 * key-binding JWT (`typ: kb+jwt`) signed by the `cnf.jwk` key over this request's nonce, our client
 * identifier as `aud`, `sd_hash` and a fresh `iat`. Pure apart from reading keys and status lists;
 * keeps nothing. Every refusal is a PresentationRefused with the OpenID4VP error code.
 */

/** OpenID4VP 1.0 §8.5 error codes the response endpoint answers with. */
export type VpError = 'invalid_request' | 'access_denied' | 'vp_formats_not_supported';

export class PresentationRefused extends Error {
  override name = 'PresentationRefused';
  readonly code: VpError;
  /** What the login page tells the person (a key of the texts' wallet states). */
  readonly reason: string;
  constructor(code: VpError, reason: string, description: string) {
    super(description);
    this.code = code;
    this.reason = reason;
  }
}

export interface PresentationChecks {
  readonly keys: Pick<KeyStore, 'published'>;
  readonly status: Pick<StatusService, 'statusOf'>;
  readonly clock: Clock;
  /** Our issuer identifier: the credential's `iss`. */
  readonly issuer: string;
  /** `vct` values that identify a person here (the identity credentials), read at each presentation. */
  readonly vcts: () => readonly string[];
  /** How old a key-binding JWT may be, and how far ahead the wallet's clock may run, in seconds. */
  readonly kbMaxAgeSeconds: number;
  readonly skewSeconds: number;
}

export interface VerifiedPresentation {
  /** The holder key the credential is bound to (`cnf.jwk`), which signed the key-binding JWT. */
  readonly holderJwk: JWK;
  /** The credential's entry in our token status list (how the ledger knows whom it was issued to). */
  readonly statusEntry?: { readonly uri: string; readonly idx: number };
}

const MAX_PRESENTATION_CHARS = 64_000;
const CREDENTIAL_ALGS = ['ES256', 'EdDSA', 'Ed25519'];
const HOLDER_ALGS = ['ES256', 'ES384', 'EdDSA', 'Ed25519'];

const refuse = (code: VpError, reason: string, description: string) =>
  new PresentationRefused(code, reason, description);
const digest = (text: string) => createHash('sha256').update(text).digest('base64url');

export async function verifySdJwtPresentation(
  checks: PresentationChecks,
  presentation: unknown,
  expected: { nonce: string; audience: string },
): Promise<VerifiedPresentation> {
  if (typeof presentation !== 'string' || presentation.length > MAX_PRESENTATION_CHARS)
    throw refuse('invalid_request', 'invalid', 'the presentation must be an SD-JWT VC with key binding');
  const parts = presentation.split('~');
  const kbJwt = parts.pop() ?? '';
  const [issuerJwt = '', ...disclosures] = parts;
  if (!issuerJwt || !kbJwt)
    throw refuse(
      'invalid_request',
      'invalid',
      'the presentation lacks the issuer JWT or the key-binding JWT',
    );
  const now = new Date(checks.clock.now());

  // The issuer-signed JWT: one of our published credential keys, by kid.
  let payload: JWTPayload;
  try {
    const header = decodeProtectedHeader(issuerJwt);
    if (header.typ !== 'dc+sd-jwt' && header.typ !== 'vc+sd-jwt') throw new Error('typ');
    const key = checks.keys.published('credential').find((k) => k.kid === header.kid);
    if (!key) throw new Error('kid');
    ({ payload } = await jwtVerify(issuerJwt, key.publicKey, {
      algorithms: CREDENTIAL_ALGS,
      issuer: checks.issuer,
      currentDate: now,
      clockTolerance: checks.skewSeconds,
    }));
  } catch {
    throw refuse(
      'access_denied',
      'not_ours',
      'the credential was not issued by this service or is not valid now',
    );
  }
  if (typeof payload.vct !== 'string' || !checks.vcts().includes(payload.vct))
    throw refuse('access_denied', 'not_ours', 'the credential is not an identity credential of this service');
  checkDisclosures(payload, disclosures);

  // Our own token status list (draft-ietf-oauth-status-list §6.1).
  const entry = (payload.status as { status_list?: { idx?: unknown; uri?: unknown } } | undefined)
    ?.status_list;
  if (entry && (typeof entry.idx !== 'number' || typeof entry.uri !== 'string'))
    throw refuse('invalid_request', 'invalid', 'the credential status entry is malformed');
  if (entry) {
    const state = await checks.status.statusOf({
      statusEntries: [{ kind: 'token', idx: entry.idx as number, uri: entry.uri as string }],
    });
    if (state !== 'valid')
      throw refuse(
        'access_denied',
        state,
        `the credential is ${state === 'revoked' ? 'revoked' : 'suspended'}`,
      );
  }

  // Key binding (SD-JWT §4.3): signed by cnf.jwk, over this request's nonce and our client_id.
  const cnf = (payload.cnf as { jwk?: JWK } | undefined)?.jwk;
  if (!cnf || typeof cnf !== 'object')
    throw refuse('access_denied', 'not_holder', 'the credential is not bound to a holder key');
  let kb: JWTPayload;
  try {
    if (decodeProtectedHeader(kbJwt).typ !== 'kb+jwt') throw new Error('typ');
    const key = await importJWK(cnf, cnf.alg ?? (cnf.kty === 'OKP' ? 'EdDSA' : 'ES256'));
    ({ payload: kb } = await jwtVerify(kbJwt, key, {
      algorithms: HOLDER_ALGS,
      currentDate: now,
      maxTokenAge: checks.kbMaxAgeSeconds,
      clockTolerance: checks.skewSeconds,
      requiredClaims: ['iat', 'nonce', 'aud', 'sd_hash'],
    }));
  } catch {
    throw refuse(
      'access_denied',
      'not_holder',
      'the key-binding JWT is not signed by the key the credential is bound to, or is not fresh',
    );
  }
  if ((kb.iat ?? 0) * 1000 > checks.clock.now() + checks.skewSeconds * 1000)
    throw refuse('access_denied', 'not_holder', 'the key-binding JWT was issued in the future');
  const audience = Array.isArray(kb.aud) ? kb.aud : [kb.aud];
  if (kb.nonce !== expected.nonce || audience.length !== 1 || audience[0] !== expected.audience)
    throw refuse('invalid_request', 'other_request', 'the presentation was made for another request');
  const presented = `${[issuerJwt, ...disclosures].join('~')}~`;
  if (kb.sd_hash !== digest(presented))
    throw refuse('invalid_request', 'invalid', 'sd_hash does not match the presented SD-JWT');
  return {
    holderJwk: cnf,
    ...(entry ? { statusEntry: { uri: entry.uri as string, idx: entry.idx as number } } : {}),
  };
}

/** Every disclosure must be one whose digest the issuer signed (SD-JWT §7.1 step 3). */
function checkDisclosures(payload: JWTPayload, disclosures: readonly string[]): void {
  if (disclosures.length === 0) return;
  if (payload._sd_alg !== undefined && payload._sd_alg !== 'sha-256')
    throw refuse('invalid_request', 'invalid', 'unsupported _sd_alg');
  const signed = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) {
        if (item && typeof item === 'object' && typeof (item as { '...'?: unknown })['...'] === 'string')
          signed.add((item as { '...': string })['...']);
        walk(item);
      }
    } else if (node && typeof node === 'object') {
      for (const [name, value] of Object.entries(node)) {
        if (name === '_sd' && Array.isArray(value)) for (const d of value) signed.add(String(d));
        walk(value);
      }
    }
  };
  walk(payload);
  for (const disclosure of disclosures) {
    if (!disclosure || !signed.has(digest(disclosure)))
      throw refuse('invalid_request', 'invalid', 'a disclosure is not part of the credential');
  }
}
