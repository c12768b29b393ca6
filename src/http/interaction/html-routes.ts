import type { Router } from '@koa/router';
import type { Context } from 'koa';
import { AppError, InvalidRequest, InvalidTransaction } from '../../errors.ts';
import type { Challenge } from '../../kyc/spi.ts';
import { abortLogin } from '../../oidc/interaction/finish.ts';
import {
  localeQuery,
  type Page,
  type PageRequest,
  sessionPage,
  signInOverPage,
} from '../../oidc/interaction/html-view.ts';
import type { LoginSession } from '../../oidc/interaction/session.ts';
import {
  authenticate,
  consent,
  finishIfConsented,
  sendCode,
  UnmetAuthenticationRequirements,
} from '../../oidc/interaction/steps.ts';
import { readForm, readRaw } from '../body.ts';
import { noStore } from '../middleware.ts';
import { checkPost, type InteractionApp, type OpenedLogin, openLogin, pageRoute } from './guards.ts';

/**
 * The HTML front end: server-rendered pages under `<base>/interaction/:uid`, posting forms to the
 * login steps. What a person can act on (a wrong code, a missing answer) is a state of the page,
 * shown on the form with the error's status so they can retry; a sign-in that is over gets a
 * localized dead end. Everything else goes to the one error handler.
 */
export function pageRoutes(app: InteractionApp, router: Router): void {
  const { deps } = app;

  router.get('/:uid', pageRoute, (ctx) =>
    onPage(app, ctx, async ({ session }) => show(ctx, page(app, ctx, session))),
  );

  router.post('/:uid/send-otp', pageRoute, (ctx) =>
    onPage(app, ctx, async ({ session }) => {
      const form = await readForm(ctx, app.bodyLimitBytes);
      checkPost(app, ctx, session.uid, form.csrf);
      const individualId =
        (form.individual_id ?? '').trim() || deps.transactions.individual(session.tx) || '';
      await inOtpWords('otp', () =>
        sendCode(deps, session, { individualId, captchaToken: form.captcha_token, purpose: 'login' }),
      );
      back(app, ctx, session, 'otp');
    }),
  );

  router.post('/:uid/login', pageRoute, (ctx) =>
    onPage(app, ctx, async ({ session, port }) => {
      const form = await readForm(ctx, app.bodyLimitBytes);
      checkPost(app, ctx, session.uid, form.csrf);
      const input = decodeLogin(form, () => deps.transactions.individual(session.tx));
      await inOtpWords(input.factor, async () => {
        const authenticated = await authenticate(deps, session, input);
        const to = await finishIfConsented(deps, port, authenticated);
        if (to) go(ctx, to);
        else back(app, ctx, authenticated);
      });
    }),
  );

  router.post('/:uid/consent', pageRoute, (ctx) =>
    onPage(app, ctx, async ({ session, port }) => {
      const form = await readRepeatableForm(ctx, app.bodyLimitBytes);
      checkPost(app, ctx, session.uid, form.get('csrf'));
      go(ctx, await consent(deps, port, session, form.getAll('claim')));
    }),
  );

  router.post('/:uid/abort', pageRoute, (ctx) =>
    onPage(app, ctx, async ({ session, port }) => {
      const form = await readForm(ctx, app.bodyLimitBytes);
      checkPost(app, ctx, session.uid, form.csrf);
      go(ctx, await abortLogin(port));
    }),
  );
}

/**
 * Runs a page step. A sign-in that is over gets its dead-end page, an unmeetable one goes back to
 * the relying party; a client error of the step shows the page again with the error on it.
 */
async function onPage(app: InteractionApp, ctx: Context, step: (opened: OpenedLogin) => Promise<void>) {
  let opened: OpenedLogin;
  try {
    opened = await openLogin(app, ctx);
  } catch (error) {
    if (error instanceof InvalidTransaction) return showOver(app, ctx, error);
    if (error instanceof UnmetAuthenticationRequirements) return go(ctx, error.redirectTo);
    throw error;
  }
  try {
    await step(opened);
  } catch (error) {
    if (error instanceof InvalidTransaction) return showOver(app, ctx, error);
    if (!(error instanceof AppError) || error.status >= 500) throw error;
    const fresh = await openLogin(app, ctx);
    for (const [name, value] of Object.entries(error.headers)) ctx.set(name, value);
    show(ctx, page(app, ctx, fresh.session, error.code), error.status);
  }
}

/** Expired, finished or foreign sign-ins: the localized dead end, with the error's status. */
function showOver(app: InteractionApp, ctx: Context, error: AppError): void {
  show(ctx, signInOverPage(app.deps, pageRequest(app, ctx), error), error.status);
}

/** How a refused factor reads on the page: a one-time code "is not correct or has expired", a capture "was not accepted". */
const FAILED_AS: Record<string, string> = { otp: 'wrong_code', biometric: 'capture_rejected' };

async function inOtpWords<T>(factor: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const code = FAILED_AS[factor];
    if (!code || !(error instanceof AppError) || error.code !== 'auth_failed') throw error;
    throw new AppError(error.status, code, error.description, {
      headers: error.headers,
      cause: error,
    });
  }
}

function pageRequest(app: InteractionApp, ctx: Context): PageRequest {
  const { ui_locales: uiLocales, factor } = ctx.query;
  return {
    basePath: app.basePath,
    path: ctx.path,
    uiLocales,
    factor: typeof factor === 'string' ? factor : undefined,
    requestId: ctx.state.requestId as string | undefined,
  };
}

const page = (app: InteractionApp, ctx: Context, session: LoginSession, error?: string): Page =>
  sessionPage(app.deps, pageRequest(app, ctx), session, error);

function show(ctx: Context, shown: Page, status = 200): void {
  ctx.set('Content-Security-Policy', shown.csp);
  noStore(ctx);
  ctx.type = 'text/html; charset=utf-8';
  ctx.status = status;
  ctx.body = shown.html;
}

/** Back to the session's page (another factor, or the consent form), keeping the language. */
function back(app: InteractionApp, ctx: Context, session: LoginSession, factor?: string): void {
  const query = [factor ? `factor=${factor}` : '', localeQuery(pageRequest(app, ctx))]
    .filter(Boolean)
    .join('&');
  go(ctx, `${app.basePath}/interaction/${session.uid}${query ? `?${query}` : ''}`);
}

function go(ctx: Context, to: string): void {
  ctx.status = 303;
  ctx.redirect(to);
}

/** The sign-in form of one factor; an OTP goes with the individual ID it was sent for. */
function decodeLogin(form: Record<string, string>, sentTo: () => string | undefined) {
  const factor = form.factor ?? '';
  let individualId = (form.individual_id ?? '').trim();
  let value: Challenge['value'] = '';
  if (factor === 'otp') {
    individualId = sentTo() ?? individualId;
    value = (form.otp ?? '').trim();
  } else if (factor === 'pin' || factor === 'password') {
    value = form[factor] ?? '';
  } else if (factor === 'kbi') {
    value = kbiAnswers(form);
  } else if (factor === 'biometric') {
    // The capture device's signed capture, put in the form by the page's script (biometric.js).
    value = (form.capture ?? '').trim();
  }
  return { factor, individualId, value, captchaToken: form.captcha_token };
}

function kbiAnswers(form: Record<string, string>): Record<string, string> {
  const answers: Record<string, string> = {};
  for (const [name, value] of Object.entries(form))
    if (name.startsWith('kbi_')) answers[name.slice(4)] = value.trim();
  if (Object.keys(answers).length === 0) throw new InvalidRequest('the knowledge-based answers are required');
  return answers;
}

/** A form body where a field may repeat (the consent checkboxes). */
async function readRepeatableForm(ctx: Context, limit: number): Promise<URLSearchParams> {
  if (ctx.request.type !== 'application/x-www-form-urlencoded') {
    throw new InvalidRequest('Content-Type must be application/x-www-form-urlencoded');
  }
  const raw = await readRaw(ctx, limit);
  const params = new URLSearchParams(raw.toString('utf8'));
  if (params.getAll('csrf').length > 1)
    throw new InvalidRequest('parameter "csrf" is included more than once');
  return params;
}
