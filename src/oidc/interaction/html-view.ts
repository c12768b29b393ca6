import type { AppError } from '../../errors.ts';
import type { Factor } from '../../kyc/spi.ts';
import { biometricCsp, biometricTexts, DEFAULT_SBI } from './biometric-page.ts';
import { pickLocale, textsFor } from './i18n.ts';
import { type ClientView, consentPage, errorPage, loginPage, type PageFrame } from './pages.ts';
import { claimSet, credentialIds, factorsFor, systemFor, verifiedClaimDetails } from './policy.ts';
import { type LoginDeps, type LoginSession, resendAfterSeconds } from './session.ts';

/**
 * What the pages show for a session: the login form (one factor at a time) before authentication,
 * the consent form after, and a localized dead end for a sign-in that is over. Pure: the HTML
 * front end (html-routes.ts) writes what these return.
 */

const PAGE_FACTORS: readonly Factor[] = ['otp', 'pin', 'password', 'kbi', 'biometric', 'vp', 'wallet'];

/** The page's own address and query: the language and factor the person chose. */
export interface PageRequest {
  readonly basePath: string;
  readonly path: string;
  readonly uiLocales?: string | string[];
  readonly factor?: string;
  readonly requestId?: string;
}

export interface Page {
  readonly html: string;
  readonly csp: string;
}

/** `ui_locales=…` of the page's query, carried into the links and redirects of the page. */
export function localeQuery(request: PageRequest): string {
  return typeof request.uiLocales === 'string' ? `ui_locales=${encodeURIComponent(request.uiLocales)}` : '';
}

function frameFor(
  deps: LoginDeps,
  request: PageRequest,
  session: LoginSession | undefined,
  title: string,
): PageFrame {
  const locale = pickLocale(request.uiLocales ?? session?.params.ui_locales, deps.oidc.uiLocales);
  const factor = request.factor ? `&factor=${encodeURIComponent(request.factor)}` : '';
  return {
    locale,
    texts: textsFor(locale),
    basePath: request.basePath,
    title,
    languages: deps.oidc.uiLocales.map((l) => ({
      locale: l,
      name: textsFor(l).languageName,
      href: `${request.path}?ui_locales=${encodeURIComponent(l)}${factor}`,
    })),
  };
}

export function clientView(session: LoginSession, locale: string): ClientView {
  const { client } = session;
  const names = client.meta.client_names ?? {};
  return { name: names[locale] ?? client.clientName ?? client.clientId, logoUri: client.meta.logo_uri };
}

/** CSP for the pages: own assets only; the form may lead (through redirects) to the RP's redirect_uri. */
function pageCsp(session: LoginSession): string {
  const redirect = URL.parse(String(session.params.redirect_uri ?? ''))?.origin;
  const logo = URL.parse(String(session.client.meta.logo_uri ?? ''))?.origin;
  const formAction = ["'self'", redirect && redirect !== 'null' ? redirect : ''].filter(Boolean).join(' ');
  const img = ["'self'", 'data:', logo && logo !== 'null' ? logo : ''].filter(Boolean).join(' ');
  return `default-src 'none'; style-src 'self'; script-src 'self'; img-src ${img}; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`;
}

/** The login or consent page of a session; `error` is a key of the texts' `errors`. */
export function sessionPage(
  deps: LoginDeps,
  request: PageRequest,
  session: LoginSession,
  error?: string,
): Page {
  const frame = frameFor(deps, request, session, '');
  const { texts } = frame;
  const client = clientView(session, frame.locale);
  const action = `${request.basePath}/interaction/${session.uid}`;
  const csrf = deps.transactions.csrf(session.uid);
  const message = error ? (texts.errors[error] ?? texts.errors.server_error) : undefined;
  const csp = pageCsp(session);
  if (session.tx.auth) {
    const set = claimSet(deps, session);
    const verified = verifiedClaimDetails(deps, session);
    const view = { client, action, csrf, essential: set.essential, voluntary: set.voluntary, verified };
    const credentials = credentialIds(deps, session);
    return {
      csp,
      html: consentPage({ ...frame, title: texts.consentTitle }, { ...view, credentials, error: message }),
    };
  }
  const system = systemFor(deps, session);
  const factors = factorsFor(deps, session, system).filter((f) => PAGE_FACTORS.includes(f));
  const wanted = request.factor;
  const selected = wanted && factors.includes(wanted as Factor) ? wanted : (factors[0] ?? 'none');
  const sent = session.tx.otp;
  const otp =
    selected === 'otp' && sent
      ? { maskedTo: sent.maskedTo, resendAfterSeconds: resendAfterSeconds(deps, sent) }
      : undefined;
  const langSuffix = localeQuery(request);
  const sbi = deps.sbi ?? DEFAULT_SBI;
  const biometric =
    selected === 'biometric'
      ? { transactionId: session.uid, sbi, texts: biometricTexts(frame.locale) }
      : undefined;
  const html = loginPage(
    { ...frame, title: client.name },
    {
      client,
      action,
      csrf,
      factors,
      selected,
      // The wallet logins have their own pages (src/http/interaction/wallet-login*.ts).
      factorHref: (f) =>
        f === 'vp' || f === 'linked-wallet'
          ? `${action}/${f === 'vp' ? 'wallet' : f}${langSuffix ? `?${langSuffix}` : ''}`
          : `${action}?factor=${f}${langSuffix ? `&${langSuffix}` : ''}`,
      kbiFields: system.kbiFields?.() ?? deps.kbiFields,
      otp,
      individualId: otp ? deps.transactions.individual(session.tx) : undefined,
      captcha: deps.captcha.required('send-otp'),
      captchaLogin: deps.captcha.required('authenticate'),
      biometric,
      error: message,
    },
  );
  return { csp: biometric ? biometricCsp(csp, sbi) : csp, html };
}

/** Expired, finished or foreign sign-ins: a localized dead end that says what to do next. */
export function signInOverPage(deps: LoginDeps, request: PageRequest, error: AppError): Page {
  const locale = pickLocale(request.uiLocales, deps.oidc.uiLocales);
  const texts = textsFor(locale);
  const html = errorPage(
    { locale, texts, basePath: request.basePath, title: texts.errorTitle },
    texts.errors.invalid_transaction ?? error.description,
    error.code,
    request.requestId,
  );
  const csp =
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";
  return { html, csp };
}
