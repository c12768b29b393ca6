import type { Router } from '@koa/router';
import type { Context } from 'koa';
import QRCode from 'qrcode';
import type { Clock } from '../../clock.ts';
import { AppError, InvalidRequest } from '../../errors.ts';
import { localeQuery } from '../../oidc/interaction/html-view.ts';
import { pickLocale, textsFor } from '../../oidc/interaction/i18n.ts';
import { walletPage } from '../../oidc/interaction/wallet-page.ts';
import {
  type LinkCodes,
  LinkedRefused,
  linkedAuthenticate,
  linkState,
  linkTransaction,
  newLinkCodeFor,
} from '../../oidc/wallet-login/linked.ts';
import { readJson } from '../body.ts';
import { apiRoute, type InteractionApp, openLogin, pageRoute } from './guards.ts';
import { pageRequest, sendWalletPage, walletStatusRoute } from './wallet-login.ts';

/**
 * eSignet's linked-wallet login (src/oidc/wallet-login/linked.ts), HTTP side:
 *
 * - `GET  <base>/interaction/:uid/linked-wallet`: the page with a new link code as a QR code
 *   (eSignet's deep link) and a same-device button; `GET …/linked-wallet/status?link=` (JSON) is
 *   what the page polls (eSignet's page long-polls `link-status` and `link-auth-code` instead).
 * - `POST <base>/interaction/linked-authorization/v2/link-transaction` and
 *   `POST <base>/interaction/linked-authorization/v2/authenticate`: the wallet's calls, in eSignet's
 *   RequestWrapper `{requestTime, request}` / ResponseWrapper `{responseTime, response, errors}`;
 *   a refusal is a 4xx (eSignet answers 200) with `errors: [{errorCode, errorMessage}]`. No cookie
 *   and no CSRF token: the link code and the linked transaction id are the wallet's capabilities.
 */
export function linkedWalletRoutes(app: InteractionApp, router: Router, codes: LinkCodes): void {
  const { deps } = app;

  router.post('/linked-authorization/v2/link-transaction', apiRoute, (ctx) =>
    esignetAnswer(ctx, deps.clock, async () => {
      const request = await wrapped(app, ctx);
      return linkTransaction(deps, codes, request.linkCode);
    }),
  );

  router.post('/linked-authorization/v2/authenticate', apiRoute, (ctx) =>
    esignetAnswer(ctx, deps.clock, async () => linkedAuthenticate(deps, codes, await wrapped(app, ctx))),
  );

  router.get('/:uid/linked-wallet', pageRoute, async (ctx) => {
    const { session } = await openLogin(app, ctx);
    const request = pageRequest(app, ctx);
    const locale = pickLocale(request.uiLocales ?? session.params.ui_locales, deps.oidc.uiLocales);
    const texts = textsFor(locale);
    const created = await newLinkCodeFor(deps, codes, session);
    if (!created) throw new InvalidRequest('a linked-wallet login is not allowed for this sign-in');
    const lang = localeQuery(request);
    const base = `${app.basePath}/interaction/${session.uid}`;
    const names = session.client.meta.client_names ?? {};
    const html = walletPage(
      { locale, texts, basePath: app.basePath, title: texts.wallet.linkedTitle },
      {
        client: { name: names[locale] ?? session.client.clientName ?? session.client.clientId },
        loginHref: `${base}${lang ? `?${lang}` : ''}`,
        newCodeHref: `${base}/linked-wallet${lang ? `?${lang}` : ''}`,
        statusHref: `${base}/linked-wallet/status?link=${encodeURIComponent(created.ref)}`,
        qrSvg: await QRCode.toString(created.deepLink, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }),
        walletUrl: created.deepLink,
        expiresInSeconds: Math.max(0, Math.round((created.expiresAt - deps.clock.now()) / 1000)),
        linked: true,
      },
    );
    sendWalletPage(ctx, html);
  });

  walletStatusRoute(app, router, '/:uid/linked-wallet/status', {
    stateOf: (uid, ctx) => linkState(codes, uid, ctx.query.link),
    counting: ['waiting', 'linked'],
    untilSignedIn: 'linked',
  });
}

/** eSignet's RequestWrapper: `{ requestTime, request: {...} }`; the inner object. */
async function wrapped(app: InteractionApp, ctx: Context): Promise<Record<string, unknown>> {
  const body = await readJson(ctx, app.bodyLimitBytes);
  const request = body.request;
  if (!request || typeof request !== 'object' || Array.isArray(request))
    throw new LinkedRefused(400, 'invalid_request', 'the body must be {"requestTime", "request": {...}}');
  return request as Record<string, unknown>;
}

/** eSignet's ResponseWrapper, for answers and refusals alike. */
async function esignetAnswer(ctx: Context, clock: Clock, step: () => Promise<unknown>): Promise<void> {
  const responseTime = () => new Date(clock.now()).toISOString();
  try {
    const response = await step();
    ctx.body = { responseTime: responseTime(), response, errors: [] };
  } catch (error) {
    if (!(error instanceof AppError) || error.status >= 500) throw error;
    ctx.status = error.status;
    ctx.body = {
      responseTime: responseTime(),
      response: null,
      errors: [{ errorCode: error.code, errorMessage: error.description }],
    };
  }
}
