import { decodeJwt, decodeProtectedHeader, SignJWT, UnsecuredJWT } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';
import { burst, statusCounts } from '../../helpers/burst.ts';
import {
  admin,
  Browser,
  obtainCode,
  pkce,
  redeem,
  registerClient,
  startAuthorization,
  startOidcApp,
  type TestClient,
} from './helpers.ts';

const ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe('PAR, request objects, refresh, prompt/max_age, logout, key rotation (rows 28, 40, 41, 43, 52, 53)', () => {
  let app: TestApp;
  let client: TestClient;
  let other: TestClient;
  let origin: string;
  beforeAll(async () => {
    app = await startOidcApp();
    client = await registerClient(app, {
      grant_types: ['authorization_code', 'refresh_token'],
      post_logout_redirect_uris: ['https://rp.example.org/bye'],
    });
    other = await registerClient(app);
    origin = new URL(app.url).origin;
  });
  afterAll(async () => app.stop());

  const parParams = (c: TestClient) => ({
    client_id: c.clientId,
    response_type: 'code',
    redirect_uri: c.redirectUri,
    scope: 'openid',
    code_challenge: pkce().challenge,
    code_challenge_method: 'S256',
  });
  const push = async (c: TestClient, extra: Record<string, string> = {}, auth = true) => {
    const response = await request(`${app.url}/par`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        ...parParams(c),
        ...(auth ? { client_assertion_type: ASSERTION, client_assertion: await c.assertion(app.url) } : {}),
        ...extra,
      }).toString(),
    });
    return { status: response.statusCode, body: (await response.body.json()) as Record<string, any> };
  };
  const authorizeWith = (clientId: string, requestUri: string) =>
    request(`${app.url}/authorize?${new URLSearchParams({ client_id: clientId, request_uri: requestUri })}`);

  test('row 40 par-request-uri: expires_in is 60 s and a request_uri is bound to its client', async () => {
    const pushed = await push(client);
    expect(pushed.status).toBe(201);
    expect(pushed.body.expires_in).toBe(60);
    const stolen = await authorizeWith(other.clientId, pushed.body.request_uri);
    await stolen.body.text();
    // RFC 9126 §4: the request_uri was issued to another client, so its redirect_uri is not this
    // client's; RFC 6749 §4.1.2.1: such an error is shown, never redirected.
    expect(stolen.statusCode).toBe(400);
    expect(stolen.headers.location).toBeUndefined();
  });

  test('row 40: an expired request_uri is refused', async () => {
    const pushed = await push(client);
    app.clock.advanceSeconds(61);
    const late = await authorizeWith(client.clientId, pushed.body.request_uri);
    const body = await late.body.text();
    // The redirect_uri inside the expired request cannot be trusted: an error page, no redirect.
    expect(late.statusCode).toBe(400);
    expect(late.headers.location).toBeUndefined();
    expect(body).toContain('invalid_request_uri');
  });

  test('row 40: a request_uri is single use once the authorization completed', async () => {
    const pushed = await push(client);
    const query = new URLSearchParams({ client_id: client.clientId, request_uri: pushed.body.request_uri });
    const browser = new Browser(origin);
    const first = await browser.fetch(`${app.url}/authorize?${query}`);
    expect(first.location).toContain('/interaction/');
    const { loginWithApi } = await import('./helpers.ts');
    const callback = new URL(await loginWithApi(app, browser, first.location!, 'pin'));
    expect(callback.searchParams.get('code')).toBeTruthy();
    const again = await new Browser(origin).fetch(`${app.url}/authorize?${query}`);
    expect(again.location ?? '').not.toContain('/interaction/');
    expect(again.location ?? '').not.toContain('code=');
  });

  test('row 40: PAR without client authentication and with request_uri inside are refused', async () => {
    const unauthenticated = await push(client, {}, false);
    expect(unauthenticated.status).toBe(401);
    // RFC 9126 §2.1: the PAR endpoint authenticates the client; RFC 6749 §5.2 invalid_client.
    expect(unauthenticated.body).toEqual({
      error: 'invalid_client',
      error_description: 'client authentication failed',
    });
    const nested = await push(client, { request_uri: 'urn:ietf:params:oauth:request_uri:x' });
    expect(nested.status).toBe(400);
    // RFC 9126 §2.1: request_uri "MUST NOT be provided" to the PAR endpoint; the code for a
    // request_uri the server will not take is request_uri_not_supported (OIDC Core 1.0 §3.1.2.6).
    expect(nested.body).toEqual({ error: 'request_uri_not_supported' });
  });

  // oidc-provider's description for each refused request object.
  const REQUEST_OBJECT_REFUSED: Record<string, string> = {
    'an unsigned request object': 'unsupported signed request alg',
    'a request object without exp': "Request Object is missing the 'exp' claim",
    'a request object living longer than 60 minutes': "Request Object 'exp' claim too far from 'nbf' claim",
    'a request object for another audience': 'Request Object claims are invalid',
  };
  test.each([
    [
      'an unsigned request object',
      async () =>
        new UnsecuredJWT({
          ...parParams(client),
          iss: client.clientId,
          aud: app.url,
          exp: Math.floor(Date.now() / 1000) + 60,
          nbf: Math.floor(Date.now() / 1000),
        }).encode(),
    ],
    [
      'a request object without exp',
      async () =>
        new SignJWT({
          ...parParams(client),
          iss: client.clientId,
          aud: app.url,
          nbf: Math.floor(Date.now() / 1000),
        })
          .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
          .sign(client.privateKey),
    ],
    [
      'a request object living longer than 60 minutes',
      async () =>
        new SignJWT({
          ...parParams(client),
          iss: client.clientId,
          aud: app.url,
          nbf: Math.floor(Date.now() / 1000),
          exp: Math.floor(Date.now() / 1000) + 7200,
        })
          .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
          .sign(client.privateKey),
    ],
    [
      'a request object for another audience',
      async () =>
        new SignJWT({
          ...parParams(client),
          iss: client.clientId,
          aud: 'https://other.example',
          nbf: Math.floor(Date.now() / 1000),
          exp: Math.floor(Date.now() / 1000) + 60,
        })
          .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
          .sign(client.privateKey),
    ],
  ])('row 41 request-object-validation: %s is refused', async (_name, make) => {
    const response = await request(`${app.url}/par`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: client.clientId,
        request: await make(),
        client_assertion_type: ASSERTION,
        client_assertion: await client.assertion(app.url),
      }).toString(),
    });
    expect(response.statusCode).toBe(400);
    // RFC 9126 §2.3 and RFC 9101 §6.3: a request object that does not validate is invalid_request_object.
    expect(await response.body.json()).toEqual({
      error: 'invalid_request_object',
      error_description: REQUEST_OBJECT_REFUSED[_name],
    });
  });

  test('row 41: a signed request object with exp and nbf is accepted', async () => {
    const now = Math.floor(Date.now() / 1000);
    const jwt = await new SignJWT({
      ...parParams(client),
      iss: client.clientId,
      aud: app.url,
      nbf: now,
      exp: now + 60,
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .sign(client.privateKey);
    const response = await request(`${app.url}/par`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: client.clientId,
        request: jwt,
        client_assertion_type: ASSERTION,
        client_assertion: await client.assertion(app.url),
      }).toString(),
    });
    expect(response.statusCode).toBe(201);
    await response.body.text();
  });

  const refresh = async (token: string, extra: Record<string, string> = {}) => {
    const response = await request(`${app.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: token,
        client_assertion_type: ASSERTION,
        client_assertion: await client.assertion(app.url),
        ...extra,
      }).toString(),
    });
    return { status: response.statusCode, body: (await response.body.json()) as Record<string, any> };
  };

  test('row 43 refresh-token-rotation-reuse: reuse of a rotated token revokes the chain; scope cannot grow', async () => {
    const { code, verifier } = await obtainCode(app, client);
    const tokens = await redeem(app, client, code, verifier);
    const first = tokens.body.refresh_token as string;
    const rotated = await refresh(first);
    expect(rotated.status).toBe(200);
    expect(rotated.body.refresh_token).not.toBe(first);
    const escalated = await refresh(rotated.body.refresh_token, { scope: 'openid email' });
    expect(escalated.status).toBe(400);
    // RFC 6749 §6: a refresh may not ask for more scope than granted -> invalid_scope (§5.2).
    expect(escalated.body).toEqual({
      error: 'invalid_scope',
      error_description: 'refresh token missing requested scope',
      scope: 'email',
    });
    const reuse = await refresh(first);
    expect(reuse.status).toBe(400);
    // RFC 6749 §5.2: a refresh token already rotated away is invalid_grant.
    expect(reuse.body).toEqual({ error: 'invalid_grant', error_description: 'grant request is invalid' });
    expect((await refresh(rotated.body.refresh_token)).status).toBe(400);
  });

  test('row 43: a 20-way parallel refresh with one token succeeds once', async () => {
    const { code, verifier } = await obtainCode(app, client);
    const tokens = await redeem(app, client, code, verifier);
    const bodies = await Promise.all(
      Array.from({ length: 20 }, async () =>
        new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: tokens.body.refresh_token,
          client_assertion_type: ASSERTION,
          client_assertion: await client.assertion(app.url),
        }).toString(),
      ),
    );
    let i = 0;
    const results = await burst(20, `${app.url}/token`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: () => bodies[i++]!,
    });
    expect(statusCounts(results)[200]).toBe(1);
  });

  test('row 52 prompt-none: no session gives login_required with iss', async () => {
    const browser = new Browser(origin);
    const started = await startAuthorization(app, browser, client, { prompt: 'none', par: false });
    const location = new URL(String(started.reply.location));
    expect(location.searchParams.get('error')).toBe('login_required');
    expect(location.searchParams.get('iss')).toBe(app.url);
  });

  test('row 52: with a session and a remembered consent, prompt=none answers silently; max_age forces a new login', async () => {
    const { browser } = await obtainCode(app, client);
    const silent = await startAuthorization(app, browser, client, { prompt: 'none', par: false });
    expect(new URL(String(silent.reply.location)).searchParams.get('code')).toBeTruthy();
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const stale = await startAuthorization(app, browser, client, {
      prompt: 'none',
      par: false,
      extra: { max_age: '1' },
    });
    expect(new URL(String(stale.reply.location)).searchParams.get('error')).toBe('login_required');
  });

  test('row 53 logout-open-redirect: an unregistered post_logout_redirect_uri gets an error page, no redirect', async () => {
    const { code, verifier, browser } = await obtainCode(app, client);
    const tokens = await redeem(app, client, code, verifier);
    const bad = await browser.fetch(
      `${app.url}/logout?${new URLSearchParams({ id_token_hint: tokens.body.id_token, post_logout_redirect_uri: 'https://evil.example/bye' })}`,
    );
    expect(bad.status).toBe(400);
    expect(bad.location).toBeUndefined();
    const noHint = await browser.fetch(
      `${app.url}/logout?${new URLSearchParams({ post_logout_redirect_uri: 'https://rp.example.org/bye' })}`,
    );
    expect(noHint.location).toBeUndefined();
    // Without a hint the person is asked (a confirmation page), never logged out silently.
    const ask = await browser.fetch(`${app.url}/logout`);
    expect(ask.status).toBe(200);
    expect(ask.text).toContain('op.logoutForm');
  });

  test('row 28 op-signing-key-rotation: new tokens use the new key, the JWKS keeps the old one and never private members', async () => {
    const before = await obtainCode(app, client);
    const oldToken = (await redeem(app, client, before.code, before.verifier)).body.id_token as string;
    const oldKid = decodeProtectedHeader(oldToken).kid;
    await admin(app, 'POST', '/keys/rotate?purpose=oidc');
    const after = await obtainCode(app, client);
    const newToken = (await redeem(app, client, after.code, after.verifier)).body.id_token as string;
    expect(decodeProtectedHeader(newToken).kid).not.toBe(oldKid);
    const jwks = (await (await request(`${app.url}/jwks`)).body.json()) as {
      keys: Record<string, unknown>[];
    };
    const kids = jwks.keys.map((k) => k.kid);
    expect(kids).toContain(oldKid);
    expect(kids).toContain(decodeProtectedHeader(newToken).kid);
    for (const key of jwks.keys)
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(key[member]).toBeUndefined();
    expect(decodeJwt(newToken).iss).toBe(app.url);
  });
});
