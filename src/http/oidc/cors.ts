import type { Context } from 'koa';
import { corsOriginCheck } from '../../oidc/cors.ts';

/**
 * The CORS gate in front of the provider (policy in src/oidc/cors.ts): refuses a request to one of
 * `routes` (relative to the issuer's path) whose `Origin` header is not in `origins`.
 */
export function corsOriginGate(origins: readonly string[], routes: readonly string[]) {
  const check = corsOriginCheck(origins, routes);
  return (ctx: Context, relative: string): void => check(ctx.get('Origin'), relative);
}
