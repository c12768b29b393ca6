import type { Context, Next } from 'koa';
import { Forbidden } from '../../errors.ts';
import { bindInteraction, type InteractionPort } from '../../oidc/interaction/provider-port.ts';
import { type LoginDeps, type LoginSession, openSession } from '../../oidc/interaction/session.ts';
import { refuseUnmet } from '../../oidc/interaction/steps.ts';
import type { OidcProvider } from '../../oidc/provider.ts';
import { noStore } from '../middleware.ts';

/**
 * What both front ends share: the app they run in, loading a request's session, and the checks
 * every POST passes. oidc-provider binds the interaction to the browser through its `_interaction`
 * cookie (interactionDetails fails without it).
 */

export interface InteractionApp {
  readonly deps: LoginDeps;
  readonly basePath: string;
  readonly bodyLimitBytes: number;
  /** The service's own origin: the only one a POST may come from. */
  readonly publicOrigin: string;
  provider(): Promise<OidcProvider>;
}

export interface OpenedLogin {
  readonly port: InteractionPort;
  readonly session: LoginSession;
}

/** The session of `:uid`, or InvalidTransaction / unmet_authentication_requirements. */
export async function openLogin(app: InteractionApp, ctx: Context): Promise<OpenedLogin> {
  const port = bindInteraction(await app.provider(), ctx.req, ctx.res);
  const session = await openSession(app.deps, port, String(ctx.params.uid));
  await refuseUnmet(app.deps, port, session);
  return { port, session };
}

/**
 * CSRF: every POST carries a token bound to the interaction (form field `csrf` or header
 * `X-CSRF-Token`), and a cross-site `Origin`/`Sec-Fetch-Site` is refused. Browsers send
 * `Origin: null` on form posts from a no-referrer page; Fetch Metadata then decides.
 */
export function checkPost(app: InteractionApp, ctx: Context, uid: string, presented: unknown): void {
  const origin = ctx.get('Origin');
  const site = ctx.get('Sec-Fetch-Site');
  if (
    (origin && origin !== 'null' && origin !== app.publicOrigin) ||
    (site && site !== 'same-origin' && site !== 'none')
  ) {
    throw new Forbidden('cross-site request refused');
  }
  if (!app.deps.transactions.checkCsrf(uid, presented)) throw new Forbidden('missing or invalid CSRF token');
}

/** Pages: errors become HTML pages (src/http/error-handler.ts reads `ui`). */
export async function pageRoute(ctx: Context, next: Next): Promise<void> {
  ctx.state.ui = true;
  await next();
}

/** The JSON API: answers carry transaction data, never cached. */
export async function apiRoute(ctx: Context, next: Next): Promise<void> {
  noStore(ctx);
  await next();
}
