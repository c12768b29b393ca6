import { Router } from '@koa/router';
import type { Context, Next } from 'koa';
import { AUDIT_EVENT_TYPES, type AuditEventType } from '../../audit/audit.ts';
import { type ConsoleOffers, createConsoleOffers } from '../../console/offers.ts';
import { createOperators, type Operator, type Operators, operatorPolicy } from '../../console/operators.ts';
import { type ConsoleAction, may } from '../../console/roles.ts';
import { type ConsoleSession, createSessions, type Sessions } from '../../console/sessions.ts';
import { totpUri } from '../../console/totp.ts';
import { type CredentialPreview, previewCredentials } from '../../credentials/configurations/preview.ts';
import { type ConfigurationRegistry, resolveDefinition } from '../../credentials/configurations/registry.ts';
import type { CredentialDefinition } from '../../credentials/configurations/types.ts';
import { ConfigurationError, ConfigurationRetired } from '../../credentials/configurations/validate.ts';
import type { StatusService } from '../../credentials/status/service.ts';
import {
  type IssuerCa,
  SIGNER_REVOCATION_REASONS,
  type SignerRevocationReason,
} from '../../credentials/x509/issuer-ca.ts';
import { revokeSignerCertificates } from '../../credentials/x509/signer-revocation.ts';
import { AppError, Conflict, Forbidden, InvalidRequest, NotFound } from '../../errors.ts';
import { readOutbox } from '../../kyc/notifiers/outbox.ts';
import type { KycRegistry } from '../../kyc/registry.ts';
import { checkRegistration, InvalidClientMetadata } from '../../oidc/client-policy.ts';
import { revokeConsent } from '../../oidc/consent-revocation.ts';
import type { OidcState } from '../../oidc/state.ts';
import { randomId } from '../../random.ts';
import type { Services } from '../../services.ts';
import { UniqueViolation } from '../../store/spi.ts';
import type { Ledger, LedgerRecord } from '../../vci/ledger.ts';
import type { Offers } from '../../vci/offers.ts';
import type { PreAuthorizedCodes } from '../../vci/pre-authorized.ts';
import { changeCredentialStatus } from '../../vci/status-change.ts';
import { readForm, readRaw } from '../body.ts';
import { noStore } from '../middleware.ts';
import { clientPage, clientsPage, consentsPage, operatorsPage, outboxPage } from './admin-pages.ts';
import { CONSOLE_CSS, CONSOLE_JS } from './assets.ts';
import {
  auditPage,
  CONSOLE_CSP,
  type Frame,
  keysPage,
  type LedgerQuery,
  ledgerPage,
  ledgerRecordPage,
  messagePage,
  offerPage,
  offersPage,
  type Problem,
  REASONS,
  type Reason,
  signInPage,
  type TypeSummary,
  typeFormPage,
  typePage,
  typesPage,
} from './pages.ts';
import { CONSOLE_TEXTS, type ConsoleLocale, consoleLocale, fill } from './strings.ts';

/** The built parts the console works on (src/compose.ts), through the same services as the admin API. */
export interface ConsoleParts {
  readonly services: Services;
  readonly credentials: {
    readonly status: StatusService;
    readonly configurations: ConfigurationRegistry;
    readonly issuerCa: IssuerCa;
  };
  readonly kyc: { readonly identitySystems: KycRegistry };
  readonly oidc: {
    readonly state: Pick<OidcState, 'clients' | 'consents' | 'grants'>;
    revokeGrant(grantId: string): Promise<void>;
    validateClient(metadata: Record<string, unknown>): Promise<void>;
  };
  readonly grants: {
    readonly offers: Offers;
    readonly preAuthorizedCodes: Pick<PreAuthorizedCodes, 'stateOf'>;
  };
  readonly vci: { readonly ledger: Ledger };
}

interface Console {
  readonly parts: ConsoleParts;
  readonly operators: Operators;
  readonly sessions: Sessions;
  readonly offers: ConsoleOffers;
  readonly https: boolean;
  readonly publicOrigin: string;
}

interface SignedIn {
  readonly operator: Operator;
  readonly session: ConsoleSession;
}

const FORM_LIMIT = 256 * 1024;

/**
 * The issuer console under /console: staff sign in (src/console/operators.ts, sessions.ts) and
 * work on offers, the ledger, credential types, keys and the audit trail through the same services
 * as the admin API, each page and action behind the operator's role (src/console/roles.ts). Not part
 * of /admin: the bearer-token API stays for automation, and a console cookie opens nothing there.
 */
export function consoleRoutes(parts: ConsoleParts): Router {
  const { services } = parts;
  const { config, store, clock, audit } = services;
  const c: Console = {
    parts,
    operators: createOperators({
      store,
      clock,
      audit,
      policy: operatorPolicy(config),
    }),
    sessions: createSessions({
      store,
      clock,
      idleSeconds: config.console.sessionIdleSeconds,
      absoluteSeconds: config.console.sessionAbsoluteSeconds,
    }),
    offers: createConsoleOffers({
      store,
      clock,
      audit,
      offers: parts.grants.offers,
      codes: parts.grants.preAuthorizedCodes,
    }),
    https: config.resolved.publicUrl.startsWith('https:'),
    publicOrigin: new URL(config.resolved.publicUrl).origin,
  };
  const router = new Router({ prefix: '/console' });
  if (!config.console.enabled) return router;
  router.get('/assets/console.css', (ctx) => asset(ctx, 'text/css', CONSOLE_CSS));
  router.get('/assets/console.js', (ctx) => asset(ctx, 'text/javascript', CONSOLE_JS));
  router.use(consolePage);
  signInRoutes(c, router);
  router.use(signedIn(c));
  offerRoutes(c, router);
  ledgerRoutes(c, router);
  typeRoutes(c, router);
  clientAndConsentRoutes(c, router);
  operatorAndOutboxRoutes(c, router);
  keyAndAuditRoutes(c, router);
  router.get('/', (ctx) => go(ctx, '/console/offers'));
  return router;
}

function asset(ctx: Context, type: string, body: string): void {
  ctx.set('Cache-Control', 'public, max-age=3600');
  ctx.type = `${type}; charset=utf-8`;
  ctx.body = body;
}

/** Every console answer: the HTML error page for errors, never cached, the console's CSP. */
async function consolePage(ctx: Context, next: Next): Promise<void> {
  ctx.state.ui = true;
  noStore(ctx);
  ctx.set('Content-Security-Policy', CONSOLE_CSP);
  // Not no-referrer: under it browsers send `Origin: null` on every POST, and the origin check
  // below needs the real one. Same-origin requests only, so nothing leaks to other sites.
  ctx.set('Referrer-Policy', 'same-origin');
  await next();
}

// --- cookies ---------------------------------------------------------------------------------

/** `__Host-` (RFC 6265bis §4.1.3.2) binds the cookie to this origin when served over https. */
const sessionCookie = (c: Console) => (c.https ? '__Host-console_session' : 'console_session');
const preCookie = (c: Console) => (c.https ? '__Host-console_presession' : 'console_presession');

function setCookie(ctx: Context, c: Console, name: string, value: string, maxAgeSeconds?: number): void {
  const attributes = [
    `${name}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    ...(c.https ? ['Secure'] : []),
    ...(maxAgeSeconds !== undefined ? [`Max-Age=${maxAgeSeconds}`] : []),
  ];
  ctx.append('Set-Cookie', attributes.join('; '));
}

function locale(ctx: Context): ConsoleLocale {
  const asked = ctx.query.lang;
  if (asked === 'en' || asked === 'ar') {
    ctx.append('Set-Cookie', `console_lang=${asked}; Path=/console; SameSite=Strict`);
    return asked;
  }
  return consoleLocale(ctx.cookies.get('console_lang'));
}

function frame(
  ctx: Context,
  title: (t: (typeof CONSOLE_TEXTS)['en']) => string,
  section?: Frame['section'],
): Frame {
  const loc = locale(ctx);
  const t = CONSOLE_TEXTS[loc];
  const who = ctx.state.console as SignedIn | undefined;
  return {
    t,
    locale: loc,
    title: title(t),
    ...(who ? { operator: who.operator, csrf: who.session.csrf } : {}),
    ...(section ? { section } : {}),
  };
}

function show(ctx: Context, html: string, status = 200): void {
  ctx.type = 'text/html; charset=utf-8';
  ctx.status = status;
  ctx.body = html;
}

function go(ctx: Context, to: string): void {
  ctx.status = 303;
  ctx.redirect(to);
}

// --- sign-in -----------------------------------------------------------------------------------

/**
 * Sign-in and sign-out. The sign-in form carries a double-submit token (a SameSite=Strict cookie
 * and the same value in the form) so another site cannot sign a browser in under its own account.
 * A successful sign-in drops any session the browser presented and opens a new one (no fixation).
 */
function signInRoutes(c: Console, router: Router): void {
  const showForm = (ctx: Context, error?: string, status = 200) => {
    const token = randomId(24);
    setCookie(ctx, c, preCookie(c), token);
    show(
      ctx,
      signInPage(
        frame(ctx, (t) => t.signInTitle),
        token,
        error,
      ),
      status,
    );
  };
  router.get('/sign-in', (ctx) => showForm(ctx));
  router.post('/sign-in', async (ctx) => {
    const form = await readForm(ctx, 8 * 1024);
    const t = CONSOLE_TEXTS[locale(ctx)];
    const expected = ctx.cookies.get(preCookie(c));
    if (!sameOrigin(c, ctx) || !expected || form.csrf !== expected) return showForm(ctx, t.badCsrf, 403);
    let operator: Operator;
    try {
      operator = await c.operators.signIn({
        username: form.username ?? '',
        password: form.password ?? '',
        totp: (form.totp ?? '').trim(),
      });
    } catch (error) {
      if (!(error instanceof AppError) || error.status >= 500) throw error;
      return showForm(ctx, error.description, error.status);
    }
    await c.sessions.close(ctx.cookies.get(sessionCookie(c)));
    const { token } = await c.sessions.open(operator.id);
    setCookie(ctx, c, sessionCookie(c), token);
    setCookie(ctx, c, preCookie(c), '', 0);
    go(ctx, '/console/offers');
  });
  router.post('/sign-out', async (ctx) => {
    const token = ctx.cookies.get(sessionCookie(c));
    const session = await c.sessions.find(token);
    const form = await readForm(ctx, 8 * 1024);
    if (session && !(sameOrigin(c, ctx) && c.sessions.csrfMatches(session, form.csrf))) {
      // A forged sign-out (another site's form) changes nothing, not even the browser's cookie.
      go(ctx, '/console/offers');
      return;
    }
    if (session) {
      await c.sessions.close(token);
      await services(c).audit.record({ type: 'operator_signed_out', operatorId: session.operatorId });
    }
    setCookie(ctx, c, sessionCookie(c), '', 0);
    go(ctx, '/console/sign-in');
  });
}

const services = (c: Console) => c.parts.services;

/** A browser's Origin, when it sends one, must be the service's own (defence in depth behind CSRF tokens). */
function sameOrigin(c: Console, ctx: Context): boolean {
  const origin = ctx.get('Origin');
  return origin === '' || origin === c.publicOrigin;
}

/**
 * Everything past sign-in: a live session and its operator, or back to the sign-in page. Every
 * POST must carry the session's CSRF token. The operator's role is read from the store on every
 * request, and every audit event the request records names the operator.
 */
function signedIn(c: Console) {
  return async function requireOperator(ctx: Context, next: Next): Promise<void> {
    const session = await c.sessions.find(ctx.cookies.get(sessionCookie(c)));
    const operator = session ? await c.operators.get(session.operatorId) : undefined;
    if (!session || !operator) {
      if (ctx.method === 'GET' || ctx.method === 'HEAD') return go(ctx, '/console/sign-in');
      throw new AppError(401, 'unauthorized', 'sign in to the console first');
    }
    ctx.state.console = { operator, session } satisfies SignedIn;
    await services(c).audit.actingAs(operator.id, next);
  };
}

const who = (ctx: Context): SignedIn => ctx.state.console as SignedIn;

function allow(ctx: Context, action: ConsoleAction): void {
  if (!may(who(ctx).operator.role, action)) {
    throw new Forbidden(CONSOLE_TEXTS[locale(ctx)].forbidden);
  }
}

/** A POSTed form whose CSRF token is the session's, from an operator whose role allows `action`. */
async function postedForm(c: Console, ctx: Context, action: ConsoleAction): Promise<URLSearchParams> {
  if (ctx.request.type !== 'application/x-www-form-urlencoded') {
    throw new InvalidRequest('Content-Type must be application/x-www-form-urlencoded');
  }
  const params = new URLSearchParams((await readRaw(ctx, FORM_LIMIT)).toString('utf8'));
  const csrf = params.getAll('csrf');
  if (csrf.length !== 1 || !sameOrigin(c, ctx) || !c.sessions.csrfMatches(who(ctx).session, csrf[0])) {
    throw new Forbidden(CONSOLE_TEXTS[locale(ctx)].badCsrf);
  }
  allow(ctx, action);
  return params;
}

// --- offers --------------------------------------------------------------------------------

function offerTypes(c: Console) {
  return c.parts.credentials.configurations.list().map((conf) => ({
    id: conf.id,
    name: conf.definition.display[0]?.name ?? conf.definition.id,
    format: conf.format,
  }));
}

function offerRoutes(c: Console, router: Router): void {
  const page = async (ctx: Context, form: Parameters<typeof offersPage>[1], status = 200) =>
    show(
      ctx,
      offersPage(
        frame(ctx, (t) => t.offers, 'offers'),
        form,
        await c.offers.recent(50),
      ),
      status,
    );
  router.get('/offers', async (ctx) => {
    allow(ctx, 'read');
    await page(ctx, { types: offerTypes(c) });
  });
  router.post('/offers', async (ctx) => {
    const form = await postedForm(c, ctx, 'offer');
    const t = CONSOLE_TEXTS[locale(ctx)];
    const individualId = (form.get('individual_id') ?? '').trim();
    const selected = form.getAll('configuration_id');
    const txCode = form.get('tx_code') === 'true';
    const again = { types: offerTypes(c), individualId, selected, txCode };
    if (selected.length === 0) return page(ctx, { ...again, error: t.chooseType, errorField: 'types' }, 400);
    if (!individualId) return page(ctx, { ...again, error: t.noPerson, errorField: 'individual_id' }, 400);
    try {
      const { offer, created } = await c.offers.create(who(ctx).operator.id, {
        individualId,
        configurationIds: selected,
        txCode,
      });
      show(
        ctx,
        offerPage(
          frame(ctx, (tt) => tt.offerCreated, 'offers'),
          offer,
          {
            qrSvg: created.qr_svg,
            link: created.credential_offer_uri_url,
          },
        ),
        201,
      );
    } catch (error) {
      if (error instanceof NotFound) {
        return page(ctx, { ...again, error: t.noPerson, errorField: 'individual_id' }, 404);
      }
      if (error instanceof AppError && error.status < 500) {
        return page(ctx, { ...again, error: error.description }, error.status);
      }
      throw error;
    }
  });
  router.get('/offers/:id', async (ctx) => {
    allow(ctx, 'read');
    const offer = await c.offers.get(ctx.params.id!);
    show(
      ctx,
      offerPage(
        frame(ctx, (t) => t.offers, 'offers'),
        offer,
      ),
    );
  });
  router.get('/offers/:id/state', async (ctx) => {
    allow(ctx, 'read');
    const offer = await c.offers.get(ctx.params.id!);
    ctx.state.ui = false;
    ctx.body = { state: offer.state };
  });
}

// --- ledger --------------------------------------------------------------------------------

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function ledgerQuery(ctx: Context): LedgerQuery {
  const one = (name: string, pattern: RegExp) => {
    const value = ctx.query[name];
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string' || !pattern.test(value)) throw new InvalidRequest(`${name} is not valid`);
    return value;
  };
  const query: LedgerQuery = {};
  const configurationId = one('configuration_id', /^[A-Za-z0-9._:-]{1,200}$/);
  const format = one('format', /^[a-z0-9_+]{1,40}$/);
  const status = one('status', /^(issued|suspended|revoked)$/);
  const from = one('from', DAY);
  const to = one('to', DAY);
  return {
    ...query,
    ...(configurationId ? { configurationId } : {}),
    ...(format ? { format } : {}),
    ...(status ? { status } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
  };
}

/** Newest first, at most 200 shown; by configuration, format, status and issue day (UTC). */
async function searchLedger(ledger: Ledger, q: LedgerQuery): Promise<LedgerRecord[]> {
  const found = await ledger.list(
    {
      ...(q.configurationId ? { configurationId: q.configurationId } : {}),
      ...(q.format ? { format: q.format } : {}),
      ...(q.status ? { status: q.status as LedgerRecord['status'] } : {}),
    },
    100_000,
  );
  const from = q.from ? Date.parse(`${q.from}T00:00:00Z`) : -Infinity;
  const to = q.to ? Date.parse(`${q.to}T00:00:00Z`) + 86_400_000 : Infinity;
  return found
    .filter((r) => r.issuedAt >= from && r.issuedAt < to)
    .reverse()
    .slice(0, 200);
}

function ledgerRoutes(c: Console, router: Router): void {
  const { ledger } = c.parts.vci;
  const { status, configurations } = c.parts.credentials;
  const recordPage = async (ctx: Context, id: string, notice?: string) => {
    const record = await ledger.get(id);
    if (!record) throw new NotFound(CONSOLE_TEXTS[locale(ctx)].notFound);
    const current = record.statusEntries.length ? await status.statusOf(record) : 'valid';
    show(
      ctx,
      ledgerRecordPage(
        frame(ctx, (t) => t.record, 'ledger'),
        record,
        current,
        notice,
      ),
    );
  };
  router.get('/ledger', async (ctx) => {
    allow(ctx, 'read');
    const query = ledgerQuery(ctx);
    const list = configurations.list();
    const choices = {
      configurations: list.map((conf) => conf.id),
      formats: [...new Set(list.map((conf) => conf.format))],
    };
    show(
      ctx,
      ledgerPage(
        frame(ctx, (t) => t.ledger, 'ledger'),
        query,
        choices,
        await searchLedger(ledger, query),
      ),
    );
  });
  router.get('/ledger/:id', async (ctx) => {
    allow(ctx, 'read');
    await recordPage(ctx, ctx.params.id!);
  });
  router.post('/ledger/:id/:action', async (ctx) => {
    const form = await postedForm(c, ctx, 'change_status');
    const action = ctx.params.action;
    if (action !== 'revoke' && action !== 'suspend' && action !== 'reinstate') {
      throw new NotFound('no such action');
    }
    const reason = form.get('reason') ?? '';
    if (!(REASONS as readonly string[]).includes(reason))
      throw new InvalidRequest('reason is not one of the listed reasons');
    const done = await changeCredentialStatus(
      { ledger, status, audit: services(c).audit },
      ctx.params.id!,
      action,
      reason as Reason,
    );
    const t = CONSOLE_TEXTS[locale(ctx)];
    await recordPage(ctx, done.id, fill(t.changed, { status: t[`status_${done.status as 'valid'}`] }));
  });
}

// --- credential types ----------------------------------------------------------------------

const summary = (def: CredentialDefinition): TypeSummary => ({
  id: def.id,
  version: def.version ?? 1,
  retired: def.retired ?? false,
  name: def.display[0]?.name ?? def.id,
  configurationIds: Object.values(def.formats).map((f) => f!.configurationId),
});

function typeRoutes(c: Console, router: Router): void {
  const { configurations } = c.parts.credentials;
  const { audit } = services(c);
  const editor = (
    ctx: Context,
    action: string,
    text: string,
    shown: { problems?: Problem[]; error?: string; previews?: CredentialPreview[] } = {},
    status = 200,
  ) =>
    show(
      ctx,
      typeFormPage(
        frame(ctx, (t) => t.newType, 'types'),
        { action, text, ...shown },
      ),
      status,
    );
  /**
   * Saves a definition; a rejected one comes back in the editor with every problem by field. The
   * editor's Preview button (intent=preview) checks it the same way and shows what each format would
   * issue for the demo person, saving nothing. `id`: the definition being edited.
   */
  const save = async (
    ctx: Context,
    action: string,
    write: (raw: unknown) => Promise<CredentialDefinition>,
    id?: string,
  ) => {
    const form = await postedForm(c, ctx, 'manage_configurations');
    const text = form.get('definition') ?? '';
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      return editor(
        ctx,
        action,
        text,
        { problems: [{ field: '/', reason: `not JSON: ${(error as Error).message}` }] },
        400,
      );
    }
    try {
      if (form.get('intent') === 'preview') {
        const checked = await configurations.check(
          id && raw && typeof raw === 'object' ? { ...(raw as object), id } : raw,
        );
        const { publicUrl } = services(c).config.resolved;
        const previews = previewCredentials(checked, resolveDefinition(checked, publicUrl), {
          publicUrl,
          now: services(c).clock.now(),
        });
        return editor(ctx, action, text, { previews });
      }
      const saved = await write(raw);
      go(ctx, `/console/credential-types/${encodeURIComponent(saved.id)}`);
    } catch (error) {
      if (error instanceof ConfigurationError)
        return editor(ctx, action, text, { problems: error.problems }, 400);
      if (error instanceof ConfigurationRetired)
        return editor(ctx, action, text, { error: error.message }, 409);
      throw error;
    }
  };
  const definition = (ctx: Context) => {
    const def = configurations.definition(ctx.params.id!);
    if (!def) throw new NotFound(CONSOLE_TEXTS[locale(ctx)].notFound);
    return def;
  };
  router.get('/credential-types', (ctx) => {
    allow(ctx, 'read');
    show(
      ctx,
      typesPage(
        frame(ctx, (t) => t.types, 'types'),
        configurations.definitions().map(summary),
      ),
    );
  });
  router.get('/credential-types/new', (ctx) => {
    allow(ctx, 'manage_configurations');
    editor(
      ctx,
      '/console/credential-types',
      '{\n  "id": "",\n  "types": [],\n  "formats": {},\n  "display": [],\n  "claims": []\n}',
    );
  });
  router.post('/credential-types', (ctx) =>
    save(ctx, '/console/credential-types', async (raw) => {
      const created = await configurations.create(raw);
      await audit.record({
        type: 'configuration_created',
        configurationIds: summary(created).configurationIds,
      });
      return created;
    }),
  );
  router.get('/credential-types/:id', async (ctx) => {
    allow(ctx, 'read');
    const def = definition(ctx);
    const versions = (await configurations.versions(def.id)).map(summary);
    show(
      ctx,
      typePage(
        frame(ctx, () => def.id, 'types'),
        def as unknown as Record<string, unknown>,
        versions,
        def.retired
          ? []
          : previewCredentials(def, configurations.list(), {
              publicUrl: services(c).config.resolved.publicUrl,
              now: services(c).clock.now(),
            }),
      ),
    );
  });
  router.get('/credential-types/:id/edit', (ctx) => {
    allow(ctx, 'manage_configurations');
    const {
      version: _v,
      retired: _r,
      ...editable
    } = definition(ctx) as CredentialDefinition & Record<string, unknown>;
    editor(
      ctx,
      `/console/credential-types/${encodeURIComponent(editable.id)}`,
      JSON.stringify(editable, null, 2),
    );
  });
  router.post('/credential-types/:id', (ctx) =>
    save(
      ctx,
      `/console/credential-types/${encodeURIComponent(ctx.params.id!)}`,
      async (raw) => {
        const updated = await configurations.update(ctx.params.id!, raw);
        await audit.record({
          type: 'configuration_updated',
          configurationIds: summary(updated).configurationIds,
        });
        return updated;
      },
      ctx.params.id!,
    ),
  );
  router.post('/credential-types/:id/retire', async (ctx) => {
    await postedForm(c, ctx, 'manage_configurations');
    const def = definition(ctx);
    const retired = await configurations.retire(def.id);
    await audit.record({
      type: 'configuration_retired',
      configurationIds: summary(retired).configurationIds,
    });
    go(ctx, `/console/credential-types/${encodeURIComponent(def.id)}`);
  });
}

// --- clients and consents --------------------------------------------------------------------

/** Client metadata as the console's editor shows it (what the admin API stores, without its dates). */
function metadataText(metadata: Record<string, unknown>): string {
  const { created_at: _c, updated_at: _u, ...rest } = metadata;
  return JSON.stringify(rest, null, 2);
}

function clientAndConsentRoutes(c: Console, router: Router): void {
  const { clients, consents, grants } = c.parts.oidc.state;
  const { audit } = services(c);
  const editable = (ctx: Context) => may(who(ctx).operator.role, 'administer');
  const editor = (ctx: Context, action: string, text: string, error?: string, status = 200) =>
    show(
      ctx,
      clientPage(
        frame(ctx, (t) => t.clients, 'clients'),
        { action, text, editable: true, ...(error ? { error } : {}) },
      ),
      status,
    );
  /** Saves a registration checked as the admin API checks it; a refused one comes back with its reason. */
  const save = async (ctx: Context, fixedId: string | undefined) => {
    const form = await postedForm(c, ctx, 'administer');
    const text = form.get('metadata') ?? '';
    const action = fixedId ? `/console/clients/${encodeURIComponent(fixedId)}` : '/console/clients';
    try {
      const body: unknown = JSON.parse(text);
      if (!body || typeof body !== 'object' || Array.isArray(body)) {
        throw new InvalidClientMetadata('the registration must be a JSON object');
      }
      const metadata = await checkRegistration(
        body as Record<string, unknown>,
        c.parts.oidc.validateClient,
        fixedId,
      );
      const id = metadata.client_id as string;
      if (fixedId) {
        if (!(await clients.replace(id, metadata))) throw new NotFound('no such client');
        await audit.record({ type: 'client_updated', clientId: id });
      } else {
        try {
          await clients.create(id, metadata);
        } catch (error) {
          if (error instanceof UniqueViolation)
            throw new Conflict(`a client with client_id "${id}" already exists`);
          throw error;
        }
        await audit.record({ type: 'client_created', clientId: id });
      }
      go(ctx, `/console/clients/${encodeURIComponent(id)}`);
    } catch (error) {
      if (error instanceof SyntaxError) return editor(ctx, action, text, `not JSON: ${error.message}`, 400);
      if (error instanceof AppError && error.status < 500)
        return editor(ctx, action, text, error.description, error.status);
      throw error;
    }
  };
  router.get('/clients', async (ctx) => {
    allow(ctx, 'read');
    const rows = (await clients.list()).map((m) => ({
      clientId: String(m.client_id),
      ...(typeof m.client_name === 'string' ? { name: m.client_name } : {}),
      wallet: m.token_endpoint_auth_method !== 'private_key_jwt',
      redirectUris: Array.isArray(m.redirect_uris) ? m.redirect_uris.map(String) : [],
    }));
    show(
      ctx,
      clientsPage(
        frame(ctx, (t) => t.clients, 'clients'),
        rows,
      ),
    );
  });
  router.get('/clients/new', (ctx) => {
    allow(ctx, 'administer');
    editor(
      ctx,
      '/console/clients',
      '{\n  "client_name": "",\n  "redirect_uris": [],\n  "token_endpoint_auth_method": "none"\n}',
    );
  });
  router.post('/clients', (ctx) => save(ctx, undefined));
  router.get('/clients/:id', async (ctx) => {
    allow(ctx, 'read');
    const metadata = await clients.find(ctx.params.id!);
    if (!metadata) throw new NotFound(CONSOLE_TEXTS[locale(ctx)].notFound);
    const id = String(metadata.client_id);
    show(
      ctx,
      clientPage(
        frame(ctx, () => id, 'clients'),
        {
          action: `/console/clients/${encodeURIComponent(id)}`,
          text: metadataText(metadata),
          editable: editable(ctx),
        },
      ),
    );
  });
  router.post('/clients/:id', (ctx) => save(ctx, ctx.params.id!));

  const QUERY = /^[A-Za-z0-9._:@|-]{1,200}$/;
  const consentList = async (ctx: Context, q: string, message?: string) => {
    const found = q
      ? [...(await consents.forAccount(q)), ...(await consents.forSubject(q))].filter(
          (r, i, all) => all.findIndex((x) => x._id === r._id) === i,
        )
      : undefined;
    show(
      ctx,
      consentsPage(
        frame(ctx, (t) => t.consents, 'consents'),
        q,
        found?.map((r) => ({
          id: r._id,
          clientId: r.clientId,
          scopes: r.scopes,
          claims: r.acceptedClaims,
          givenAt: r.givenAt,
          expiresAt: r.expiresAt,
        })),
        message,
      ),
    );
  };
  router.get('/consents', async (ctx) => {
    allow(ctx, 'read');
    const q = typeof ctx.query.q === 'string' ? ctx.query.q.trim() : '';
    if (q && !QUERY.test(q)) throw new InvalidRequest('q is not an account id or subject');
    await consentList(ctx, q);
  });
  router.post('/consents/:id/revoke', async (ctx) => {
    const form = await postedForm(c, ctx, 'administer');
    const record = /^[A-Za-z0-9_-]{1,64}$/.test(ctx.params.id!)
      ? await consents.get(ctx.params.id!)
      : undefined;
    if (!record) throw new NotFound(CONSOLE_TEXTS[locale(ctx)].notFound);
    await revokeConsent({ consents, grants, revokeGrant: c.parts.oidc.revokeGrant, audit }, record);
    const q = (form.get('q') ?? '').trim();
    await consentList(ctx, QUERY.test(q) ? q : record.accountId, CONSOLE_TEXTS[locale(ctx)].consentRevoked);
  });
}

// --- operators and the outbox ------------------------------------------------------------------

function operatorAndOutboxRoutes(c: Console, router: Router): void {
  const page = async (ctx: Context, form: Parameters<typeof operatorsPage>[2] = {}, status = 200) =>
    show(
      ctx,
      operatorsPage(
        frame(ctx, (t) => t.operators, 'operators'),
        await c.operators.list(),
        form,
      ),
      status,
    );
  router.get('/operators', async (ctx) => {
    allow(ctx, 'administer');
    await page(ctx);
  });
  router.post('/operators', async (ctx) => {
    const form = await postedForm(c, ctx, 'administer');
    const username = form.get('username') ?? '';
    try {
      const { operator, totpSecret } = await c.operators.add({
        username,
        role: form.get('role') ?? '',
        password: form.get('password') ?? '',
        totp: form.get('totp') === 'true',
      });
      const t = CONSOLE_TEXTS[locale(ctx)];
      await page(
        ctx,
        {
          message: fill(t.operatorAdded, { user: operator.username }),
          ...(totpSecret ? { enrolUri: totpUri(totpSecret, t.console, operator.username) } : {}),
        },
        201,
      );
    } catch (error) {
      if (error instanceof AppError && error.status < 500) {
        return page(ctx, { error: error.description, username }, error.status);
      }
      throw error;
    }
  });
  router.post('/operators/:id/remove', async (ctx) => {
    await postedForm(c, ctx, 'administer');
    const t = CONSOLE_TEXTS[locale(ctx)];
    if (ctx.params.id === who(ctx).operator.id) return page(ctx, { error: t.cannotRemoveSelf }, 409);
    if (!(await c.operators.remove(ctx.params.id!))) throw new NotFound(t.notFound);
    await page(ctx, { message: t.operatorRemoved });
  });

  const outboxOn = c.parts.kyc.identitySystems.context.notifications.outboxEnabled;
  router.get('/outbox', async (ctx) => {
    // Administrators only: the outbox holds one-time codes and tx_codes.
    allow(ctx, 'administer');
    const messages = outboxOn ? await readOutbox(services(c).store, { limit: 100 }) : undefined;
    show(
      ctx,
      outboxPage(
        frame(ctx, (t) => t.outbox, 'outbox'),
        messages?.map((m) => ({ channel: m.channel, to: m.to, text: m.text, createdAt: m.createdAt })),
      ),
    );
  });
}

// --- keys and the audit trail ----------------------------------------------------------------

function keyAndAuditRoutes(c: Console, router: Router): void {
  const { keys, audit } = services(c);
  const keysPage_ = (ctx: Context, signer: { notice?: string; error?: string } = {}, status = 200) => {
    const listed = (['credential', 'oidc', 'encryption'] as const).flatMap((purpose) =>
      keys.published(purpose).map((key) => ({
        kid: key.kid,
        purpose: key.purpose,
        alg: key.alg,
        status: key.status,
        createdAt: key.createdAt,
        ...(key.publishUntil ? { publishUntil: key.publishUntil } : {}),
      })),
    );
    show(
      ctx,
      keysPage(
        frame(ctx, (t) => t.keys, 'keys'),
        listed,
        { reasons: Object.keys(SIGNER_REVOCATION_REASONS), ...signer },
      ),
      status,
    );
  };
  router.get('/keys', (ctx) => {
    allow(ctx, 'read');
    keysPage_(ctx);
  });
  router.post('/keys/:kid/revoke-certificates', async (ctx) => {
    const form = await postedForm(c, ctx, 'administer');
    const reason = form.get('reason') ?? '';
    if (!Object.hasOwn(SIGNER_REVOCATION_REASONS, reason)) {
      throw new InvalidRequest(`reason must be one of ${Object.keys(SIGNER_REVOCATION_REASONS).join(', ')}`);
    }
    const kid = ctx.params.kid!;
    try {
      const revoked = await revokeSignerCertificates(
        { issuerCa: c.parts.credentials.issuerCa, keys, audit },
        kid,
        reason as SignerRevocationReason,
      );
      const t = CONSOLE_TEXTS[locale(ctx)];
      keysPage_(ctx, { notice: fill(t.certificatesRevoked, { kid, count: String(revoked.length) }) });
    } catch (error) {
      if (error instanceof AppError && error.status < 500) {
        return keysPage_(ctx, { error: error.description }, error.status);
      }
      throw error;
    }
  });
  router.post('/keys/rotate', async (ctx) => {
    const form = await postedForm(c, ctx, 'administer');
    const purpose = form.get('purpose');
    if (purpose !== 'credential' && purpose !== 'oidc')
      throw new InvalidRequest('purpose must be credential or oidc');
    await keys.rotate(purpose);
    go(ctx, '/console/keys');
  });
  router.get('/audit', async (ctx) => {
    allow(ctx, 'read');
    const type = typeof ctx.query.type === 'string' && ctx.query.type ? ctx.query.type : undefined;
    if (type && !AUDIT_EVENT_TYPES.includes(type as AuditEventType))
      throw new InvalidRequest('unknown event type');
    const daysText = typeof ctx.query.days === 'string' ? ctx.query.days : '7';
    const days = /^\d{1,2}$/.test(daysText) ? Math.min(90, Math.max(1, Number(daysText))) : 7;
    const records = await audit.list({ ...(type ? { type: type as AuditEventType } : {}), limit: 200, days });
    show(
      ctx,
      auditPage(
        frame(ctx, (t) => t.audit, 'audit'),
        { ...(type ? { type } : {}), days },
        AUDIT_EVENT_TYPES,
        records,
      ),
    );
  });
  router.all('/{*rest}', (ctx) => {
    show(
      ctx,
      messagePage(
        frame(ctx, (t) => t.notFound),
        CONSOLE_TEXTS[locale(ctx)].notFound,
      ),
      404,
    );
  });
}
