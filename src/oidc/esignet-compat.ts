import type { Config } from '../config/defaults.ts';

/**
 * eSignet's protocol paths (mosip/esignet v1.8.0, commit 201264c8), served by the same provider under
 * a configurable prefix (config `oidc.esignetCompat`), so a relying party configured for eSignet
 * changes only its base URL. eSignet mounts its backend at `/v1/esignet`
 * (esignet-service/src/main/resources/bootstrap.properties:11 `server.servlet.path`):
 * - OAuthController.java:30 `@RequestMapping("/oauth")`: `/token` (:48), `/v2/token` (:62),
 *   `/par` (:74), `/.well-known/jwks.json` (:88), `/.well-known/oauth-authorization-server` (:94);
 * - OpenIdConnectController.java:19 `@RequestMapping("/oidc")`: `/userinfo` (:33),
 *   `/.well-known/openid-configuration` (:38).
 * eSignet's `/authorize` is its UI's route at the host root, not a backend path; ours is the
 * issuer's own `/authorize` (ROUTES.authorization). eSignet 1.8 has no credential issuer metadata (moved to Inji Certify).
 */
export const ESIGNET_PATHS = [
  { path: '/oauth/v2/token', route: 'token' },
  { path: '/oauth/token', route: 'token' },
  { path: '/oauth/par', route: 'pushed_authorization_request' },
  { path: '/oidc/userinfo', route: 'userinfo' },
  { path: '/oauth/.well-known/jwks.json', route: 'jwks' },
  { path: '/oidc/.well-known/openid-configuration', route: 'discovery' },
  { path: '/oauth/.well-known/oauth-authorization-server', route: 'discovery' },
] as const;

/** The provider route (a key of ROUTES in src/oidc/provider.ts, or its discovery) a path maps to. */
export type EsignetTarget = (typeof ESIGNET_PATHS)[number]['route'];

/** Where the eSignet paths live: the issuer's path plus the prefix; undefined when not served. */
export function esignetMount(config: Config): string | undefined {
  const compat = config.oidc.esignetCompat;
  if (!compat.enabled) return undefined;
  return `${new URL(config.resolved.publicUrl).pathname.replace(/\/+$/, '')}${compat.prefix}`;
}

/** The absolute eSignet endpoint URLs, as eSignet's own discovery would name them. */
export function esignetEndpoints(config: Config) {
  const mount = esignetMount(config);
  if (mount === undefined) return undefined;
  const at = (path: string) => `${new URL(config.resolved.publicUrl).origin}${mount}${path}`;
  return {
    token: at('/oauth/v2/token'),
    tokenV1: at('/oauth/token'),
    par: at('/oauth/par'),
    userinfo: at('/oidc/userinfo'),
    jwks: at('/oauth/.well-known/jwks.json'),
  };
}
