import { Router } from '@koa/router';
import type { Context } from 'koa';
import { sha256 } from '../../audit/audit.ts';
import {
  AppError,
  AuthFailed,
  Forbidden,
  InvalidRequest,
  InvalidTransaction,
  ServerError,
} from '../../errors.ts';
import { readForm, readJson, readRaw } from '../../http/body.ts';
import { noStore } from '../../http/middleware.ts';
import { CAPTCHA_ACTIONS, createCaptcha } from '../../kyc/captcha.ts';
import type { Challenge, Factor, IdentitySystem, OtpPurpose } from '../../kyc/spi.ts';
import type { Services } from '../../services.ts';
import {
  ALL_USER_CLAIMS,
  AMR,
  type ClaimSet,
  describeRequest,
  parseClaimsParam,
  releasedClaims,
  requestedAcrs,
  resolveAcrs,
  SCOPE_CLAIMS,
  satisfiedAcr,
} from '../claims.ts';
import type { OidcProvider } from '../provider.ts';
import { acrTable } from '../provider.ts';
import type { OidcState } from '../state.ts';
import { pickLocale, textsFor } from './i18n.ts';
import {
  type ClientView,
  consentPage,
  errorPage,
  loginPage,
  OTP_JS,
  type PageFrame,
  UI_CSS,
} from './pages.ts';
import type { LoginTransaction, LoginTransactions } from './transactions.ts';

/**
 * Login and consent: server-rendered pages under `<base>/interaction/:uid` and, beside them, a JSON
 * API under `<base>/interaction/:uid/api` for integrators' own front ends (eSignet's UI works this
 * way). Both run the same steps: send an OTP, authenticate through the client's identity system,
 * consent (released = requested ∩ client-allowed ∩ accepted), finish the oidc-provider interaction.
 *
 * CSRF: every POST carries a token bound to the interaction (form field `csrf` or header
 * `X-CSRF-Token`), and a cross-site `Origin`/`Sec-Fetch-Site` is refused. oidc-provider binds the
 * interaction to the browser through its `_interaction` cookie (interactionDetails fails without it).
 */

type Any = any;

export interface InteractionDeps {
  readonly services: Services;
  readonly state: OidcState;
  readonly transactions: LoginTransactions;
  provider(): Promise<OidcProvider>;
}

interface Loaded {
  provider: OidcProvider;
  details: Any;
  client: Any;
  meta: Record<string, unknown>;
  tx: LoginTransaction;
  params: Record<string, unknown>;
}

const PAGE_FACTORS: readonly Factor[] = ['otp', 'pin', 'password', 'kbi'];
const UNMET = 'unmet_authentication_requirements';

export function interactionRoutes(deps: InteractionDeps): Router {
  const { services, state, transactions } = deps;
  const { config, clock } = services;
  const base = state.basePath;
  const router = new Router({ prefix: `${base}/interaction` });
  const publicOrigin = new URL(config.resolved.publicUrl).origin;
  const table = acrTable(config);
  const captcha = createCaptcha({
    policy: config.kyc.captcha,
    store: services.store,
    clock,
    logger: services.logger,
  });

  // --- shared steps -------------------------------------------------------------------------

  async function load(ctx: Context): Promise<Loaded> {
    const provider = await deps.provider();
    let details: Any;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
    } catch {
      throw new InvalidTransaction('this sign-in has expired or was started in another browser');
    }
    if (details.uid !== ctx.params.uid)
      throw new InvalidTransaction('this sign-in does not belong to this browser');
    const params = details.params as Record<string, unknown>;
    const client = await provider.Client.find(params.client_id);
    if (!client) throw new InvalidTransaction('the application of this sign-in is no longer registered');
    const tx = await transactions.open(details.uid, client.clientId);
    if (transactions.expired(tx)) throw new InvalidTransaction('this sign-in has expired');
    const loaded = { provider, details, client, meta: client.metadata(), tx, params };
    if (!tx.auth) await refuseUnmet(ctx, loaded);
    return loaded;
  }

  /**
   * An authentication requirement nobody could meet here ends the login with an error response to
   * the relying party; otherwise the person would log in and oidc-provider, finding the essential
   * `acr` unmet, would start another login, and so on. OIDC Core 1.0 §5.5.1.1
   * (https://openid.net/specs/openid-connect-core-1_0.html#acrSemantics): an essential `acr` that
   * cannot be met MUST be treated as a failed authentication; the code is
   * `unmet_authentication_requirements` (OpenID Connect Core Error Code
   * unmet_authentication_requirements 1.0 §1, which also allows it for other unmet requirements:
   * here `acr_values` none of which the service supports and the client may use, and a login no
   * factor of the identity system can satisfy). A voluntary `acr` claim falls back to any allowed
   * level, as the spec lets it. Pages redirect the browser; the JSON API answers the error with
   * `redirect_to`.
   */
  async function refuseUnmet(ctx: Context, loaded: Loaded): Promise<void> {
    const acr = parseClaimsParam(loaded.params.claims).id_token?.acr;
    const fromClaims = Boolean(acr && (acr.values?.length || typeof acr.value === 'string'));
    const requested = requestedAcrs(loaded.params);
    const strict = requested.length > 0 && (!fromClaims || acr?.essential === true);
    const allowed = loaded.meta.allowed_acr_values as string[] | undefined;
    const usable = table.filter((r) => !allowed?.length || allowed.includes(r.acr));
    let reason: string | undefined;
    if (strict && !usable.some((r) => requested.includes(r.acr))) {
      reason = 'none of the requested authentication levels (acr) is available to this application';
    } else if (factorsFor(loaded, systemFor(loaded)).length === 0) {
      reason = 'no way of signing in meets the requested authentication level';
    }
    if (!reason) return;
    const to: string = await loaded.provider.interactionResult(
      ctx.req,
      ctx.res,
      { error: UNMET, error_description: reason },
      { mergeWithLastSubmission: false },
    );
    throw new AppError(400, UNMET, reason, { extra: { redirect_to: to } });
  }

  function checkPost(ctx: Context, uid: string, presented: unknown): void {
    // Browsers send `Origin: null` on form posts from a no-referrer page; Fetch Metadata then decides.
    const origin = ctx.get('Origin');
    const site = ctx.get('Sec-Fetch-Site');
    if (
      (origin && origin !== 'null' && origin !== publicOrigin) ||
      (site && site !== 'same-origin' && site !== 'none')
    ) {
      throw new Forbidden('cross-site request refused');
    }
    if (!transactions.checkCsrf(uid, presented)) throw new Forbidden('missing or invalid CSRF token');
  }

  function systemFor(loaded: Loaded): IdentitySystem {
    const systems = state.links.identitySystems;
    if (!systems) throw new ServerError('no identity system is registered');
    const named = loaded.meta.identity_system;
    return typeof named === 'string' ? systems.get(named) : systems.forClient(loaded.client.clientId);
  }

  function txRef(loaded: Loaded) {
    const uris = loaded.client.redirectUris as string[];
    const sector = loaded.meta.sector_identifier_uri
      ? new URL(String(loaded.meta.sector_identifier_uri)).host
      : uris[0]
        ? new URL(uris[0]).host
        : loaded.client.clientId;
    return {
      transactionId: loaded.details.uid as string,
      clientId: loaded.client.clientId as string,
      sectorIdentifier: sector,
    };
  }

  function acrRules(loaded: Loaded) {
    const allowed = loaded.meta.allowed_acr_values as string[] | undefined;
    return resolveAcrs(table, requestedAcrs(loaded.params), allowed);
  }

  /** Factors this login may use: those the ACRs allow and the identity system supports. */
  function factorsFor(loaded: Loaded, system: IdentitySystem): Factor[] {
    const supported = system.supportedFactors();
    const wanted = new Set(acrRules(loaded).flatMap((r) => r.factors));
    return [...wanted].filter((f) => supported.includes(f));
  }

  function claimSet(loaded: Loaded): ClaimSet {
    return describeRequest(
      loaded.params,
      loaded.meta.allowed_claims as string[] | undefined,
      state.extraClaimsFor(loaded.params),
    );
  }

  function credentialIds(loaded: Loaded): string[] {
    const set = claimSet(loaded);
    const scopes = state.links.credentialConfigurations?.scopes();
    const fromScope = scopes ? set.scopes.flatMap((s) => (scopes.has(s) ? [scopes.get(s)!] : [])) : [];
    const fromDetails = set.authorizationDetails.flatMap((d) =>
      d.type === 'openid_credential' && typeof d.credential_configuration_id === 'string'
        ? [d.credential_configuration_id]
        : [],
    );
    return [...new Set([...fromScope, ...fromDetails])];
  }

  /**
   * Sends a code for logging in (`login`) or for binding a wallet key (`wallet_binding`); the code
   * only works for its purpose. The captcha (config `kyc.captcha.requiredFor`: `send-otp`,
   * `binding-otp`) is checked before anything is sent (SECURITY.md row 15); the OTP send limits per
   * transaction and per individual apply to both purposes. Known and unknown Individual IDs get the
   * same answer (SECURITY.md row 47): the identity system shows a decoy destination for the latter.
   */
  async function sendOtp(
    loaded: Loaded,
    individualId: string,
    captchaToken: unknown,
    purpose: OtpPurpose = 'login',
  ) {
    if (!individualId) throw new InvalidRequest('individual_id is required');
    if (individualId.length > 64) throw new InvalidRequest('individual_id is too long');
    const system = systemFor(loaded);
    const allowed = factorsFor(loaded, system);
    if (purpose === 'login' && !allowed.includes('otp'))
      throw new InvalidRequest('a one-time code is not allowed here');
    if (purpose === 'wallet_binding' && !(allowed.includes('wallet') && system.bindWallet))
      throw new InvalidRequest('wallet binding is not available here');
    const channel = system.otpChannels()[0];
    if (!channel) throw new InvalidRequest('this identity system cannot send one-time codes');
    await captcha.check(purpose === 'login' ? 'send-otp' : 'binding-otp', captchaToken);
    const sent = (await system.sendOtp(individualId, channel, txRef(loaded), purpose)) as {
      maskedTo: string;
      resendAfterSeconds?: number;
      expiresInSeconds?: number;
      sendsLeft?: number;
    };
    const resendAt = clock.now() + (sent.resendAfterSeconds ?? 0) * 1000;
    await transactions.rememberIndividual(loaded.details.uid, individualId, {
      maskedTo: sent.maskedTo,
      resendAt,
    });
    return sent;
  }

  async function authenticate(
    loaded: Loaded,
    factor: string,
    individualId: string,
    value: Challenge['value'],
    captchaToken: unknown,
  ) {
    const system = systemFor(loaded);
    if (!factorsFor(loaded, system).includes(factor as Factor)) {
      throw new InvalidRequest(`the factor "${factor}" is not allowed for this sign-in`);
    }
    if (!individualId) throw new InvalidRequest('individual_id is required');
    if (value === '' || value === undefined) throw new InvalidRequest('the challenge value is required');
    // Before the attempt counts: a bot without a solved captcha spends nobody's attempts.
    await captcha.check('authenticate', captchaToken);
    const result = await system.authenticate(
      individualId,
      [{ factor: factor as Factor, value }],
      txRef(loaded),
    );
    const verified = [...new Set([...result.factors, factor as Factor])];
    const acr = satisfiedAcr(acrRules(loaded), verified);
    if (!acr) throw new AuthFailed('the verified factors do not satisfy the requested authentication level');
    const tx = await transactions.authenticated(loaded.details.uid, {
      subject: result.subject,
      accountId: result.accountId,
      identitySystem: system.name,
      factors: verified,
      acr,
      kycToken: result.kycToken,
    });
    if (!tx) throw new InvalidTransaction('this sign-in was already completed');
    return { ...loaded, tx };
  }

  function consentRequired(loaded: Loaded): boolean {
    const prompts = String(loaded.params.prompt ?? '').split(' ');
    return prompts.includes('consent');
  }

  /** After authentication: a remembered consent for the same claim set finishes at once. */
  async function afterAuthentication(ctx: Context, loaded: Loaded): Promise<string | undefined> {
    const auth = loaded.tx.auth!;
    if (consentRequired(loaded)) return undefined;
    const set = claimSet(loaded);
    const remembered = await state.consents.matching(loaded.client.clientId, auth.subject, set.fingerprint);
    if (!remembered) return undefined;
    if (!(await transactions.claimConsent(loaded.details.uid)))
      throw new InvalidTransaction('this sign-in was already completed');
    return finish(ctx, loaded, set, remembered.acceptedClaims, remembered.expiresAt);
  }

  /** Creates the grant, records KYC and consent, and completes the interaction. Returns where to go. */
  async function finish(
    ctx: Context,
    loaded: Loaded,
    set: ClaimSet,
    accepted: readonly string[],
    /** A remembered consent keeps its own expiry: reusing it never extends it. */
    consentExpiresAt?: number,
  ): Promise<string> {
    const { provider, client, params, tx } = loaded;
    const auth = tx.auth!;
    const { released, declined } = releasedClaims(set, accepted);
    const lifetime = consentExpiresAt
      ? Math.max(1, Math.floor((consentExpiresAt - clock.now()) / 1000))
      : config.oidc.consentTtlSeconds;
    // The grant (and so every token from it, see ttl in provider.ts) ends when the consent does.
    const grant = new provider.Grant({
      accountId: auth.subject,
      clientId: client.clientId,
      expiresIn: lifetime,
    });
    const credentialScopes = state.links.credentialConfigurations?.scopes();
    const oidcScopes = set.scopes.filter(
      (s) => s === 'openid' || s === 'offline_access' || s in SCOPE_CLAIMS || credentialScopes?.has(s),
    );
    if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
    if (typeof params.resource === 'string' && params.resource) {
      grant.addResourceScope(params.resource, oidcScopes.join(' '));
    }
    if (released.length) grant.addOIDCClaims(withVariants(released, config.oidc.uiLocales));
    const withheld = ALL_USER_CLAIMS.filter((c) => !released.includes(c));
    if (withheld.length) grant.rejectOIDCClaims(withVariants(withheld, config.oidc.uiLocales));
    for (const detail of set.authorizationDetails) grant.addRar(detail);
    const grantId: string = await grant.save();
    const claimsLocales =
      typeof params.claims_locales === 'string' ? params.claims_locales.split(' ').filter(Boolean) : [];
    await state.grants.save(
      {
        _id: grantId,
        clientId: client.clientId,
        transactionId: loaded.details.uid,
        accountId: auth.accountId,
        subject: auth.subject,
        identitySystem: auth.identitySystem,
        consentedClaims: released,
        claimsLocales,
        acr: auth.acr,
        amr: auth.factors.map((f) => AMR[f]),
        credentialConfigurationIds: credentialIds(loaded),
        authorizationDetails: set.authorizationDetails,
        kycToken: transactions.kycToken(tx),
      },
      lifetime,
    );
    if (!consentExpiresAt) {
      await state.consents.remember(
        {
          clientId: client.clientId,
          subject: auth.subject,
          accountId: auth.accountId,
          identitySystem: auth.identitySystem,
          fingerprint: set.fingerprint,
          scopes: set.scopes,
          acceptedClaims: released,
          declinedClaims: declined,
          authorizationDetails: set.authorizationDetails,
        },
        config.oidc.consentTtlSeconds,
      );
    }
    await services.audit.record({
      type: 'consent_given',
      transactionId: loaded.details.uid,
      clientId: client.clientId,
      subjectHash: services.audit.subjectHash(auth.accountId),
      grantHash: sha256(grantId),
      claims: released,
      remembered: consentExpiresAt !== undefined,
      ...(credentialIds(loaded).length ? { configurationIds: credentialIds(loaded) } : {}),
    });
    return provider.interactionResult(
      ctx.req,
      ctx.res,
      {
        login: {
          accountId: auth.subject,
          acr: auth.acr,
          amr: auth.factors.map((f) => AMR[f]),
          // No `ts`: oidc-provider stamps auth_time with its own clock, the one max_age is checked against.
          remember: true,
        },
        consent: { grantId },
      },
      { mergeWithLastSubmission: false },
    );
  }

  async function consent(ctx: Context, loaded: Loaded, accepted: readonly string[]): Promise<string> {
    if (!loaded.tx.auth) throw new InvalidTransaction('sign in before giving consent');
    const set = claimSet(loaded);
    const unknown = accepted.filter((c) => !set.voluntary.includes(c) && !set.essential.includes(c));
    if (unknown.length) throw new InvalidRequest(`claims not requested: ${unknown.join(', ')}`);
    if (!(await transactions.claimConsent(loaded.details.uid)))
      throw new InvalidTransaction('consent was already given');
    return finish(ctx, loaded, set, accepted);
  }

  async function abort(ctx: Context, loaded: Loaded): Promise<string> {
    return loaded.provider.interactionResult(
      ctx.req,
      ctx.res,
      { error: 'access_denied', error_description: 'the person cancelled the sign-in' },
      { mergeWithLastSubmission: false },
    );
  }

  // --- pages --------------------------------------------------------------------------------

  function frameFor(ctx: Context, loaded: Loaded | undefined, title: string): PageFrame {
    const requested =
      (ctx.query.ui_locales as string | undefined) ?? (loaded?.params.ui_locales as string | undefined);
    const locale = pickLocale(requested, config.oidc.uiLocales);
    const texts = textsFor(locale);
    const path = ctx.path;
    const factor =
      typeof ctx.query.factor === 'string' ? `&factor=${encodeURIComponent(ctx.query.factor)}` : '';
    return {
      locale,
      texts,
      basePath: base,
      title,
      languages: config.oidc.uiLocales.map((l) => ({
        locale: l,
        name: textsFor(l).languageName,
        href: `${path}?ui_locales=${encodeURIComponent(l)}${factor}`,
      })),
    };
  }

  function clientView(loaded: Loaded, locale: string): ClientView {
    const names = (loaded.meta.client_names as Record<string, string> | undefined) ?? {};
    const logo = loaded.meta.logo_uri as string | undefined;
    return { name: names[locale] ?? loaded.client.clientName ?? loaded.client.clientId, logoUri: logo };
  }

  /** CSP for the pages: own assets only; the form may lead (through redirects) to the RP's redirect_uri. */
  function pageHeaders(ctx: Context, loaded: Loaded): void {
    const redirect = URL.parse(String(loaded.params.redirect_uri ?? ''))?.origin;
    const logo = URL.parse(String(loaded.meta.logo_uri ?? ''))?.origin;
    const formAction = ["'self'", redirect && redirect !== 'null' ? redirect : ''].filter(Boolean).join(' ');
    const img = ["'self'", 'data:', logo && logo !== 'null' ? logo : ''].filter(Boolean).join(' ');
    ctx.set(
      'Content-Security-Policy',
      `default-src 'none'; style-src 'self'; script-src 'self'; img-src ${img}; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
    );
    noStore(ctx);
    ctx.type = 'text/html; charset=utf-8';
  }

  const localeQuery = (ctx: Context) =>
    typeof ctx.query.ui_locales === 'string' ? `ui_locales=${encodeURIComponent(ctx.query.ui_locales)}` : '';

  function renderPage(ctx: Context, loaded: Loaded, options: { error?: string; status?: number } = {}): void {
    const frame = frameFor(ctx, loaded, '');
    const { texts } = frame;
    const view = clientView(loaded, frame.locale);
    const action = `${base}/interaction/${loaded.details.uid}`;
    const csrf = transactions.csrf(loaded.details.uid);
    pageHeaders(ctx, loaded);
    ctx.status = options.status ?? 200;
    const error = options.error ? (texts.errors[options.error] ?? texts.errors.server_error) : undefined;
    const langSuffix = localeQuery(ctx);
    const formAction = action;
    if (loaded.tx.auth) {
      const set = claimSet(loaded);
      ctx.body = consentPage(
        { ...frame, title: texts.consentTitle },
        {
          client: view,
          action: formAction,
          csrf,
          essential: set.essential,
          voluntary: set.voluntary,
          credentials: credentialIds(loaded),
          error,
        },
      );
      return;
    }
    const system = systemFor(loaded);
    const factors = factorsFor(loaded, system).filter((f) => PAGE_FACTORS.includes(f));
    const requested = typeof ctx.query.factor === 'string' ? ctx.query.factor : undefined;
    const selected = requested && factors.includes(requested as Factor) ? requested : (factors[0] ?? 'none');
    const otp =
      selected === 'otp' && loaded.tx.otp
        ? {
            maskedTo: loaded.tx.otp.maskedTo,
            resendAfterSeconds: Math.max(0, Math.ceil((loaded.tx.otp.resendAt - clock.now()) / 1000)),
          }
        : undefined;
    ctx.body = loginPage(
      { ...frame, title: view.name },
      {
        client: view,
        action: formAction,
        csrf,
        factors,
        selected,
        factorHref: (f) => `${action}?factor=${f}${langSuffix ? `&${langSuffix}` : ''}`,
        kbiFields: system.kbiFields?.() ?? config.kyc.kbiFields,
        otp,
        individualId: otp ? transactions.individual(loaded.tx) : undefined,
        captcha: captcha.required('send-otp'),
        captchaLogin: captcha.required('authenticate'),
        error,
      },
    );
  }

  /** Errors a person can act on are shown on the page itself; expired transactions get the error page. */
  async function pageStep(ctx: Context, step: (loaded: Loaded) => Promise<void>): Promise<void> {
    ctx.state.ui = true;
    let loaded: Loaded;
    try {
      loaded = await load(ctx);
    } catch (error) {
      if (error instanceof InvalidTransaction) return expiredPage(ctx, error);
      if (error instanceof AppError && error.code === UNMET) return go(ctx, String(error.extra.redirect_to));
      throw error;
    }
    try {
      await step(loaded);
    } catch (error) {
      if (error instanceof InvalidTransaction) return expiredPage(ctx, error);
      if (!(error instanceof AppError) || error.status >= 500) throw error;
      const fresh = await load(ctx);
      const key = error.code === 'auth_failed' && ctx.state.factor === 'otp' ? 'wrong_code' : error.code;
      for (const [name, value] of Object.entries(error.headers)) ctx.set(name, value);
      renderPage(ctx, fresh, { error: key, status: error.status });
    }
  }

  /** Expired, finished or foreign transactions: a localized dead end that says what to do next. */
  function expiredPage(ctx: Context, error: AppError): void {
    const locale = pickLocale(ctx.query.ui_locales, config.oidc.uiLocales);
    const texts = textsFor(locale);
    ctx.status = error.status;
    ctx.type = 'text/html; charset=utf-8';
    noStore(ctx);
    ctx.set(
      'Content-Security-Policy',
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
    );
    ctx.body = errorPage(
      { locale, texts, basePath: base, title: texts.errorTitle },
      texts.errors.invalid_transaction ?? error.description,
      error.code,
      ctx.state.requestId as string | undefined,
    );
  }

  const back = (ctx: Context, loaded: Loaded, factor?: string) => {
    const query = [factor ? `factor=${factor}` : '', localeQuery(ctx)].filter(Boolean).join('&');
    ctx.status = 303;
    ctx.redirect(`${base}/interaction/${loaded.details.uid}${query ? `?${query}` : ''}`);
  };

  const go = (ctx: Context, to: string) => {
    ctx.status = 303;
    ctx.redirect(to);
  };

  router.get('/:uid', async (ctx) => {
    await pageStep(ctx, async (loaded) => renderPage(ctx, loaded));
  });

  router.post('/:uid/send-otp', async (ctx) => {
    await pageStep(ctx, async (loaded) => {
      const form = await readForm(ctx, config.http.bodyLimitBytes);
      checkPost(ctx, loaded.details.uid, form.csrf);
      ctx.state.factor = 'otp';
      const individualId = (form.individual_id ?? '').trim() || transactions.individual(loaded.tx) || '';
      await sendOtp(loaded, individualId, form.captcha_token);
      back(ctx, loaded, 'otp');
    });
  });

  router.post('/:uid/login', async (ctx) => {
    await pageStep(ctx, async (loaded) => {
      const form = await readForm(ctx, config.http.bodyLimitBytes);
      checkPost(ctx, loaded.details.uid, form.csrf);
      const factor = form.factor ?? '';
      ctx.state.factor = factor;
      let individualId = (form.individual_id ?? '').trim();
      let value: Challenge['value'] = '';
      if (factor === 'otp') {
        individualId = transactions.individual(loaded.tx) ?? individualId;
        value = (form.otp ?? '').trim();
      } else if (factor === 'pin' || factor === 'password') {
        value = form[factor] ?? '';
      } else if (factor === 'kbi') {
        value = kbiAnswers(form);
      }
      const authenticated = await authenticate(loaded, factor, individualId, value, form.captcha_token);
      const to = await afterAuthentication(ctx, authenticated);
      if (to) go(ctx, to);
      else back(ctx, authenticated);
    });
  });

  router.post('/:uid/consent', async (ctx) => {
    await pageStep(ctx, async (loaded) => {
      const raw = await readRawForm(ctx, config.http.bodyLimitBytes);
      checkPost(ctx, loaded.details.uid, raw.get('csrf'));
      go(ctx, await consent(ctx, loaded, raw.getAll('claim')));
    });
  });

  router.post('/:uid/abort', async (ctx) => {
    await pageStep(ctx, async (loaded) => {
      const form = await readForm(ctx, config.http.bodyLimitBytes);
      checkPost(ctx, loaded.details.uid, form.csrf);
      go(ctx, await abort(ctx, loaded));
    });
  });

  // --- JSON API -----------------------------------------------------------------------------

  const api = (ctx: Context) => {
    noStore(ctx);
  };

  router.get('/:uid/api', async (ctx) => {
    api(ctx);
    const loaded = await load(ctx);
    const system = systemFor(loaded);
    const set = claimSet(loaded);
    const locale = pickLocale(loaded.params.ui_locales, config.oidc.uiLocales);
    const view = clientView(loaded, locale);
    ctx.body = {
      transaction_id: loaded.details.uid,
      csrf_token: transactions.csrf(loaded.details.uid),
      client: {
        client_id: loaded.client.clientId,
        client_name: view.name,
        client_names: loaded.meta.client_names ?? {},
        logo_uri: view.logoUri ?? null,
      },
      ui_locale: locale,
      acr_values: acrRules(loaded).map((r) => ({ acr: r.acr, factors: r.factors })),
      factors: factorsFor(loaded, system),
      otp_channels: system.otpChannels(),
      captcha_required: captcha.required('send-otp'),
      captcha_required_for: CAPTCHA_ACTIONS.filter((a) => captcha.required(a)),
      wallet_nonce:
        factorsFor(loaded, system).includes('wallet') && system.walletNonce
          ? system.walletNonce(txRef(loaded))
          : null,
      kbi_fields: system.kbiFields?.() ?? config.kyc.kbiFields,
      essential_claims: set.essential,
      voluntary_claims: set.voluntary,
      credential_configuration_ids: credentialIds(loaded),
      authenticated: !!loaded.tx.auth,
      consent_prompt: consentRequired(loaded),
      otp: loaded.tx.otp
        ? {
            masked_to: loaded.tx.otp.maskedTo,
            resend_after_seconds: Math.max(0, Math.ceil((loaded.tx.otp.resendAt - clock.now()) / 1000)),
          }
        : null,
      expires_at: new Date(
        loaded.tx.auth
          ? loaded.tx.auth.at + config.oidc.consentTransactionSeconds * 1000
          : loaded.tx.createdAt + config.oidc.loginTransactionSeconds * 1000,
      ).toISOString(),
    };
  });

  router.post('/:uid/api/send-otp', async (ctx) => {
    api(ctx);
    const loaded = await load(ctx);
    const body = await readJson(ctx, config.http.bodyLimitBytes);
    checkPost(ctx, loaded.details.uid, ctx.get('X-CSRF-Token'));
    const purpose = stringField(body, 'purpose') || 'login';
    if (purpose !== 'login' && purpose !== 'wallet-binding')
      throw new InvalidRequest('purpose must be login or wallet-binding');
    const sent = await sendOtp(
      loaded,
      stringField(body, 'individual_id'),
      body.captcha_token,
      purpose === 'login' ? 'login' : 'wallet_binding',
    );
    ctx.body = {
      masked_to: sent.maskedTo,
      resend_after_seconds: sent.resendAfterSeconds ?? 0,
      expires_in_seconds: sent.expiresInSeconds ?? null,
      sends_left: sent.sendsLeft ?? null,
    };
  });

  router.post('/:uid/api/authenticate', async (ctx) => {
    api(ctx);
    const loaded = await load(ctx);
    const body = await readJson(ctx, config.http.bodyLimitBytes);
    checkPost(ctx, loaded.details.uid, ctx.get('X-CSRF-Token'));
    const factor = stringField(body, 'factor');
    let individualId = stringField(body, 'individual_id');
    if (factor === 'otp' && !individualId) individualId = transactions.individual(loaded.tx) ?? '';
    const challenge = body.challenge;
    let value: Challenge['value'];
    if (typeof challenge === 'string') value = challenge;
    else if (challenge && typeof challenge === 'object' && !Array.isArray(challenge)) {
      value = Object.fromEntries(Object.entries(challenge).map(([k, v]) => [k, String(v)]));
    } else throw new InvalidRequest('challenge must be a string or an object of answers');
    const authenticated = await authenticate(loaded, factor, individualId, value, body.captcha_token);
    const to = await afterAuthentication(ctx, authenticated);
    const set = claimSet(authenticated);
    ctx.body = to
      ? { consent_required: false, redirect_to: to }
      : { consent_required: true, essential_claims: set.essential, voluntary_claims: set.voluntary };
  });

  /**
   * Wallet binding (SECURITY.md row 49): after `send-otp` with `purpose: "wallet-binding"`, the
   * wallet posts `{ individual_id?, otp, public_key }` (a public JWK) and the identity system binds
   * the key to the person's account for `kyc.walletBindingTtlSeconds`. The login is not
   * authenticated by this: the wallet then signs `wallet_nonce` and authenticates with factor `wallet`.
   */
  router.post('/:uid/api/bind-wallet', async (ctx) => {
    api(ctx);
    const loaded = await load(ctx);
    const body = await readJson(ctx, config.http.bodyLimitBytes);
    checkPost(ctx, loaded.details.uid, ctx.get('X-CSRF-Token'));
    const system = systemFor(loaded);
    if (!system.bindWallet || !factorsFor(loaded, system).includes('wallet'))
      throw new InvalidRequest('wallet binding is not available here');
    const individualId = stringField(body, 'individual_id') || transactions.individual(loaded.tx) || '';
    if (!individualId) throw new InvalidRequest('individual_id is required');
    const otp = stringField(body, 'otp');
    if (!otp) throw new InvalidRequest('otp is required');
    const bound = await system.bindWallet(
      individualId,
      [{ factor: 'otp', value: otp }],
      body.public_key,
      txRef(loaded),
    );
    ctx.body = { key_thumbprint: bound.thumbprint, expires_at: new Date(bound.expiresAt).toISOString() };
  });

  router.post('/:uid/api/consent', async (ctx) => {
    api(ctx);
    const loaded = await load(ctx);
    const body = await readJson(ctx, config.http.bodyLimitBytes);
    checkPost(ctx, loaded.details.uid, ctx.get('X-CSRF-Token'));
    const accepted = body.accepted_claims ?? [];
    if (!Array.isArray(accepted) || !accepted.every((c) => typeof c === 'string')) {
      throw new InvalidRequest('accepted_claims must be an array of claim names');
    }
    ctx.body = { redirect_to: await consent(ctx, loaded, accepted as string[]) };
  });

  router.post('/:uid/api/abort', async (ctx) => {
    api(ctx);
    const loaded = await load(ctx);
    checkPost(ctx, loaded.details.uid, ctx.get('X-CSRF-Token'));
    ctx.body = { redirect_to: await abort(ctx, loaded) };
  });

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
  return router;
}

function withVariants(claims: readonly string[], locales: readonly string[]): string[] {
  return claims.flatMap((c) => [c, ...locales.map((l) => `${c}#${l}`)]);
}

function kbiAnswers(form: Record<string, string>): Record<string, string> {
  const answers: Record<string, string> = {};
  for (const [name, value] of Object.entries(form))
    if (name.startsWith('kbi_')) answers[name.slice(4)] = value.trim();
  if (Object.keys(answers).length === 0) throw new InvalidRequest('the knowledge-based answers are required');
  return answers;
}

function stringField(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new InvalidRequest(`${name} must be a string`);
  return value.trim();
}

/** A form body where a field may repeat (the consent checkboxes). */
async function readRawForm(ctx: Context, limit: number): Promise<URLSearchParams> {
  if (ctx.request.type !== 'application/x-www-form-urlencoded') {
    throw new InvalidRequest('Content-Type must be application/x-www-form-urlencoded');
  }
  const raw = await readRaw(ctx, limit);
  const params = new URLSearchParams(raw.toString('utf8'));
  if (params.getAll('csrf').length > 1)
    throw new InvalidRequest('parameter "csrf" is included more than once');
  return params;
}
