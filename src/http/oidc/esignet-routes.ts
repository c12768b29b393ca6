import type { ServerResponse } from 'node:http';
import type { Config } from '../../config/defaults.ts';
import {
  ESIGNET_PATHS,
  type EsignetTarget,
  esignetEndpoints,
  esignetMount,
} from '../../oidc/esignet-compat.ts';
import { ROUTES } from '../../oidc/provider.ts';

/**
 * eSignet's paths (src/oidc/esignet-compat.ts) in front of the same provider. Each maps to one
 * provider route; the hand-off (src/http/oidc/mount.ts) gives the provider the path that was called
 * as `req.originalUrl`, so oidc-provider's `urlFor` (lib/helpers/oidc_context.js: the mount path is
 * `originalUrl` minus the route) names the eSignet URL wherever it compares what the client called:
 * a DPoP proof's `htu` (RFC 9449 §4.3 check 9: the URI of the request it was sent with) and the
 * endpoint URL a client assertion may name. eSignet's paths end in the provider's route names
 * (`/oauth/v2/token` → `/token`, `/oauth/par` → `/par`, `/oidc/userinfo` → `/userinfo`), so that
 * mount path is exact; `esignetRoutes` checks it at start. The discovery documents are the
 * provider's own with the endpoints moved to the eSignet paths.
 */
export interface EsignetRoute {
  /** The provider route to hand the request to (relative to the issuer's path). */
  readonly route: string;
  /** The path the provider is told the route is mounted at (`req.originalUrl` = this + route). */
  readonly providerMount: string;
  /** The absolute URL called (DPoP htu of the pre-authorized grant at the token endpoint). */
  readonly url: string;
  /** Rewrites the provider's JSON answer (discovery) before it is sent. */
  readonly rewrite?: (doc: Record<string, unknown>) => Record<string, unknown>;
}

/** The eSignet routes by called path (absolute path on this host); empty when not enabled. */
export function esignetRoutes(config: Config, basePath: string): ReadonlyMap<string, EsignetRoute> {
  const mount = esignetMount(config);
  const endpoints = esignetEndpoints(config);
  if (mount === undefined || endpoints === undefined) return new Map();
  const origin = new URL(config.resolved.publicUrl).origin;
  // What an RP configured for eSignet reads from discovery (eSignet's own discovery,
  // application-default.properties `mosip.esignet.discovery.key-values`, names these URLs).
  const moved = (doc: Record<string, unknown>) => ({
    ...doc,
    token_endpoint: endpoints.token,
    pushed_authorization_request_endpoint: endpoints.par,
    userinfo_endpoint: endpoints.userinfo,
    jwks_uri: endpoints.jwks,
  });
  const routes = new Map<string, EsignetRoute>();
  for (const { path, route: target } of ESIGNET_PATHS) {
    const called = `${mount}${path}`;
    const route = providerPath(target);
    // JWKS and discovery compare no URL with the one called: the provider sees its own path.
    const urlChecked = target !== 'discovery' && target !== 'jwks';
    // oidc-provider finds the mount path as the part of originalUrl before the first occurrence
    // of the route, so the route must occur only at the end.
    if (urlChecked && called.indexOf(route) !== called.length - route.length) {
      throw new Error(`oidc.esignetCompat.prefix: ${called} must end in, and only once name, ${route}`);
    }
    routes.set(called, {
      route,
      providerMount: urlChecked ? called.slice(0, -route.length) : basePath,
      url: `${origin}${called}`,
      ...(target === 'discovery' ? { rewrite: moved } : {}),
    });
  }
  return routes;
}

const providerPath = (target: EsignetTarget): string =>
  target === 'discovery' ? '/.well-known/openid-configuration' : ROUTES[target];

/**
 * Lets `rewrite` change a JSON answer the provider writes to `res` (it answers through Node's
 * response, `ctx.respond = false`): the body is held until `end`, rewritten when it is a 200 JSON
 * body, and sent with its new length; a HEAD answer loses its length (the provider's is the unrewritten
 * document's). Anything else (errors, preflight) passes unchanged.
 */
export function rewriteJsonAnswer(
  res: ServerResponse,
  rewrite: (doc: Record<string, unknown>) => Record<string, unknown>,
): void {
  const chunks: Buffer[] = [];
  const end = res.end.bind(res);
  const collect = (chunk: unknown) => {
    if (typeof chunk === 'string' || chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
  };
  res.write = ((chunk: unknown) => {
    collect(chunk);
    return true;
  }) as ServerResponse['write'];
  res.end = ((chunk?: unknown) => {
    collect(chunk);
    let body = Buffer.concat(chunks);
    const json = /^application\/json/.test(String(res.getHeader('content-type') ?? ''));
    if (res.statusCode === 200 && json && body.length > 0) {
      body = Buffer.from(JSON.stringify(rewrite(JSON.parse(body.toString('utf8')))));
      res.setHeader('content-length', body.length);
    } else if (res.req?.method === 'HEAD') {
      // No body to rewrite: the provider's length is the unrewritten document's, so none is sent
      // (RFC 9110 §8.6 lets a HEAD answer omit it) rather than a wrong one.
      res.removeHeader('content-length');
    }
    return end(body);
  }) as ServerResponse['end'];
}
