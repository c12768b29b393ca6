import { Router } from '@koa/router';
import { createCaptcha } from '../../kyc/captcha.ts';
import type { InteractionDeps } from '../../oidc/interaction/deps.ts';
import { OTP_JS, UI_CSS } from '../../oidc/interaction/pages.ts';
import { acrTable } from '../../oidc/provider.ts';
import { LinkCodes } from '../../oidc/wallet-login/linked.ts';
import type { WalletLogin } from '../../oidc/wallet-login/login.ts';
import { apiRoutes } from './api-routes.ts';
import { BIOMETRIC_JS } from './biometric-assets.ts';
import type { InteractionApp } from './guards.ts';
import { pageRoutes } from './html-routes.ts';
import { walletAssetRoutes, walletLoginRoutes } from './wallet-login.ts';
import { linkedWalletRoutes } from './wallet-login-linked.ts';

/**
 * Login and consent under `<base>/interaction/:uid`: the login steps of src/oidc/interaction/
 * (steps.ts, finish.ts, over a typed session, session.ts, and policy.ts) with two front ends over
 * them here, server-rendered pages (html-routes.ts) and a JSON API (api-routes.ts). oidc-provider
 * is reached only through src/oidc/interaction/provider-port.ts.
 */

export function interactionRoutes(
  { services, state, transactions, provider }: InteractionDeps,
  wallet?: WalletLogin,
): Router {
  const { config, clock } = services;
  const captcha = createCaptcha({
    policy: config.kyc.captcha,
    store: services.store,
    clock,
    logger: services.logger,
  });
  const app: InteractionApp = {
    deps: {
      clock,
      oidc: config.oidc,
      kbiFields: config.kyc.kbiFields,
      state,
      transactions,
      acrTable: acrTable(config),
      captcha,
      audit: services.audit,
      sbi: config.kyc.biometric.sbi,
    },
    basePath: state.basePath,
    bodyLimitBytes: config.http.bodyLimitBytes,
    publicOrigin: new URL(config.resolved.publicUrl).origin,
    provider,
  };
  const router = new Router({ prefix: `${state.basePath}/interaction` });
  // The wallet login (OpenID4VP) first: its wallet-facing paths are not interactions.
  if (wallet) walletLoginRoutes(app, router, wallet);
  // eSignet's linked-wallet login (link code by QR, then the bound key's signed challenge).
  linkedWalletRoutes(app, router, new LinkCodes({ store: services.store, clock }));
  pageRoutes(app, router);
  apiRoutes(app, router);
  return router;
}

/** Static assets of the pages (same origin, so the CSP needs no inline allowances). */
export function assetRoutes(basePath: string): Router {
  const router = new Router({ prefix: `${basePath}/interaction-assets` });
  router.get('/ui.css', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.type = 'text/css; charset=utf-8';
    ctx.body = UI_CSS;
  });
  router.get('/otp.js', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.body = OTP_JS;
  });
  router.get('/biometric.js', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.body = BIOMETRIC_JS;
  });
  walletAssetRoutes(router);
  return router;
}
