import { InvalidRequest } from '../errors.ts';

/**
 * CORS at the provider's client endpoints (config `oidc.corsOrigins`). oidc-provider answers CORS
 * itself on these routes (lib/helpers/initialize_app.js, `clientBased`), but it reflects any Origin
 * in a preflight and in every response written before the client is known. The policy:
 *
 * 1. In front of the provider (`corsOriginCheck`, applied by src/http/oidc/cors.ts): a request or
 *    preflight carrying an Origin that is not in `oidc.corsOrigins` is refused with 400
 *    `invalid_request` and no CORS headers, so the provider never reflects it. Requests without an
 *    Origin (servers) are not affected.
 * 2. Per client, once the provider knows it (`clientBasedCors`, oidc-provider's `clientBasedCORS`):
 *    the origin must also be the origin of one of the client's redirect URIs; at userinfo that is
 *    enough (the token's client), at the token, PAR, introspection and revocation endpoints only
 *    public clients qualify: a confidential client authenticates with a key a browser must not
 *    hold, so it gets no CORS at all. A refusal is oidc-provider's 400 `invalid_request` without
 *    Access-Control-Allow-Origin.
 *
 * Fetch standard, CORS protocol: https://fetch.spec.whatwg.org/#http-cors-protocol. Discovery and
 * JWKS stay open to every origin (public documents).
 */

/**
 * The gate in front of the provider: refuses a request to one of `routes` (oidc-provider's
 * client-based CORS routes, relative to the issuer's path) whose Origin is not in `origins`
 * (an empty origin, no `Origin` header, passes).
 */
export function corsOriginCheck(origins: readonly string[], routes: readonly string[]) {
  const allowed = new Set(origins);
  const gated = new Set(routes);
  return (origin: string, relative: string): void => {
    if (!origin || !gated.has(relative) || allowed.has(origin)) return;
    throw new InvalidRequest('requests from this origin are not allowed');
  };
}

interface CorsClient {
  clientAuthMethod: string;
  redirectUris?: string[];
}

/** oidc-provider's `clientBasedCORS`: the per-client half of the policy above. */
export function clientBasedCors(origins: readonly string[]) {
  const allowed = new Set(origins);
  return (ctx: { oidc?: { route?: string } }, origin: string, client: CorsClient): boolean => {
    if (!allowed.has(origin)) return false;
    const own = (client.redirectUris ?? []).some((uri) => URL.parse(uri)?.origin === origin);
    if (!own) return false;
    return ctx.oidc?.route === 'userinfo' || client.clientAuthMethod === 'none';
  };
}
