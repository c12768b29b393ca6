import type { Router } from '@koa/router';
import type { Context } from 'koa';
import { InvalidRequest } from '../../errors.ts';
import { CAPTCHA_ACTIONS } from '../../kyc/captcha.ts';
import type { Challenge, OtpPurpose, OtpSent } from '../../kyc/spi.ts';
import { abortLogin } from '../../oidc/interaction/finish.ts';
import { clientView } from '../../oidc/interaction/html-view.ts';
import { pickLocale } from '../../oidc/interaction/i18n.ts';
import {
  acrRules,
  claimSet,
  consentRequired,
  credentialIds,
  factorsFor,
  systemFor,
  transactionRef,
  verifiedClaimDetails,
} from '../../oidc/interaction/policy.ts';
import { type LoginDeps, type LoginSession, resendAfterSeconds } from '../../oidc/interaction/session.ts';
import {
  authenticate,
  bindWallet,
  consent,
  finishIfConsented,
  sendCode,
  walletBinder,
} from '../../oidc/interaction/steps.ts';
import { readJson } from '../body.ts';
import { apiRoute, checkPost, type InteractionApp, type OpenedLogin, openLogin } from './guards.ts';

/**
 * The JSON API under `<base>/interaction/:uid/api`, for integrators' own front ends (eSignet's UI
 * works this way): the same steps as the pages. Every POST carries the CSRF token in `X-CSRF-Token`;
 * errors are OAuth-style JSON from the one error handler.
 */
export function apiRoutes(app: InteractionApp, router: Router): void {
  const { deps } = app;

  router.get('/:uid/api', apiRoute, async (ctx) => {
    const { session } = await openLogin(app, ctx);
    ctx.body = encodeStatus(deps, session);
  });

  router.post('/:uid/api/send-otp', apiRoute, async (ctx) => {
    const { session, body } = await openPost(app, ctx);
    const purpose = decodePurpose(stringField(body, 'purpose') || 'login');
    const individualId = stringField(body, 'individual_id');
    const sent = await sendCode(deps, session, { individualId, captchaToken: body.captcha_token, purpose });
    ctx.body = encodeSent(sent);
  });

  router.post('/:uid/api/authenticate', apiRoute, (ctx) => postAuthenticate(app, ctx));
  router.post('/:uid/api/bind-wallet', apiRoute, (ctx) => postBindWallet(app, ctx));

  router.post('/:uid/api/consent', apiRoute, async (ctx) => {
    const { session, port, body } = await openPost(app, ctx);
    const accepted = body.accepted_claims ?? [];
    if (!Array.isArray(accepted) || !accepted.every((c) => typeof c === 'string')) {
      throw new InvalidRequest('accepted_claims must be an array of claim names');
    }
    ctx.body = { redirect_to: await consent(deps, port, session, accepted) };
  });

  router.post('/:uid/api/abort', apiRoute, async (ctx) => {
    const { session, port } = await openLogin(app, ctx);
    checkPost(app, ctx, session.uid, ctx.get('X-CSRF-Token'));
    ctx.body = { redirect_to: await abortLogin(port) };
  });
}

/** One factor of the login; then the redirect, or the claims the consent step will ask about. */
async function postAuthenticate(app: InteractionApp, ctx: Context): Promise<void> {
  const { deps } = app;
  const { session, port, body } = await openPost(app, ctx);
  const factor = stringField(body, 'factor');
  let individualId = stringField(body, 'individual_id');
  if (factor === 'otp' && !individualId) individualId = deps.transactions.individual(session.tx) ?? '';
  const value = decodeChallenge(body.challenge);
  const input = { factor, individualId, value, captchaToken: body.captcha_token };
  const authenticated = await authenticate(deps, session, input);
  const to = await finishIfConsented(deps, port, authenticated);
  const set = claimSet(deps, authenticated);
  ctx.body = to
    ? { consent_required: false, redirect_to: to }
    : {
        consent_required: true,
        essential_claims: set.essential,
        voluntary_claims: set.voluntary,
        // Details asked for as verified (OpenID Connect for Identity Assurance) and how each is verified.
        verified_claims: verifiedClaimDetails(deps, authenticated),
      };
}

/**
 * Wallet binding (SECURITY.md row 49): after `send-otp` with `purpose: "wallet-binding"`, the
 * wallet posts `{ individual_id?, otp, public_key }` (a public JWK); see `bindWallet`.
 */
async function postBindWallet(app: InteractionApp, ctx: Context): Promise<void> {
  const { deps } = app;
  const { session, body } = await openPost(app, ctx);
  const binder = walletBinder(deps, session);
  const individualId = stringField(body, 'individual_id') || deps.transactions.individual(session.tx) || '';
  // Without an individual ID the step refuses that first, whatever `otp` holds.
  const otp = individualId ? stringField(body, 'otp') : '';
  const input = { individualId, otp, publicKey: body.public_key };
  const bound = await bindWallet(binder, session, input);
  ctx.body = { key_thumbprint: bound.thumbprint, expires_at: new Date(bound.expiresAt).toISOString() };
}

/** Session, then JSON body, then the origin and CSRF checks. */
async function openPost(app: InteractionApp, ctx: Context) {
  const opened: OpenedLogin = await openLogin(app, ctx);
  const body = await readJson(ctx, app.bodyLimitBytes);
  checkPost(app, ctx, opened.session.uid, ctx.get('X-CSRF-Token'));
  return { ...opened, body };
}

/** Where the sign-in stands and what it may use: what a front end needs to draw its screens. */
function encodeStatus(deps: LoginDeps, session: LoginSession) {
  const { client, tx } = session;
  const system = systemFor(deps, session);
  const factors = factorsFor(deps, session, system);
  const set = claimSet(deps, session);
  const locale = pickLocale(session.params.ui_locales, deps.oidc.uiLocales);
  const view = clientView(session, locale);
  const { captcha, oidc } = deps;
  return {
    transaction_id: session.uid,
    csrf_token: deps.transactions.csrf(session.uid),
    client: {
      client_id: client.clientId,
      client_name: view.name,
      client_names: client.meta.client_names ?? {},
      logo_uri: view.logoUri ?? null,
    },
    ui_locale: locale,
    acr_values: acrRules(deps, session).map((r) => ({ acr: r.acr, factors: r.factors })),
    factors,
    otp_channels: system.otpChannels(),
    captcha_required: captcha.required('send-otp'),
    captcha_required_for: CAPTCHA_ACTIONS.filter((a) => captcha.required(a)),
    wallet_nonce:
      factors.includes('wallet') && system.walletNonce ? system.walletNonce(transactionRef(session)) : null,
    kbi_fields: system.kbiFields?.() ?? deps.kbiFields,
    essential_claims: set.essential,
    voluntary_claims: set.voluntary,
    verified_claims: verifiedClaimDetails(deps, session),
    credential_configuration_ids: credentialIds(deps, session),
    authenticated: !!tx.auth,
    consent_prompt: consentRequired(session),
    otp: tx.otp
      ? { masked_to: tx.otp.maskedTo, resend_after_seconds: resendAfterSeconds(deps, tx.otp) }
      : null,
    expires_at: new Date(
      tx.auth
        ? tx.auth.at + oidc.consentTransactionSeconds * 1000
        : tx.createdAt + oidc.loginTransactionSeconds * 1000,
    ).toISOString(),
  };
}

function encodeSent(sent: OtpSent) {
  return {
    masked_to: sent.maskedTo,
    resend_after_seconds: sent.resendAfterSeconds ?? 0,
    expires_in_seconds: sent.expiresInSeconds ?? null,
    sends_left: sent.sendsLeft ?? null,
  };
}

function decodePurpose(purpose: string): OtpPurpose {
  if (purpose === 'login') return 'login';
  if (purpose === 'wallet-binding') return 'wallet_binding';
  throw new InvalidRequest('purpose must be login or wallet-binding');
}

function decodeChallenge(challenge: unknown): Challenge['value'] {
  if (typeof challenge === 'string') return challenge;
  if (challenge && typeof challenge === 'object' && !Array.isArray(challenge)) {
    return Object.fromEntries(Object.entries(challenge).map(([k, v]) => [k, String(v)]));
  }
  throw new InvalidRequest('challenge must be a string or an object of answers');
}

function stringField(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new InvalidRequest(`${name} must be a string`);
  return value.trim();
}
