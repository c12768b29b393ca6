import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, startAuthorization } from '../protocol/oidc/helpers.ts';
import { holderKey, proofJwt } from '../protocol/vci/harness.ts';
import { CONFIGURATION, type Fixture, PRE_AUTH, type RawReply, raw, startFixture } from './support.ts';

/**
 * SECURITY.md row 13 (endpoint-fuzz-never-5xx): fast-check properties over random and mutated input
 * on every public endpoint of the started app. Inputs: random methods and content types, duplicated
 * parameters, `__proto__`/`constructor`/`prototype` keys, `$ne`-style operator keys, objects and
 * arrays where strings belong, huge values (just under and over the 1 MiB body limit), invalid
 * UTF-8, truncated JSON, junk tokens and cookies.
 *
 * Every response must be: not 5xx (503 included: the store is up); for errors, a JSON body with a
 * string `error` member or an HTML page; free of stack traces and internal paths; within 1 s. The
 * process must be alive after each group, and no request may log an unhandled error.
 *
 * Violations are collected (one example per kind, with the routes where it happened) rather than
 * failing on the first one, so a run reports everything it found. Each group's test asserts two
 * lists: the hard failures (5xx, stack traces, slow, process down, logged errors) and, softly, the
 * error bodies that are neither a JSON error nor an HTML page.
 *
 * URLs are kept under Node's 16 KiB header limit here; beyond it Node itself answers 431 before the
 * app sees the request (a separate test pins that down).
 *
 * Runs: FUZZ_RUNS per group (default 300 in CI: the file stays well under 60 s on 2 cores; nightly,
 * e.g. `FUZZ_RUNS=5000 npx vitest run test/security/endpoint-fuzz.test.ts`). FUZZ_SEED replays a run.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const LIMIT = 1024 * 1024;
const LATENCY_MS = 1000;

let f: Fixture;
let origin: string;
let interaction: { url: string; uid: string; cookie: string; csrf: string };
let logsBefore = 0;

beforeAll(async () => {
  // The clock stands still here, so one rate-limit window would swallow the login cases (per-IP
  // limits on send-otp, authenticate and opening the interaction): the fuzz must reach the handlers.
  const unlimited = { limit: 1_000_000, windowSeconds: 60 };
  f = await startFixture({
    rateLimits: { rules: { sendOtp: unlimited, authenticate: unlimited, interaction: unlimited } },
  });
  origin = new URL(f.app.url).origin;
  const browser = new Browser(origin);
  const started = await startAuthorization(f.app, browser, f.client, { prompt: 'consent' });
  const details = (await browser.fetch(`${started.interaction}/api`)).json();
  interaction = {
    url: started.interaction,
    uid: new URL(started.interaction).pathname.split('/').pop()!,
    cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
    csrf: details.csrf_token,
  };
  logsBefore = f.app.logs.length;
}, 60_000);
afterAll(() => f?.h.stop());

// --- generators ------------------------------------------------------------------------------

const SPECIAL_STRINGS = [
  '',
  ' ',
  '__proto__',
  'constructor',
  'prototype',
  '{"$ne":null}',
  '{"$gt":""}',
  '[object Object]',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e309',
  '0x10',
  '../../../../etc/passwd',
  '..%2f..%2f',
  '%00',
  '\u0000',
  '\r\nSet-Cookie: x=y',
  '<script>alert(1)</script>',
  "' OR '1'='1",
  'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
  'a.b.c',
  'http://127.0.0.1:1/',
  'javascript:alert(1)',
  '\uFFFF\uD800',
  '🙂'.repeat(50),
];

const junkString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 6000 }).map((n) => 'A'.repeat(n)) },
);

/** Header values must be visible ASCII (undici refuses the rest before sending). */
const headerString = fc.oneof(
  fc.string({ maxLength: 40 }).map((v) => v.replace(/[^\x20-\x7e]/g, '')),
  fc.constantFrom('ar', 'en-US,ar;q=0.5', '*', '', 'x'.repeat(3000), '__proto__', '{"$ne":null}', '../'),
);

const junkKey = (known: readonly string[]) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...known) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', '$where', '$ne', '$gt'),
    },
    { weight: 1, arbitrary: fc.constantFrom(...known).map((k) => `${k}[$ne]`) },
    { weight: 1, arbitrary: fc.constantFrom(...known).map((k) => `${k}[]`) },
    { weight: 1, arbitrary: fc.constantFrom(...known).map((k) => `${k}[__proto__][x]`) },
    { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  );

/** JSON values where the wrong type is the point: objects, arrays, numbers, booleans where strings belong. */
const junkValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: junkString },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, 0, -1, 1e308, Number.MAX_SAFE_INTEGER) },
  { weight: 1, arbitrary: fc.constant({ $ne: null }) },
  { weight: 1, arbitrary: fc.constant({ $gt: '' }) },
  { weight: 1, arbitrary: fc.constant(JSON.parse('{"__proto__":{"polluted":true}}')) },
  { weight: 1, arbitrary: fc.constant({ constructor: { prototype: { polluted: true } } }) },
  { weight: 1, arbitrary: fc.array(junkString, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** Query or form parameters: known and junk names, junk values, names repeated on purpose. */
const params = (known: readonly string[], fixed: Record<string, string> = {}) =>
  fc
    .tuple(
      fc.array(fc.tuple(junkKey(known), junkString), { maxLength: 8 }),
      fc.subarray(Object.entries(fixed)),
      fc.boolean(),
    )
    .map(([random, kept, duplicate]) => {
      const pairs = [...kept, ...random] as [string, string][];
      if (duplicate && pairs.length > 0) pairs.push(pairs[0]!);
      const search = new URLSearchParams();
      for (const [k, v] of pairs) search.append(k, v);
      return search.toString();
    });

/** A JSON body: a mutated template (one member replaced, removed or added), or a random object. */
const jsonBody = (template: Record<string, unknown>, known: readonly string[] = Object.keys(template)) =>
  fc.oneof(
    fc
      .tuple(
        fc.constantFrom(...known, '__proto__', 'constructor'),
        junkValue,
        fc.constantFrom('set', 'delete'),
      )
      .map(([key, value, op]) => {
        const copy: Record<string, unknown> = { ...template };
        if (op === 'delete') delete copy[key];
        else
          Object.defineProperty(copy, key, { value, enumerable: true, configurable: true, writable: true });
        return JSON.stringify(copy);
      }),
    fc.dictionary(junkKey(known), junkValue, { maxKeys: 6 }).map((o) => JSON.stringify(o)),
    junkValue.map((v) => JSON.stringify(v) ?? 'undefined'),
  );

/** Ways to break the encoding of a body on the wire. */
const wire = (body: string) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constant(Buffer.from(body)) },
    // Truncated JSON (or form).
    {
      weight: 2,
      arbitrary: fc.nat({ max: Math.max(0, body.length - 1) }).map((n) => Buffer.from(body.slice(0, n))),
    },
    // Invalid UTF-8: lone continuation bytes, overlong encodings, a truncated sequence.
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.nat({ max: body.length }),
          fc.constantFrom([0xff, 0xfe], [0xc0, 0xaf], [0xe2, 0x82], [0x80], [0xed, 0xa0, 0x80]),
        )
        .map(([at, bytes]) =>
          Buffer.concat([Buffer.from(body.slice(0, at)), Buffer.from(bytes), Buffer.from(body.slice(at))]),
        ),
    },
    // Huge: just under and just over the 1 MiB limit.
    { weight: 1, arbitrary: fc.constantFrom(LIMIT - 64, LIMIT + 64).map((n) => hugeJson(n)) },
  );

function hugeJson(size: number): Buffer {
  const buffer = Buffer.alloc(size, 0x61);
  buffer.write('{"x":"', 0);
  buffer.write('"}', size - 2);
  return buffer;
}

const CONTENT_TYPES = [
  'application/json',
  'application/x-www-form-urlencoded',
  'text/plain',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'multipart/form-data; boundary=x',
  'application/jwt',
  'application/xml',
  'application/x-www-form-urlencoded; charset=utf-8',
  '*/*',
  'garbage',
];
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];

interface Case {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** A request to `paths` with the usual method most of the time, any method and content type sometimes. */
function requests(options: {
  paths: readonly string[];
  method: string;
  query?: fc.Arbitrary<string>;
  body?: fc.Arbitrary<string>;
  contentType?: string;
  headers?: fc.Arbitrary<Record<string, string>>;
}): fc.Arbitrary<Case> {
  return fc
    .record({
      path: fc.constantFrom(...options.paths),
      method: fc.oneof(
        { weight: 5, arbitrary: fc.constant(options.method) },
        { weight: 1, arbitrary: fc.constantFrom(...METHODS) },
      ),
      query: options.query ?? fc.constant(''),
      body: (options.body ?? fc.constant('')).chain((b) => wire(b)),
      contentType: fc.oneof(
        { weight: 5, arbitrary: fc.constant(options.contentType ?? 'application/json') },
        { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
        { weight: 1, arbitrary: fc.constant('') },
      ),
      headers: options.headers ?? fc.constant({}),
    })
    .map(({ path, method, query, body, contentType, headers }) => ({
      method,
      path: query ? `${path}?${query.slice(0, 8_000)}` : path,
      headers: { ...(contentType ? { 'content-type': contentType } : {}), ...headers },
      body: method === 'GET' || method === 'HEAD' ? undefined : body,
    }));
}

/** Authorization header variants: none, the real one, junk in every scheme. */
const authorization = (real: string) =>
  fc
    .constantFrom(
      undefined,
      `Bearer ${real}`,
      `Bearer ${real}`,
      `DPoP ${real}`,
      `bearer ${real}x`,
      'Bearer ',
      'Bearer a b',
      'Bearer {"$ne":null}',
      `Bearer ${'A'.repeat(5000)}`,
      'Basic Og==',
      `Basic ${Buffer.from('__proto__:x').toString('base64')}`,
      'Negotiate x',
      '',
    )
    .map((value): Record<string, string> => (value === undefined ? {} : { authorization: value }));

// --- the check -------------------------------------------------------------------------------

const STACK = [
  /\bat [\w$.<>[\] ]+ \((?:file:\/\/|\/|node:)[^)]*:\d+:\d+\)/,
  /\bat (?:file:\/\/|\/)[^\s]+:\d+:\d+/,
  /node_modules/,
  /\/work\/main\//,
  /\bsrc\/[\w/-]+\.ts\b/,
];

interface Violation {
  hard: boolean;
  example: string;
  routes: Set<string>;
}
type Violations = Map<string, Violation>;

function describeCase(c: Case): string {
  const body = c.body
    ? `${c.body.length} bytes: ${JSON.stringify(c.body.subarray(0, 160).toString('latin1'))}`
    : 'no body';
  return `${c.method} ${c.path.slice(0, 300)} ${JSON.stringify(c.headers).slice(0, 300)} ${body}`;
}

function check(c: Case, reply: RawReply | Error, found: Violations): void {
  const route = `${c.method} ${c.path.split('?')[0]!.replace(/\/[A-Za-z0-9_-]{16,}/g, '/:id')}`.slice(0, 80);
  const record = (kind: string, detail: string, hard = true) => {
    const known = found.get(kind) ?? {
      hard,
      example: `${detail}\n    request: ${describeCase(c)}`,
      routes: new Set(),
    };
    known.routes.add(route);
    found.set(kind, known);
  };
  if (reply instanceof Error) {
    record(`network error ${(reply as { code?: string }).code ?? reply.name}`, reply.message);
    return;
  }
  const type = String(reply.headers['content-type'] ?? '');
  if (reply.status >= 500) record(`${reply.status} answered`, reply.text.slice(0, 300));
  if (reply.ms > LATENCY_MS) record(`slower than ${LATENCY_MS} ms`, `${Math.round(reply.ms)} ms`);
  for (const pattern of STACK) {
    if (pattern.test(reply.text))
      record(`stack trace or internal path (${pattern})`, reply.text.slice(0, 300));
  }
  if (reply.status >= 400 && c.method !== 'HEAD') {
    let ok = false;
    if (/json/.test(type)) {
      try {
        ok = typeof JSON.parse(reply.text).error === 'string';
      } catch {}
    } else if (/text\/html/.test(type)) {
      ok = /<html|<!doctype html/i.test(reply.text);
    }
    if (!ok) {
      const kind = `${reply.status} ${type || 'without content-type'} ${JSON.stringify(reply.text.slice(0, 40))}: neither a JSON error nor an HTML page`;
      record(kind, '', false);
    }
  }
}

async function send(c: Case): Promise<RawReply | Error> {
  try {
    return await raw(`${origin}${c.path}`, { method: c.method, headers: c.headers, body: c.body });
  } catch (error) {
    return error as Error;
  }
}

const report = (found: Violations, hard: boolean) =>
  [...found]
    .filter(([, v]) => v.hard === hard)
    .map(([kind, v]) => {
      const routes = [...v.routes];
      const listed =
        routes.slice(0, 12).join(', ') + (routes.length > 12 ? `, and ${routes.length - 12} more` : '');
      return `${kind}\n    on: ${listed}${v.example.trim() ? `\n    ${v.example}` : ''}`;
    });

/**
 * Runs the property, then checks the process is alive and nothing was logged as an unhandled error;
 * asserts the hard failures, and softly the error body shapes.
 */
async function fuzz(arbitrary: fc.Arbitrary<Case>, runs = RUNS): Promise<void> {
  const found: Violations = new Map();
  await fc.assert(
    fc.asyncProperty(arbitrary, async (c) => {
      check(c, await send(c), found);
    }),
    { numRuns: runs, ...(SEED === undefined ? {} : { seed: SEED }) },
  );
  // The app runs in this process: a polluted Object.prototype would show here (SECURITY.md row 12).
  const probe: Record<string, unknown> = {};
  for (const key of ['polluted', 'x', '$ne', '$gt']) {
    if (probe[key] !== undefined)
      found.set(`Object.prototype polluted (${key})`, { hard: true, example: '', routes: new Set() });
  }
  const live = await raw(`${origin}/health/live`);
  if (live.status !== 200)
    found.set('process not alive', { hard: true, example: `health/live ${live.status}`, routes: new Set() });
  const errors = f.app.logs.slice(logsBefore).filter((line) => Number(line.level) >= 50);
  logsBefore = f.app.logs.length;
  for (const line of errors) {
    found.set(`logged error: ${String(line.msg)}`, {
      hard: true,
      example: JSON.stringify(line).slice(0, 400),
      routes: new Set(),
    });
  }
  expect
    .soft(report(found, false), 'error responses that are neither a JSON error nor an HTML page')
    .toEqual([]);
  expect(report(found, true), '5xx, stack traces, slow responses, errors logged').toEqual([]);
}

// --- the endpoints ---------------------------------------------------------------------------

const CLIENT_AUTH = ['client_id', 'client_assertion', 'client_assertion_type', 'client_secret'];
const AUTHZ_PARAMS = [
  'client_id',
  'response_type',
  'redirect_uri',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'request_uri',
  'request',
  'claims',
  'authorization_details',
  'prompt',
  'max_age',
  'ui_locales',
  'acr_values',
  'id_token_hint',
  'login_hint',
  'response_mode',
  'resource',
  'issuer_state',
];

describe('endpoint-fuzz-never-5xx (SECURITY.md row 13)', () => {
  it('discovery, JWKS, did.json, jwt-vc-issuer, IACA and issuer metadata', async () => {
    const paths = [
      '/.well-known/openid-configuration',
      '/.well-known/oauth-authorization-server',
      '/.well-known/openid-credential-issuer',
      '/.well-known/did.json',
      '/.well-known/jwt-vc-issuer',
      '/.well-known/iaca.pem',
      '/jwks',
      '/jwks/credentials',
    ];
    const headers = fc.record({
      accept: fc.constantFrom(
        'application/json',
        'application/jwt',
        'application/jwt, application/json;q=0.1',
        '*/*',
        'text/html',
        '',
        'x/y',
      ),
      'accept-language': headerString,
    });
    await fuzz(requests({ paths, method: 'GET', query: params(['a', 'format']), headers }));
  });

  it('authorization endpoint: GET with random parameters, with and without a registered client', async () => {
    const query = params(AUTHZ_PARAMS, {
      client_id: f.client.clientId,
      response_type: 'code',
      redirect_uri: f.client.redirectUri,
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    const headers = fc.constantFrom<Record<string, string>>(
      {},
      { accept: 'text/html' },
      { cookie: '_session=x; _session.sig=y' },
    );
    await fuzz(
      requests({ paths: ['/authorize', '/authorize/x', '/authorize/'], method: 'GET', query, headers }),
    );
  });

  it('PAR, token, introspection and revocation: random forms', async () => {
    const assertion = await f.client.assertion(f.app.url);
    const fixed = {
      client_id: f.client.clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    };
    const body = fc.oneof(
      params([...CLIENT_AUTH, ...AUTHZ_PARAMS], fixed),
      params(
        [
          'grant_type',
          'code',
          'code_verifier',
          'redirect_uri',
          'refresh_token',
          'pre-authorized_code',
          'tx_code',
          'resource',
          ...CLIENT_AUTH,
        ],
        {
          ...fixed,
          grant_type: fc.sample(
            fc.constantFrom('authorization_code', 'refresh_token', PRE_AUTH, 'client_credentials', 'x'),
            1,
          )[0]!,
        },
      ),
      params(['grant_type', 'pre-authorized_code', 'tx_code', 'resource'], {
        grant_type: PRE_AUTH,
        'pre-authorized_code': 'x',
      }),
      params(['token', 'token_type_hint', ...CLIENT_AUTH], { ...fixed, token: f.oidcAccessToken }),
      jsonBody({ grant_type: PRE_AUTH, 'pre-authorized_code': 'x' }),
    );
    const headers = fc.constantFrom<Record<string, string>>(
      {},
      { dpop: 'a.b.c' },
      { dpop: 'eyJhbGciOiJub25lIn0.e30.' },
      { authorization: 'Basic Og==' },
    );
    const paths = ['/par', '/token', '/token/introspect', '/token/revoke'];
    await fuzz(
      requests({ paths, method: 'POST', body, contentType: 'application/x-www-form-urlencoded', headers }),
    );
  });

  it('userinfo and end_session', async () => {
    const userinfo = requests({
      paths: ['/userinfo'],
      method: 'GET',
      query: params(['access_token', 'claims', 'scope']),
      body: params(['access_token']),
      contentType: 'application/x-www-form-urlencoded',
      headers: authorization(f.oidcAccessToken),
    });
    const logout = requests({
      paths: ['/logout', '/logout/confirm', '/logout/success'],
      method: 'GET',
      query: params([
        'id_token_hint',
        'post_logout_redirect_uri',
        'state',
        'client_id',
        'ui_locales',
        'logout_hint',
      ]),
      body: params(['xsrf', 'logout', 'id_token_hint', 'client_id']),
      contentType: 'application/x-www-form-urlencoded',
      headers: fc.constantFrom<Record<string, string>>(
        {},
        { cookie: '_session=x; _session.sig=y; _session.legacy=z' },
        { accept: 'text/html' },
      ),
    });
    await fuzz(fc.oneof(userinfo, logout));
  });

  it('interaction JSON API and pages, with the right cookie and CSRF token, and without', async () => {
    const base = `/interaction/${interaction.uid}`;
    const session = fc.constantFrom<Record<string, string>>(
      { cookie: interaction.cookie, 'x-csrf-token': interaction.csrf, origin },
      {
        cookie: interaction.cookie,
        'x-csrf-token': interaction.csrf,
        origin,
        'sec-fetch-site': 'same-origin',
      },
      { cookie: interaction.cookie, origin: 'https://evil.example' },
      { cookie: interaction.cookie, 'x-csrf-token': 'x', origin: 'null' },
      { 'x-csrf-token': interaction.csrf },
      { cookie: '_interaction=__proto__; _interaction.sig=x' },
    );
    const api = requests({
      paths: [
        `${base}/api`,
        `${base}/api/send-otp`,
        `${base}/api/authenticate`,
        `${base}/api/consent`,
        '/interaction/nope/api/authenticate',
      ],
      method: 'POST',
      body: fc.oneof(
        jsonBody({ individual_id: '5550001234', factor: 'pin', challenge: '000000' }),
        jsonBody({
          individual_id: '5550001234',
          factor: 'kbi',
          challenge: { name: 'x', birthdate: '2000-01-01' },
        }),
        jsonBody({ accepted_claims: ['name'] }),
      ),
      headers: session,
    });
    const pages = requests({
      paths: [
        base,
        `${base}/login`,
        `${base}/send-otp`,
        `${base}/consent`,
        '/interaction/nope',
        '/interaction/',
      ],
      method: 'POST',
      query: params(['factor', 'ui_locales']),
      body: params(
        ['csrf', 'factor', 'individual_id', 'otp', 'pin', 'password', 'claim', 'kbi_name', 'kbi_birthdate'],
        {
          csrf: interaction.csrf,
        },
      ),
      contentType: 'application/x-www-form-urlencoded',
      headers: session,
    });
    await fuzz(fc.oneof(api, pages));
  });

  it('nonce, credential, deferred credential and notification', async () => {
    const proof = await proofJwt(await holderKey(), f.app.url, await f.h.nonce());
    const body = fc.oneof(
      jsonBody({ credential_configuration_id: CONFIGURATION, proofs: { jwt: [proof] } }, [
        'credential_configuration_id',
        'credential_identifier',
        'proofs',
        'proof',
        'format',
        'credential_definition',
        'vct',
        'credential_response_encryption',
      ]),
      jsonBody({
        credential_configuration_id: CONFIGURATION,
        proofs: { jwt: [proof] },
        credential_response_encryption: { jwk: {}, enc: 'A128GCM' },
      }),
      jsonBody({ format: 'ldp_vc', proof: { proof_type: 'jwt', jwt: proof } }),
      jsonBody({ transaction_id: 'x' }),
      jsonBody({ notification_id: f.notificationId, event: 'credential_accepted', event_description: 'x' }),
    );
    const paths = ['/nonce', '/credential', '/deferred_credential', '/notification'];
    const headers = fc
      .tuple(
        authorization(f.vciAccessToken),
        fc.constantFrom<Record<string, string>>({}, { dpop: 'a.b.c' }, { accept: 'application/jwt' }),
      )
      .map(([a, b]) => ({ ...a, ...b }));
    await fuzz(requests({ paths, method: 'POST', body, headers }));
  });

  it('credential offer URI and status lists', async () => {
    const offerId = new URL(f.offerUri).pathname.split('/').pop()!;
    const lists = f.statusLists.map((u) => new URL(u).pathname);
    const ids = fc.oneof(
      junkString,
      fc.constantFrom(offerId, `${offerId}x`, '%ff', '%', '..%2f..%2fadmin', '%00'),
    );
    const path = fc
      .tuple(
        fc.constantFrom(
          '/credential-offer/',
          '/status/bitstring/',
          '/status/token/',
          ...lists.map((l) => `${l}/`),
        ),
        ids,
      )
      .map(([p, id]) => `${p}${/%/.test(id) ? id : encodeURIComponent(id.toWellFormed())}`);
    const arbitrary = fc
      .tuple(
        path,
        requests({
          paths: ['/'],
          method: 'GET',
          headers: fc.record({
            'if-none-match': headerString,
            accept: fc.constantFrom('*/*', 'application/jwt'),
          }),
        }),
      )
      .map(([p, c]) => ({ ...c, path: p }));
    await fuzz(fc.oneof(arbitrary, requests({ paths: lists, method: 'GET' })));
  });

  it('admin API, with and without the admin token, with random JSON bodies', async () => {
    const token = f.app.adminToken;
    const paths = [
      '/admin',
      '/admin/keys',
      '/admin/identities',
      '/admin/identities/lookup',
      '/admin/identities/acc-x',
      '/admin/clients',
      `/admin/clients/${f.client.clientId}`,
      '/admin/clients/__proto__',
      '/admin/consents',
      '/admin/consents/x',
      '/admin/credential-configurations',
      `/admin/credential-configurations/${CONFIGURATION}`,
      '/admin/credential-configurations/x/retire',
      '/admin/credential-offers',
      '/admin/outbox',
      '/admin/ledger',
      '/admin/ledger/x',
      '/admin/ledger/x/revoke',
      '/admin/ledger/x/suspend',
    ];
    const body = fc.oneof(
      jsonBody(
        {
          individual_id: '1234-5678',
          pin: '1234',
          password: 'xxxxxxxx',
          claims: { name: 'x', email: 'a@b.cc' },
        },
        ['individual_id', 'pin', 'password', 'claims', 'kyc_pending', 'verification'],
      ),
      jsonBody({
        client_id: 'x',
        redirect_uris: ['https://x.example/cb'],
        token_endpoint_auth_method: 'none',
        allowed_claims: ['name'],
      }),
      jsonBody({ credential_configuration_ids: [CONFIGURATION], individual_id: '5550001234', tx_code: true }),
      jsonBody({ id: 'x', format: 'ldp_vc', claims: {} }),
      jsonBody({ reason: 'x' }),
    );
    const headers = fc.constantFrom<Record<string, string>>(
      {},
      { authorization: `Bearer ${token}` },
      { authorization: `Bearer ${token}` },
      { authorization: `Bearer ${token}x` },
      { authorization: `bearer ${token}` },
      { authorization: `Basic ${token}` },
      { authorization: `Bearer ${'A'.repeat(5000)}` },
    );
    const query = params(['to', 'limit', 'purpose', 'cursor', 'q', 'status'], { limit: '5' });
    // Not fuzzed: POST /admin/keys/rotate with a valid purpose (rotates keys, it is not input handling).
    await fuzz(requests({ paths, method: 'POST', query, body, headers }));
  });

  it('unknown and mangled paths, any method', async () => {
    const segment = fc.oneof(
      fc.constantFrom(
        '%ff',
        '%',
        '%c0%af',
        '..',
        '.',
        '%2e%2e',
        '%00',
        '',
        'admin',
        'interaction',
        '__proto__',
        ';x',
        '%0d%0aX:y',
        '~',
      ),
      fc.string({ maxLength: 12 }).map(encodeURIComponent),
    );
    const prefix = fc.constantFrom(
      '',
      '/admin',
      '/interaction',
      '/authorize',
      '/token',
      '/logout',
      '/status',
      '/.well-known',
      '/credential-offer',
    );
    const path = fc
      .tuple(prefix, fc.array(segment, { minLength: 1, maxLength: 5 }))
      .map(([p, s]) => `${p}/${s.join('/')}`);
    const arbitrary = fc
      .tuple(path, requests({ paths: ['/'], method: 'GET', body: fc.constant('{}') }))
      .map(([p, c]) => ({ ...c, path: p }));
    await fuzz(arbitrary);
  });

  it('answers an oversize URL or header with a 4xx from Node, and stays up', async () => {
    // Node's HTTP parser (max header size 16 KiB) answers 431 with an empty body before Koa runs:
    // acceptable (no 5xx, nothing leaks), but it is not one of our JSON errors, so it is pinned here.
    for (const path of [`/authorize?client_id=${'A'.repeat(20_000)}`, `/userinfo?${'a=b&'.repeat(6000)}`]) {
      const reply = await raw(`${origin}${path}`);
      expect(reply.status).toBe(431);
      expect(reply.text).toBe('');
    }
    const header = await raw(`${origin}/userinfo`, {
      headers: { authorization: `Bearer ${'A'.repeat(20_000)}` },
    });
    expect(header.status).toBe(431);
    expect((await raw(`${origin}/health/live`)).status).toBe(200);
  });

  it('refuses a body over the 1 MiB limit with 413 on our JSON endpoints and stays up', async () => {
    for (const path of [
      '/credential',
      '/notification',
      `/interaction/${interaction.uid}/api/authenticate`,
      '/admin/identities',
    ]) {
      const reply = await raw(`${origin}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${f.vciAccessToken}`,
          cookie: interaction.cookie,
        },
        body: hugeJson(LIMIT + 1),
      });
      expect([401, 413], `${path} ${reply.text}`).toContain(reply.status);
      expect(typeof JSON.parse(reply.text).error).toBe('string');
    }
    expect((await raw(`${origin}/health/live`)).status).toBe(200);
  });
});
