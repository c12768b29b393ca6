import type { Router } from '@koa/router';
import type { Context } from 'koa';
import QRCode from 'qrcode';
import { InvalidRequest, InvalidTransaction } from '../../errors.ts';
import { localeQuery, type PageRequest } from '../../oidc/interaction/html-view.ts';
import { pickLocale, textsFor } from '../../oidc/interaction/i18n.ts';
import { finishIfConsented } from '../../oidc/interaction/steps.ts';
import { WALLET_JS, walletPage } from '../../oidc/interaction/wallet-page.ts';
import {
  newWalletRequest,
  receivePresentation,
  type WalletLogin,
  walletState,
} from '../../oidc/wallet-login/login.ts';
import { readForm } from '../body.ts';
import { noStore } from '../middleware.ts';
import { apiRoute, type InteractionApp, type OpenedLogin, openLogin, pageRoute } from './guards.ts';

/**
 * The wallet login's HTTP side (OpenID4VP 1.0, src/oidc/wallet-login):
 *
 * - `GET  <base>/interaction/:uid/wallet`: the page with a new request as a QR code and a
 *   same-device button; `GET …/wallet/status?request=` (JSON) is what the page polls.
 * - `GET  <base>/interaction/wallet-login/request/:id`: the signed request object
 *   (`application/oauth-authz-req+jwt`), served once (OpenID4VP §5.7, RFC 9101).
 * - `POST <base>/interaction/wallet-login/response`: the wallet's `direct_post` (§8.2); 200 `{}`
 *   or 400 with the OpenID4VP error.
 *
 * The last two are the wallet's (no browser cookie, no CSRF token: the request's `state` and nonce
 * bind the answer to the transaction).
 */
export function walletLoginRoutes(app: InteractionApp, router: Router, wallet: WalletLogin): void {
  const { deps } = app;

  router.get('/wallet-login/request/:id', async (ctx) => {
    noStore(ctx);
    const jwt = await wallet.requests.fetchOnce(String(ctx.params.id));
    if (!jwt) throw new InvalidRequest('the request is unknown, has expired or was already fetched');
    ctx.type = 'application/oauth-authz-req+jwt';
    ctx.body = jwt;
  });

  router.post('/wallet-login/response', apiRoute, async (ctx) => {
    const form = await readForm(ctx, app.bodyLimitBytes);
    await receivePresentation(deps, wallet, { state: form.state, vp_token: form.vp_token });
    ctx.body = {};
  });

  router.get('/:uid/wallet', pageRoute, async (ctx) => {
    const { session } = await openLogin(app, ctx);
    const request = pageRequest(app, ctx);
    const locale = pickLocale(request.uiLocales ?? session.params.ui_locales, deps.oidc.uiLocales);
    const texts = textsFor(locale);
    const created = await newWalletRequest(deps, wallet, session);
    if (!created) throw new InvalidRequest('a wallet login is not allowed for this sign-in');
    const lang = localeQuery(request);
    const base = `${app.basePath}/interaction/${session.uid}`;
    const names = session.client.meta.client_names ?? {};
    const html = walletPage(
      { locale, texts, basePath: app.basePath, title: texts.wallet.title },
      {
        client: { name: names[locale] ?? session.client.clientName ?? session.client.clientId },
        loginHref: `${base}${lang ? `?${lang}` : ''}`,
        newCodeHref: `${base}/wallet${lang ? `?${lang}` : ''}`,
        statusHref: `${base}/wallet/status?request=${encodeURIComponent(created.id)}`,
        qrSvg: await QRCode.toString(created.walletUrl, {
          type: 'svg',
          errorCorrectionLevel: 'M',
          margin: 2,
        }),
        walletUrl: created.walletUrl,
        expiresInSeconds: Math.max(0, Math.round((created.expiresAt - deps.clock.now()) / 1000)),
      },
    );
    sendWalletPage(ctx, html);
  });

  walletStatusRoute(app, router, '/:uid/wallet/status', {
    stateOf: (uid, ctx) => walletState(wallet, uid, ctx.query.request),
    counting: ['waiting'],
    untilSignedIn: 'waiting',
  });
}

/**
 * The status a wallet page polls (JSON): `expired` once the login is over; while the wallet has not
 * signed the person in, the flow's state (with `expires_in` for the states that count down); then
 * where the page goes next. `untilSignedIn` is what a verified answer reads as until the login
 * transaction itself is authenticated.
 */
export function walletStatusRoute<S extends { state: string; expiresAt?: number }>(
  app: InteractionApp,
  router: Router,
  path: string,
  flow: {
    stateOf(uid: string, ctx: Context): Promise<S>;
    counting: readonly string[];
    untilSignedIn: string;
  },
): void {
  router.get(path, apiRoute, async (ctx) => {
    let opened: OpenedLogin;
    try {
      opened = await openLogin(app, ctx);
    } catch (error) {
      if (error instanceof InvalidTransaction) {
        ctx.body = { state: 'expired' };
        return;
      }
      throw error;
    }
    const { session } = opened;
    const state = await flow.stateOf(session.uid, ctx);
    if (flow.counting.includes(state.state)) {
      const expiresAt = state.expiresAt ?? app.deps.clock.now();
      ctx.body = {
        state: state.state,
        expires_in: Math.max(0, Math.round((expiresAt - app.deps.clock.now()) / 1000)),
      };
      return;
    }
    if (state.state !== 'verified' || !session.tx.auth) {
      ctx.body = state.state === 'verified' ? { state: flow.untilSignedIn } : state;
      return;
    }
    ctx.body = { state: 'verified', next: await nextAfterWallet(app, ctx, opened) };
  });
}

/** A wallet page: its own assets only; the status polling is a same-origin fetch. */
export function sendWalletPage(ctx: Context, html: string): void {
  noStore(ctx);
  ctx.set(
    'Content-Security-Policy',
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  );
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = html;
}

/**
 * Where a wallet page goes once the wallet signed the person in: a remembered consent finishes
 * here; otherwise the login page shows the consent form.
 */
export async function nextAfterWallet(
  app: InteractionApp,
  ctx: Context,
  opened: OpenedLogin,
): Promise<string> {
  const lang = localeQuery(pageRequest(app, ctx));
  return (
    (await finishIfConsented(app.deps, opened.port, opened.session)) ??
    `${app.basePath}/interaction/${opened.session.uid}${lang ? `?${lang}` : ''}`
  );
}

export function pageRequest(app: InteractionApp, ctx: Context): PageRequest {
  return { basePath: app.basePath, path: ctx.path, uiLocales: ctx.query.ui_locales };
}

/** The page's script (same origin, so the CSP needs no inline allowance). */
export function walletAssetRoutes(router: Router): void {
  router.get('/wallet.js', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.body = WALLET_JS;
  });
}
