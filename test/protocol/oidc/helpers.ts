import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll } from 'vitest';
import type { ComposeOptions } from '../../../src/compose.ts';
import { startTestApp, type TestApp } from '../../helpers/app.ts';

/**
 * Shared pieces of the OIDC protocol tests: an app with the outbox on and cheap secret hashing,
 * identities and relying parties created through the admin API, a cookie-keeping "browser" that
 * follows nothing by itself, and the login steps through the JSON interaction API.
 */

export const IDENTITY = {
  individualId: '5550001234',
  pin: '246810',
  password: 'Correct-Horse-42',
  claims: {
    name: 'Layla Mansour',
    'name#ar': 'ليلى منصور',
    given_name: 'Layla',
    family_name: 'Mansour',
    birthdate: '1988-02-29',
    gender: 'female',
    email: 'layla.mansour@example.org',
    email_verified: true,
    phone_number: '+212600000001',
    phone_number_verified: true,
    address: { formatted: '1 Test Street, Rabat', country: 'MA' },
  },
};

export async function startOidcApp(
  options: { overrides?: Record<string, unknown>; pathPrefix?: string; compose?: ComposeOptions } = {},
): Promise<TestApp> {
  const app = await startTestApp({
    pathPrefix: options.pathPrefix,
    ...(options.compose ? { compose: options.compose } : {}),
    overrides: {
      kyc: { scryptCost: 1024, notify: { outboxEnabled: true } },
      ...options.overrides,
    },
  });
  await admin(app, 'POST', '/identities', {
    individual_id: IDENTITY.individualId,
    pin: IDENTITY.pin,
    password: IDENTITY.password,
    claims: IDENTITY.claims,
  });
  return app;
}

/**
 * The fixture most OIDC suites share: for the enclosing describe block, an app from
 * `startOidcApp(options)` with one registered client, stopped after the block. `use` hands both over.
 */
export function useAppAndClient(
  use: (started: { app: TestApp; client: TestClient }) => void,
  options: Parameters<typeof startOidcApp>[0] = {},
): void {
  let app: TestApp | undefined;
  beforeAll(async () => {
    app = await startOidcApp(options);
    use({ app, client: await registerClient(app) });
  });
  afterAll(async () => app?.stop());
}

/** The admin API lives at the host root (not under the issuer's path). */
export async function admin(app: TestApp, method: string, path: string, body?: unknown) {
  const response = await request(`${new URL(app.url).origin}/admin${path}`, {
    method: method as 'GET',
    headers: {
      authorization: `Bearer ${app.adminToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.body.text();
  const json = text ? JSON.parse(text) : undefined;
  if (response.statusCode >= 400) throw new Error(`admin ${method} ${path}: ${response.statusCode} ${text}`);
  return json;
}

export type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

export interface TestClient {
  clientId: string;
  redirectUri: string;
  privateKey: PrivateKey;
  publicJwk: JWK;
  assertion(
    aud: string,
    overrides?: Record<string, unknown>,
    header?: Record<string, unknown>,
  ): Promise<string>;
}

export async function registerClient(
  app: TestApp,
  metadata: Record<string, unknown> = {},
): Promise<TestClient> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const clientId = `rp-${randomBytes(6).toString('hex')}`;
  const redirectUri = 'https://rp.example.org/callback';
  await admin(app, 'POST', '/clients', {
    client_id: clientId,
    client_name: 'Test RP',
    redirect_uris: [redirectUri],
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [publicJwk] },
    allowed_claims: ['name', 'birthdate', 'email', 'phone_number', 'gender', 'address'],
    ...metadata,
  });
  return {
    clientId,
    redirectUri,
    privateKey,
    publicJwk,
    assertion: (aud, overrides = {}, header = {}) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ jti: randomUUID(), iat: now, exp: now + 60, ...overrides })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1', ...header })
        .setIssuer(clientId)
        .setSubject(clientId)
        .setAudience(aud)
        .sign(privateKey);
    },
  };
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): any;
  location?: string;
}

/** A cookie-keeping HTTP client that never follows redirects on its own. */
export class Browser {
  readonly cookies = new Map<string, string>();
  readonly origin: string;
  constructor(origin: string) {
    this.origin = origin;
  }

  async fetch(
    url: string,
    options: {
      method?: string;
      form?: Record<string, string | string[]>;
      json?: unknown;
      headers?: Record<string, string>;
    } = {},
  ): Promise<Reply> {
    const absolute = new URL(url, this.origin).href;
    const headers: Record<string, string> = { ...options.headers };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (options.form) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(options.form)) for (const one of [v].flat()) params.append(k, one);
      body = params.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] = 'application/json';
    }
    const response = await request(absolute, {
      method: (options.method ?? (body === undefined ? 'GET' : 'POST')) as 'GET',
      headers,
      body,
    });
    for (const raw of [response.headers['set-cookie'] ?? []].flat()) {
      const [pair] = raw.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(raw) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await response.body.text();
    const location = response.headers.location as string | undefined;
    return {
      status: response.statusCode,
      headers: response.headers,
      text,
      json: () => JSON.parse(text),
      location: location ? new URL(location, absolute).href : undefined,
    };
  }

  /** Follows redirects while they stay on our origin; returns the first off-origin Location or final reply. */
  async follow(url: string): Promise<{ reply: Reply; url: string }> {
    let current = new URL(url, this.origin).href;
    for (let i = 0; i < 10; i++) {
      const reply = await this.fetch(current);
      if (reply.status < 300 || reply.status >= 400 || !reply.location) return { reply, url: current };
      if (new URL(reply.location).origin !== this.origin) return { reply, url: reply.location };
      current = reply.location;
    }
    throw new Error('too many redirects');
  }
}

/** Reads the newest one-time code sent to this identity's phone or e-mail from the outbox. */
export async function latestOtp(app: TestApp): Promise<string> {
  const { messages } = await admin(app, 'GET', '/outbox?limit=5');
  const message = (messages as { text: string; purpose?: string }[]).find((m) => /\b\d{6}\b/.test(m.text));
  if (!message) throw new Error('no one-time code in the outbox');
  return /\b(\d{6})\b/.exec(message.text)![1]!;
}

export interface AuthorizeOptions {
  scope?: string;
  claims?: unknown;
  acr_values?: string;
  prompt?: string;
  ui_locales?: string;
  extra?: Record<string, string>;
  par?: boolean;
}

/** Starts an authorization (by PAR unless `par: false`); returns the interaction URL. */
export async function startAuthorization(
  app: TestApp,
  browser: Browser,
  client: TestClient,
  options: AuthorizeOptions = {},
): Promise<{ interaction: string; state: string; nonce: string; verifier: string; reply: Reply }> {
  const { verifier, challenge } = pkce();
  const state = randomBytes(8).toString('hex');
  const nonce = randomBytes(8).toString('hex');
  const params: Record<string, string> = {
    client_id: client.clientId,
    response_type: 'code',
    redirect_uri: client.redirectUri,
    scope: options.scope ?? 'openid profile',
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...(options.claims ? { claims: JSON.stringify(options.claims) } : {}),
    ...(options.acr_values ? { acr_values: options.acr_values } : {}),
    ...(options.prompt ? { prompt: options.prompt } : {}),
    ...(options.ui_locales ? { ui_locales: options.ui_locales } : {}),
    ...options.extra,
  };
  let query: URLSearchParams;
  if (options.par === false) {
    query = new URLSearchParams(params);
  } else {
    const par = await request(`${app.url}/par`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        ...params,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await client.assertion(app.url),
      }).toString(),
    });
    const body = (await par.body.json()) as { request_uri?: string };
    if (par.statusCode !== 201) throw new Error(`PAR failed: ${par.statusCode} ${JSON.stringify(body)}`);
    query = new URLSearchParams({ client_id: client.clientId, request_uri: body.request_uri! });
  }
  const reply = await browser.fetch(`${app.url}/authorize?${query}`);
  return { interaction: reply.location ?? '', state, nonce, verifier, reply };
}

/** JSON interaction API: details, then the given factor, then (if asked) consent to everything offered. */
export async function loginWithApi(
  app: TestApp,
  browser: Browser,
  interaction: string,
  factor: 'otp' | 'pin' | 'password' | 'kbi' = 'pin',
  options: { accept?: string[]; individualId?: string } = {},
): Promise<string> {
  const details = (await browser.fetch(`${interaction}/api`)).json();
  const csrf = { 'x-csrf-token': details.csrf_token as string, origin: new URL(app.url).origin };
  const individualId = options.individualId ?? IDENTITY.individualId;
  let challenge: unknown;
  if (factor === 'otp') {
    const sent = await browser.fetch(`${interaction}/api/send-otp`, {
      json: { individual_id: individualId },
      headers: csrf,
    });
    if (sent.status !== 200) throw new Error(`send-otp: ${sent.status} ${sent.text}`);
    challenge = await latestOtp(app);
  } else if (factor === 'kbi') {
    challenge = { name: IDENTITY.claims.name, birthdate: IDENTITY.claims.birthdate };
  } else {
    challenge = factor === 'pin' ? IDENTITY.pin : IDENTITY.password;
  }
  const auth = await browser.fetch(`${interaction}/api/authenticate`, {
    json: { individual_id: individualId, factor, challenge },
    headers: csrf,
  });
  if (auth.status !== 200) throw new Error(`authenticate: ${auth.status} ${auth.text}`);
  let to = auth.json().redirect_to as string | undefined;
  if (!to) {
    const body = auth.json();
    const accepted = options.accept ?? [...body.essential_claims, ...body.voluntary_claims];
    const consent = await browser.fetch(`${interaction}/api/consent`, {
      json: { accepted_claims: accepted },
      headers: csrf,
    });
    if (consent.status !== 200) throw new Error(`consent: ${consent.status} ${consent.text}`);
    to = consent.json().redirect_to as string;
  }
  const { url } = await browser.follow(to);
  return url;
}

/** Whole flow to an authorization code. */
export async function obtainCode(
  app: TestApp,
  client: TestClient,
  options: AuthorizeOptions & { factor?: 'otp' | 'pin' | 'password' | 'kbi'; browser?: Browser } = {},
): Promise<{ code: string; verifier: string; nonce: string; callback: URL; browser: Browser }> {
  const browser = options.browser ?? new Browser(new URL(app.url).origin);
  const started = await startAuthorization(app, browser, client, options);
  if (!started.interaction)
    throw new Error(`authorize did not redirect: ${started.reply.status} ${started.reply.text}`);
  const callback = new URL(await loginWithApi(app, browser, started.interaction, options.factor ?? 'pin'));
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`no code in ${callback}`);
  return { code, verifier: started.verifier, nonce: started.nonce, callback, browser };
}

/** A pushed authorization request's parameters (RFC 9126 §2.1) for `client`, with a fresh PKCE challenge. */
export function parParams(client: TestClient): Record<string, string> {
  return {
    client_id: client.clientId,
    response_type: 'code',
    redirect_uri: client.redirectUri,
    scope: 'openid',
    code_challenge: pkce().challenge,
    code_challenge_method: 'S256',
  };
}

/** The token request of the authorization code grant (RFC 6749 §4.1.3) with PKCE and private_key_jwt. */
export async function codeGrantForm(
  app: TestApp,
  client: TestClient,
  code: string,
  verifier: string,
): Promise<Record<string, string>> {
  return {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: client.redirectUri,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await client.assertion(app.url),
  };
}

export async function redeem(
  app: TestApp,
  client: TestClient,
  code: string,
  verifier: string,
  extra: Record<string, string> = {},
) {
  const response = await request(`${app.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...(await codeGrantForm(app, client, code, verifier)), ...extra }).toString(),
  });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    headers: response.headers,
    body: text ? JSON.parse(text) : undefined,
  };
}

/**
 * The token and PAR endpoints' error bodies where the spec names the code (the descriptions are
 * oidc-provider's, which says no more than the code so as not to help an attacker).
 * RFC 6749 §5.2: a code that is unknown, spent, expired, for another client or redirect_uri, or a
 * PKCE verifier that does not match (RFC 7636 §4.6), is invalid_grant.
 */
export const INVALID_GRANT = { error: 'invalid_grant', error_description: 'grant request is invalid' };
/** RFC 6749 §5.2, RFC 7523 §3: client authentication failed (a bad or replayed client assertion). */
export const INVALID_CLIENT = { error: 'invalid_client', error_description: 'client authentication failed' };
/** RFC 7523 §3: iss and sub must both be the client (checked in front of the provider). */
export const NOT_THIS_CLIENT = {
  error: 'invalid_client',
  error_description: 'client authentication failed: the assertion does not name this client as iss and sub',
};
