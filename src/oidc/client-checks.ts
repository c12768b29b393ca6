import { errors } from 'oidc-provider';
import type { AcrRule } from './claims.ts';
import { CLIENT_LENIENCIES } from './clients.ts';

/**
 * Checks oidc-provider calls on clients and what they send: extra client metadata, private_key_jwt
 * client assertions, request objects, and who may introspect a token.
 */

type OidcCtx = any;

/** Our client metadata extensions (src/oidc/clients.ts): their shapes, and ACR values that are configured. */
export function validateExtraMetadata(table: readonly AcrRule[]) {
  const acrs = new Set(table.map((r) => r.acr));
  return (_ctx: OidcCtx, key: string, value: unknown, metadata: Record<string, unknown>) => {
    const fail = (message: string) => {
      throw new errors.InvalidClientMetadata(`${key} ${message}`);
    };
    if (value === undefined) return;
    if (key === 'allowed_claims' || key === 'allowed_acr_values') {
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v !== '')) {
        fail('must be an array of strings');
      }
      if (key === 'allowed_acr_values' && !(value as string[]).every((v) => acrs.has(v))) {
        fail(`must only contain configured ACR values (${[...acrs].join(', ')})`);
      }
    }
    if (key === 'identity_system' && (typeof value !== 'string' || value === ''))
      fail('must be a non-empty string');
    if (key === 'resource_server_audiences') {
      if (!Array.isArray(value) || !value.every(isAbsoluteUrl)) fail('must be an array of absolute URLs');
      // RFC 7662 §2.1: introspection needs an authenticated caller; a public client cannot be one.
      if (metadata.token_endpoint_auth_method === 'none') fail('requires an authenticated client');
    }
    if (key === 'client_assertion_max_lifetime') {
      if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 3600)
        fail('must be an integer number of seconds between 1 and 3600');
    }
    if (key === 'leniencies') {
      const known = Object.keys(CLIENT_LENIENCIES);
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && known.includes(v)))
        fail(`must be an array of known leniencies (${known.join(', ')})`);
    }
    if (key === 'client_names') {
      if (!value || typeof value !== 'object' || Array.isArray(value))
        fail('must be an object of language → name');
      for (const name of Object.values(value as object))
        if (typeof name !== 'string') fail('values must be strings');
    }
  };
}

/**
 * oidc-provider's notion of now, in epoch seconds: it checks `exp` and `nbf` of the JWTs it receives
 * against the real clock (lib/helpers/jwt.js `epochTime`), not our injected one, so a bound on the
 * same JWT's `iat` must use the same clock or the accepted window would be judged by two clocks.
 */
const providerEpochSeconds = (): number => Math.floor(Date.now() / 1000);

/**
 * The audiences a client assertion may name (RFC 7523 §3 rule 3,
 * https://www.rfc-editor.org/rfc/rfc7523#section-3: "a value that identifies the authorization
 * server as an intended audience. The token endpoint URL of the authorization server MAY be used"):
 * this server's issuer identifier, its token endpoint and its PAR endpoint (RFC 9126 §2: the PAR
 * endpoint authenticates clients as the token endpoint does), and the same endpoints under the eSignet
 * paths when those are served (src/oidc/esignet-compat.ts). No other URL of ours (userinfo,
 * introspection, revocation) and nothing else: an assertion made for another party does not
 * authenticate here.
 */
export function clientAssertionAudiences(
  issuer: string,
  routes: { token: string; pushed_authorization_request: string },
  esignet?: { token: string; tokenV1: string; par: string },
): ReadonlySet<string> {
  const base = issuer.replace(/\/+$/, '');
  const own = [issuer, `${base}${routes.token}`, `${base}${routes.pushed_authorization_request}`];
  return new Set(esignet ? [...own, esignet.token, esignet.tokenV1, esignet.par] : own);
}

/**
 * private_key_jwt hardening beyond oidc-provider's checks (RFC 7523 §3, FAPI 2.0 §5.3.2.1):
 * - `aud` is one of `audiences` (clientAssertionAudiences), or an array whose members all are:
 *   oidc-provider accepts an array with one member it knows and ignores the rest, so an assertion
 *   also addressed to a foreign party (audience injection) would pass. oidc-provider has already
 *   required one of {issuer, token endpoint URL, the URL called}, so at the token endpoint the PAR
 *   URL alone is still refused;
 * - `iat` and `sub` = client_id are required; `iat` is not in the future;
 * - the lifetime `exp - iat` is at most the client's `client_assertion_max_lifetime`, else
 *   `defaultMaxLifetimeSeconds`. oidc-provider keeps the `jti` replay record until `exp` plus the
 *   clock tolerance (lib/shared/jwt_client_auth.js, ReplayDetection.unique), so replay protection
 *   covers the whole accepted lifetime (SECURITY row 9) and the record lives at most that long.
 * This runs after the signature check and before the replay record.
 */
export function assertClientAssertion(
  audiences: ReadonlySet<string>,
  defaultMaxLifetimeSeconds: number,
  toleranceSeconds: number,
) {
  return async (ctx: OidcCtx, claims: Record<string, unknown>, header: Record<string, unknown>) => {
    const fail = (message: string) => {
      throw new errors.InvalidClientAuth(message);
    };
    const aud = claims.aud;
    const named = Array.isArray(aud) ? aud : [aud];
    if (named.length === 0 || !named.every((a) => typeof a === 'string' && audiences.has(a))) {
      fail('audience (aud) must be the issuer identifier, the token endpoint or the PAR endpoint URL');
    }
    if (claims.sub !== ctx.oidc.client.clientId) fail('sub must be the client_id');
    if (typeof claims.iat !== 'number') fail('iat must be provided in the client_assertion JWT');
    // RFC 7519 §4.1.6: iat is the instant the JWT was issued, so one dated beyond the clock tolerance
    // claims an issuance that has not happened; RFC 7523 §3 leaves bounding iat to the server
    // (https://www.rfc-editor.org/rfc/rfc7523#section-3). Without this, exp - iat within the cap
    // but both years ahead authenticated, and the jti record was held until then. oidc-provider
    // itself only bounds iat when there is no exp.
    if ((claims.iat as number) > providerEpochSeconds() + toleranceSeconds) {
      fail('iat must not be in the future (beyond the clock tolerance)');
    }
    const maxLifetime = maxLifetimeOf(ctx.oidc.client, defaultMaxLifetimeSeconds);
    if (typeof claims.exp !== 'number' || claims.exp - (claims.iat as number) > maxLifetime) {
      fail(`client assertion lifetime (exp - iat) must not exceed ${maxLifetime} seconds`);
    }
    if (
      header.typ !== undefined &&
      typeof header.typ === 'string' &&
      /^(dpop\+jwt|at\+jwt|logout\+jwt)$/i.test(header.typ)
    ) {
      fail('typ is not acceptable for a client assertion');
    }
  };
}

/** The client's registered `client_assertion_max_lifetime` (validated 1..3600), else the default. */
function maxLifetimeOf(client: OidcCtx, fallback: number): number {
  const registered = client?.metadata?.().client_assertion_max_lifetime;
  return Number.isInteger(registered) ? (registered as number) : fallback;
}

/** Request objects (RFC 9101): exp and nbf required, at most 60 minutes apart (FAPI 2.0 §5.3.2.1). */
export async function assertRequestObject(_ctx: OidcCtx, claims: Record<string, unknown>) {
  for (const claim of ['exp', 'nbf', 'aud']) {
    if (claims[claim] === undefined)
      throw new errors.InvalidRequestObject(`Request Object is missing the '${claim}' claim`);
  }
  const lifetime = (claims.exp as number) - (claims.nbf as number);
  if (!(lifetime > 0) || lifetime > 3600) {
    throw new errors.InvalidRequestObject("Request Object 'exp' claim too far from 'nbf' claim");
  }
}

const isAbsoluteUrl = (value: unknown): boolean => typeof value === 'string' && URL.canParse(value);

/**
 * Who may learn that a token is active. RFC 7662 §2.2 (https://www.rfc-editor.org/rfc/rfc7662#section-2.2):
 * the server "MAY respond differently to different protected resources making the same request",
 * and §4 asks it to keep token scanning from learning anything; RFC 9700 §2.3 restricts access tokens
 * to their audience, so only that audience's resource server needs to learn about them. So `active: true` goes only to the client the token was issued to, or
 * to an authenticated client registered as resource server (`resource_server_audiences`) for one of
 * an access token's audiences; every other caller gets exactly `{"active": false}`.
 */
export async function introspectionAllowed(
  _ctx: OidcCtx,
  client: OidcCtx,
  token: { clientId?: string; kind?: string; aud?: string | string[] },
) {
  if (token.clientId !== undefined && token.clientId === client.clientId) return true;
  if (client.clientAuthMethod === 'none' || token.kind === 'RefreshToken') return false;
  const served = client.metadata().resource_server_audiences;
  if (!Array.isArray(served)) return false;
  const audiences = token.aud === undefined ? [] : [token.aud].flat();
  return audiences.some((aud) => served.includes(aud));
}
