import {
  compactDecrypt,
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  type JWK,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.ts';
import { sha256Base64url } from '../../crypto/hash.ts';
import { AppError, CredentialRequestDenied, InsufficientScope, InvalidToken } from '../../errors.ts';
import type { IdentitySystemRegistry } from '../../kyc/spi.ts';
import type { IssuanceGrant, TokenVerifier } from '../../oidc/bridge.ts';
import { DPOP_ALGORITHMS, verifyDpopProof } from '../../oidc/dpop.ts';
import type { JwksFetcher } from '../../oidc/jwks-fetch.ts';
import type { Store } from '../../store/spi.ts';
import type { ExternalAuthorizationServer, OwnAuthorizationServer } from './config.ts';

/**
 * Access tokens of trusted external authorization servers at the credential, deferred and
 * notification endpoints (the role Inji Certify plays beside eSignet: certify-service
 * AccessTokenValidationFilter checks signature by the server's JWKS, iss, aud in an allowed list,
 * sub, client_id, iat, exp). Here, per server (src/vci/external-as/config.ts):
 *
 * - JWT access tokens: signature by the server's keys (JWKS URL refetched on an unknown kid, so a
 *   rotation is followed without restart, or a static set), `iss`, `aud` ∩ audiences, `exp`/`nbf`/
 *   `iat` with the server's tolerance on the injected clock; RFC 9068 `typ: at+jwt` for `rfc9068`
 *   servers; `cnf.jkt` bound tokens need the DPoP scheme and a proof by that key (RFC 9449 §7.1).
 * - Opaque tokens: RFC 7662 introspection (client_secret_basic), `active` and the same checks.
 * - `scope` (and `authorization_details` of type openid_credential) → credential configurations;
 *   none known → 403 insufficient_scope (RFC 6750 §3.1).
 * - The token's `c_nonce` claim (eSignet) is a proof nonce usable once (IssuanceGrant.tokenCNonce).
 * - The person: the server's userinfo (claims at issuance time, only the accepted ones kept), an
 *   identity-system lookup of a token claim, or the system's resolveExternalSubject.
 * - The server unreachable (JWKS, introspection, userinfo): 503 temporarily_unavailable with
 *   Retry-After, never 500.
 *
 * Every other token goes to our own provider's verifier (unless `ownAuthorizationServer` is off).
 */

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_TOKEN_CHARS = 8192;
const ALGORITHMS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA', 'Ed25519'];
const RETRY_AFTER_SECONDS = 30;
/** What our provider's verifier (src/oidc/token-verifier.ts) says of a token it does not know. */
const OWN_UNKNOWN = 'the access token is invalid, expired or revoked';

export class AuthorizationServerUnavailable extends AppError {
  constructor(description: string, cause?: unknown) {
    super(503, 'temporarily_unavailable', description, {
      headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
      cause,
    });
    this.name = 'temporarily_unavailable';
  }
}

const challenge = (error?: string) => {
  const params = error ? `, error="${error}"` : '';
  return `DPoP algs="${DPOP_ALGORITHMS.join(' ')}"${params}, Bearer realm="credential"${params}`;
};
const invalid = (description: string) =>
  new InvalidToken(description, { headers: { 'WWW-Authenticate': challenge('invalid_token') } });

export interface ExternalDeps {
  servers: readonly ExternalAuthorizationServer[];
  own: OwnAuthorizationServer;
  /** Our credential endpoint URL and issuer identifier: the default audiences. */
  credentialEndpoint: string;
  publicUrl: string;
  clock: Clock;
  store: Store;
  logger: Logger;
  fetcher: JwksFetcher;
  /** How long a fetched JWK Set is used before it is fetched again, in seconds. */
  minRefetchSeconds: number;
  identitySystems: IdentitySystemRegistry;
  /** credential configuration ids requested by a scope value, and the claims each carries. */
  configurations: { forScope(scope: string): string[]; claimsFor(id: string): readonly string[] };
}

/** The server's signing keys: fetched (cached, refetched for an unknown kid) or static. */
function keySource(server: ExternalAuthorizationServer, deps: ExternalDeps) {
  let keys: JWK[] = (server.jwks?.keys ?? []) as JWK[];
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let freshUntil = Number.NEGATIVE_INFINITY;
  async function load(): Promise<void> {
    const url = server.jwksUri!;
    let response: Response;
    try {
      response = await deps.fetcher.fetch(url, { method: 'GET', headers: { accept: 'application/json' } });
    } catch (error) {
      throw new AuthorizationServerUnavailable('the authorization server keys cannot be fetched', error);
    }
    const body = (await response.json().catch(() => undefined)) as { keys?: unknown } | undefined;
    if (response.status !== 200 || !body || !Array.isArray(body.keys))
      throw new AuthorizationServerUnavailable('the authorization server answered no JWK Set');
    keys = (body.keys as JWK[]).filter((k) => typeof k === 'object' && k !== null && !('d' in k));
    const maxAge = Number(/max-age=(\d+)/.exec(response.headers.get('cache-control') ?? '')?.[1] ?? 0);
    fetchedAt = deps.clock.now();
    freshUntil = fetchedAt + maxAge * 1000;
  }
  return {
    /** The key set, fetched when stale, or when `kid` is unknown and the set is older than the minimum. */
    async forKid(kid: string | undefined): Promise<JWK[]> {
      if (!server.jwksUri) return keys;
      const now = deps.clock.now();
      const known = kid === undefined ? keys.length > 0 : keys.some((k) => k.kid === kid);
      if (now >= freshUntil || (!known && now - fetchedAt >= deps.minRefetchSeconds * 1000)) await load();
      return keys;
    },
  };
}

/** What a validated token says, whichever way it was validated. */
interface TokenClaims extends JWTPayload {
  scope?: string;
  client_id?: string;
  cnf?: { jkt?: string };
  c_nonce?: string;
  c_nonce_expires_in?: number;
  authorization_details?: unknown;
}

export function createExternalTokenVerifier(deps: ExternalDeps, own: TokenVerifier): TokenVerifier {
  const byIssuer = new Map(deps.servers.map((s) => [s.issuer, { server: s, keys: keySource(s, deps) }]));
  const introspecting = deps.servers.filter((s) => s.introspection);
  for (const s of deps.servers) {
    if (s.subject.mode !== 'userinfo') {
      const system = deps.identitySystems.get(s.subject.identitySystem);
      if (s.subject.mode === 'spi' && !system.resolveExternalSubject)
        throw new Error(
          `vci.externalAuthorizationServers: identity system ${system.name} has no resolveExternalSubject`,
        );
    }
  }
  const audiencesOf = (s: ExternalAuthorizationServer) =>
    s.audiences ?? [deps.credentialEndpoint, deps.publicUrl];

  async function verifyJwt(token: string, entry: NonNullable<ReturnType<typeof byIssuer.get>>) {
    const { server, keys } = entry;
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw invalid('the access token is malformed');
    }
    const set = createLocalJWKSet({ keys: await keys.forKid(kid) });
    try {
      const { payload } = await jwtVerify(token, set, {
        issuer: server.issuer,
        audience: audiencesOf(server) as string[],
        currentDate: new Date(deps.clock.now()),
        clockTolerance: server.clockToleranceSeconds,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp', 'sub'],
        ...(server.profile === 'rfc9068' ? { typ: 'at+jwt' } : {}),
      });
      return payload as TokenClaims;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw invalid('the access token has expired');
      if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'aud')
        throw invalid('the access token is not meant for this credential issuer');
      if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'nbf')
        throw invalid('the access token is not yet valid');
      if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'typ')
        throw invalid('the access token is not an RFC 9068 JWT access token (typ at+jwt)');
      deps.logger.warn(
        { err: { name: (error as Error).name, message: (error as Error).message } },
        'external access token refused',
      );
      throw invalid('the access token signature or claims are invalid');
    }
  }

  /** RFC 7662: POST token=…, client_secret_basic; `active` false (or no answer) refuses the token. */
  async function introspect(
    token: string,
  ): Promise<{ server: ExternalAuthorizationServer; claims: TokenClaims }> {
    for (const server of introspecting) {
      const { endpoint, clientId, clientSecret } = server.introspection!;
      const basic = Buffer.from(
        `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`,
      ).toString('base64');
      let answer: { status: number; body: Buffer };
      try {
        answer = await deps.fetcher.request(endpoint, {
          method: 'POST',
          headers: {
            authorization: `Basic ${basic}`,
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          },
          body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        });
      } catch (error) {
        throw new AuthorizationServerUnavailable(
          'the authorization server introspection is unreachable',
          error,
        );
      }
      if (answer.status >= 500)
        throw new AuthorizationServerUnavailable('the authorization server introspection failed');
      let claims: TokenClaims & { active?: boolean };
      try {
        claims = JSON.parse(answer.body.toString('utf8'));
        if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw new Error();
      } catch {
        throw new AuthorizationServerUnavailable('the authorization server introspection answered no JSON');
      }
      if (answer.status !== 200 || claims.active !== true) continue;
      // RFC 7662 §2.2: iss, when present, names the server; aud and exp as for JWTs.
      if (claims.iss !== undefined && claims.iss !== server.issuer) continue;
      const now = deps.clock.now() / 1000;
      if (typeof claims.exp !== 'number' || claims.exp + server.clockToleranceSeconds <= now)
        throw invalid('the access token has expired');
      if (typeof claims.nbf === 'number' && claims.nbf - server.clockToleranceSeconds > now)
        throw invalid('the access token is not yet valid');
      const aud = claims.aud === undefined ? [] : Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!aud.some((a) => audiencesOf(server).includes(a)))
        throw invalid('the access token is not meant for this credential issuer');
      if (typeof claims.sub !== 'string' || !claims.sub) throw invalid('the access token names no subject');
      return { server, claims };
    }
    throw invalid('the access token is invalid, expired or revoked');
  }

  /** The credential configurations the scope (and authorization_details) name; none → insufficient_scope. */
  function configurationsOf(claims: TokenClaims): string[] {
    const fromScope = String(claims.scope ?? '')
      .split(' ')
      .flatMap((s) => (s ? deps.configurations.forScope(s) : []));
    const details = Array.isArray(claims.authorization_details) ? claims.authorization_details : [];
    const fromDetails = details.flatMap((d: Record<string, unknown>) =>
      d?.type === 'openid_credential' && typeof d.credential_configuration_id === 'string'
        ? [d.credential_configuration_id]
        : [],
    );
    const ids = [...new Set([...fromScope, ...fromDetails])];
    if (ids.length === 0) {
      throw new InsufficientScope('the access token grants no credential configuration of this issuer', {
        headers: { 'WWW-Authenticate': challenge('insufficient_scope') },
      });
    }
    return ids;
  }

  /** The person behind the token: an account in an identity system, or a userinfo claims source. */
  async function person(
    server: ExternalAuthorizationServer,
    claims: TokenClaims,
    token: string,
    scheme: string,
  ): Promise<Pick<IssuanceGrant, 'accountId' | 'identitySystem' | 'externalClaims'>> {
    const subject = claims.sub!;
    const mapping = server.subject;
    if (mapping.mode === 'userinfo') {
      return {
        accountId: `external:${sha256Base64url(`${server.issuer}\u0000${subject}`)}`,
        identitySystem: '',
        externalClaims: async (accepted) => {
          if (claims.cnf?.jkt)
            throw new CredentialRequestDenied(
              "a DPoP-bound token cannot be sent to the authorization server's userinfo by the issuer",
            );
          const all = await userinfo(server, mapping, token, scheme, subject);
          // Only the accepted claims (language-tagged forms `name#ar` with their claim), nothing kept.
          const wanted = new Set(accepted);
          return {
            claims: Object.fromEntries(
              Object.entries(all).filter(([name]) => wanted.has(name.split('#')[0]!)),
            ),
          };
        },
      };
    }
    const system = deps.identitySystems.get(mapping.identitySystem);
    let accountId: string | undefined;
    if (mapping.mode === 'claim') {
      const value = claims[mapping.claim];
      if (typeof value !== 'string' || !value)
        throw invalid(`the access token carries no ${mapping.claim} claim to find the person by`);
      accountId = await system.accountFor(value);
    } else {
      accountId = await system.resolveExternalSubject!({ issuer: server.issuer, subject, claims });
    }
    if (!accountId) throw invalid('the identity system knows no person for the access token subject');
    return { accountId, identitySystem: system.name };
  }

  /**
   * The server's userinfo with the wallet's token: a signed JWT (eSignet: `application/jwt`, signed by
   * the identity system's KYC key published in its JWKS), the same inside a JWE (decrypted with the
   * configured key), or JSON. Its `sub` must be the token's.
   */
  async function userinfo(
    server: ExternalAuthorizationServer,
    mapping: { endpoint: string; decryptionJwk?: Record<string, unknown> },
    token: string,
    scheme: string,
    subject: string,
  ): Promise<Record<string, unknown>> {
    let answer: { status: number; contentType: string; body: Buffer };
    try {
      answer = await deps.fetcher.request(mapping.endpoint, {
        method: 'GET',
        headers: {
          authorization: `${scheme === 'dpop' ? 'DPoP' : 'Bearer'} ${token}`,
          accept: 'application/jwt, application/json',
        },
      });
    } catch (error) {
      throw new AuthorizationServerUnavailable('the authorization server userinfo is unreachable', error);
    }
    if (answer.status >= 500 || answer.status === 429)
      throw new AuthorizationServerUnavailable('the authorization server userinfo failed');
    if (answer.status !== 200)
      throw new CredentialRequestDenied(
        `the authorization server released no claims for this token (${answer.status})`,
      );
    let text = answer.body.toString('utf8').trim();
    let claims: Record<string, unknown>;
    try {
      if (text.split('.').length === 5) {
        if (!mapping.decryptionJwk) throw new Error('encrypted userinfo without a decryption key');
        const key = await importJWK(
          mapping.decryptionJwk as JWK,
          (mapping.decryptionJwk.alg as string) ?? 'RSA-OAEP-256',
        );
        text = new TextDecoder().decode((await compactDecrypt(text, key)).plaintext);
      }
      if (JWT_SHAPE.test(text)) {
        const kid = decodeProtectedHeader(text).kid;
        const { payload } = await jwtVerify(
          text,
          createLocalJWKSet({ keys: await byIssuer.get(server.issuer)!.keys.forKid(kid) }),
          {
            currentDate: new Date(deps.clock.now()),
            clockTolerance: server.clockToleranceSeconds,
            algorithms: ALGORITHMS,
          },
        );
        claims = payload as Record<string, unknown>;
      } else {
        claims = JSON.parse(text);
        // RFC 7662 §2.2 / OIDC Core §5.3.2: a JSON object; `null` or an array would fail below.
        if (typeof claims !== 'object' || claims === null || Array.isArray(claims))
          throw new Error('userinfo is not a JSON object');
      }
    } catch (error) {
      if (error instanceof AppError) throw error;
      deps.logger.warn(
        { issuer: server.issuer, err: { name: (error as Error).name } },
        'external userinfo refused',
      );
      throw new CredentialRequestDenied("the authorization server's userinfo answer could not be verified");
    }
    if (claims.sub !== undefined && claims.sub !== subject)
      throw new CredentialRequestDenied("the authorization server's userinfo is about another subject");
    return claims;
  }

  async function external(
    token: string,
    scheme: string,
    request: { dpop: string | undefined; method: string; url: string },
    found: { server: ExternalAuthorizationServer; claims: TokenClaims },
  ): Promise<IssuanceGrant> {
    const { server, claims } = found;
    // A token bound to a key by a method we cannot check (RFC 8705 `x5t#S256`, or any other `cnf`
    // member) is not a bearer token: refused rather than accepted unbound (RFC 7800 §3.1).
    const cnf = claims.cnf as Record<string, unknown> | undefined;
    if (
      cnf !== undefined &&
      (typeof cnf !== 'object' || cnf === null || Object.keys(cnf).some((m) => m !== 'jkt'))
    )
      throw invalid('the access token is bound to a key by a confirmation method this issuer cannot check');
    const jkt = claims.cnf?.jkt;
    if (jkt) {
      if (scheme !== 'dpop') throw invalid('a DPoP-bound access token must be sent with the DPoP scheme');
      const proofKey = await verifyDpopProof(
        { proof: request.dpop, method: request.method, url: request.url, accessToken: token },
        deps.clock,
        deps.store,
      );
      if (proofKey !== jkt) throw invalid('the DPoP proof key does not match the access token binding');
    } else if (scheme === 'dpop') {
      throw invalid('the access token is not DPoP-bound: use the Bearer scheme');
    }
    const ids = configurationsOf(claims);
    const who = await person(server, claims, token, scheme);
    const consented = [...new Set(ids.flatMap((id) => deps.configurations.claimsFor(id)))];
    // eSignet: c_nonce_expires_in counts from the token's iat (TokenServiceImpl.getAccessToken).
    const cNonce =
      typeof claims.c_nonce === 'string' && claims.c_nonce
        ? {
            value: claims.c_nonce,
            expiresAt:
              ((claims.iat ?? deps.clock.now() / 1000) +
                (typeof claims.c_nonce_expires_in === 'number' ? claims.c_nonce_expires_in : 0)) *
              1000,
          }
        : undefined;
    return {
      // Stable for the token (deferred polls and notifications come with the same token).
      grantId: `external:${sha256Base64url(`${server.issuer}\u0000${claims.jti ?? token}`)}`,
      ...(typeof claims.client_id === 'string' ? { clientId: claims.client_id } : {}),
      ...who,
      credentialConfigurationIds: ids,
      authorizationDetails: [],
      consentedClaims: consented,
      ...(jkt ? { dpopJkt: jkt } : {}),
      expiresAt: (claims.exp as number) * 1000,
      ...(cNonce ? { tokenCNonce: cNonce } : {}),
    };
  }

  return {
    async verify(request) {
      const match = /^(Bearer|DPoP) ([A-Za-z0-9\-._~+/]+=*)$/i.exec(request.authorization ?? '');
      if (!match) return own.verify(request);
      const scheme = match[1]!.toLowerCase();
      const token = match[2]!;
      if (token.length > MAX_TOKEN_CHARS) throw invalid('the access token is malformed');
      if (JWT_SHAPE.test(token)) {
        let iss: unknown;
        try {
          iss = decodeJwt(token).iss;
        } catch {
          iss = undefined;
        }
        const entry = typeof iss === 'string' ? byIssuer.get(iss) : undefined;
        if (entry) {
          const claims = await verifyJwt(token, entry);
          return external(token, scheme, request, { server: entry.server, claims });
        }
        if (deps.own === 'off' || iss !== deps.publicUrl)
          throw invalid('the access token was not issued by a trusted authorization server');
        return own.verify(request);
      }
      // Only a token our provider does not know goes on to introspection: ours are never sent out while
      // they are live, also when our provider is off (then they are refused here).
      let ours = true;
      try {
        const grant = await own.verify(request);
        if (deps.own !== 'off') return grant;
      } catch (error) {
        ours = !(error instanceof InvalidToken && error.description === OWN_UNKNOWN);
        if (deps.own !== 'off' && (ours || introspecting.length === 0)) throw error;
      }
      if (ours) throw invalid('the access token was not issued by a trusted authorization server');
      if (introspecting.length === 0) throw invalid(OWN_UNKNOWN);
      return external(token, scheme, request, await introspect(token));
    },
  };
}
