import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';
import {
  Browser,
  INVALID_GRANT,
  obtainCode,
  pkce,
  redeem,
  registerClient,
  startOidcApp,
  type TestClient,
  useAppAndClient,
} from './helpers.ts';

const REGISTERED = 'https://rp.example.org/callback';

describe('authorization endpoint (SECURITY rows 4, 5, 6)', () => {
  let app: TestApp;
  let client: TestClient;
  useAppAndClient((started) => ({ app, client } = started));

  const authorize = (params: Record<string, string>) => {
    const { challenge } = pkce();
    const query = new URLSearchParams({
      client_id: client.clientId,
      response_type: 'code',
      redirect_uri: REGISTERED,
      scope: 'openid',
      state: 's1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...params,
    });
    for (const [k, v] of Object.entries(params)) if (v === '') query.delete(k);
    return request(`${app.url}/authorize?${query}`);
  };

  const variants = [
    'https://evil.example/callback',
    'https://rp.example.org/callbac',
    'https://rp.example.org/callbackx',
    'https://rp.example.org/callback/x',
    'https://rp.example.org/callback/',
    'https://rp.example.org/callback?a=1',
    'https://rp.example.org/callback#frag',
    'https://RP.example.org/callback',
    'https://rp.example.org/Callback',
    'https://rp.example.org:443/callback',
    'https://rp.example.org:8443/callback',
    'http://rp.example.org/callback',
    'https://rp.example.org/x/../callback',
    'https://rp.example.org/%63allback',
    'https://rp.example.org%2Fcallback',
    'https://user@rp.example.org/callback',
    'https://rp.example.org@evil.example/callback',
    'https://rp.example.org.evil.example/callback',
    'https://evil.example/?https://rp.example.org/callback',
    '//evil.example/callback',
    'javascript:alert(1)',
    'data:text/html,hi',
    ' https://rp.example.org/callback',
    'https://rp.example.org/callback ',
    'https://rp.example.org/callback%00',
    'https://rp.example.org\\@evil.example/callback',
    'HTTPS://rp.example.org/callback',
    'https://rp.example.org./callback',
    'https://rp.example.org/callback;x',
    'https://rp.example.org/%2e%2e/callback',
  ];

  test.each(variants)(
    'row 4 redirect-uri-exact-match: %s gets an HTML 400 and no Location',
    async (redirect) => {
      const response = await authorize({ redirect_uri: redirect });
      const body = await response.body.text();
      expect(response.statusCode).toBe(400);
      expect(response.headers.location).toBeUndefined();
      expect(String(response.headers['content-type'])).toContain('text/html');
      expect(body).not.toContain('evil.example/callback"');
      expect(response.headers['x-frame-options']).toBe('DENY');
    },
  );

  test('row 4: an unknown client_id gets an HTML 400 and no Location', async () => {
    const response = await authorize({ client_id: 'nobody', redirect_uri: 'https://evil.example/callback' });
    await response.body.text();
    expect(response.statusCode).toBe(400);
    expect(response.headers.location).toBeUndefined();
  });

  const errorRedirect = async (params: Record<string, string>) => {
    const response = await authorize(params);
    await response.body.text();
    expect(response.statusCode).toBe(303);
    const location = new URL(String(response.headers.location));
    expect(location.origin + location.pathname).toBe(REGISTERED);
    // row 6 (RFC 9207): error responses carry iss too.
    expect(location.searchParams.get('iss')).toBe(app.url);
    return location.searchParams.get('error');
  };

  test('row 5 pkce-required-s256: a missing code_challenge is invalid_request', async () => {
    expect(await errorRedirect({ code_challenge: '', code_challenge_method: '' })).toBe('invalid_request');
  });

  test.each([
    ['plain method', { code_challenge_method: 'plain' }],
    ['challenge too short', { code_challenge: 'a'.repeat(42) }],
    ['challenge too long', { code_challenge: 'a'.repeat(129) }],
    ['challenge with bad characters', { code_challenge: `${'a'.repeat(42)}!` }],
  ])('row 5: %s is invalid_request', async (_name, params) => {
    expect(await errorRedirect(params as Record<string, string>)).toBe('invalid_request');
  });

  test('row 5: a missing or wrong code_verifier is invalid_grant at the token endpoint', async () => {
    const { code } = await obtainCode(app, client);
    const missing = await redeem(app, client, code, '', {});
    expect(missing.status).toBe(400);
    // RFC 7636 §4.6: a code_verifier that does not verify is invalid_grant (RFC 6749 §5.2).
    expect(missing.body).toEqual(INVALID_GRANT);
    const second = await obtainCode(app, client);
    const wrong = await redeem(app, client, second.code, pkce().verifier);
    expect(wrong.status).toBe(400);
    expect(wrong.body).toEqual(INVALID_GRANT);
  });

  test('row 6 iss-response-parameter: discovery says so and the success response carries the exact issuer', async () => {
    const discovery = (await (
      await request(`${app.url}/.well-known/openid-configuration`)
    ).body.json()) as Record<string, unknown>;
    expect(discovery.issuer).toBe(app.url);
    expect(discovery.authorization_response_iss_parameter_supported).toBe(true);
    const { callback } = await obtainCode(app, client);
    expect(callback.searchParams.get('iss')).toBe(app.url);
  });

  test('row 6: form_post error responses carry iss', async () => {
    const response = await authorize({ response_mode: 'form_post', code_challenge_method: 'plain' });
    const body = await response.body.text();
    expect(body).toContain(`name="iss" value="${app.url}"`);
    expect(body).toContain('name="error" value="invalid_request"');
  });
});

describe('issuer with a path prefix (row 6, discovery under the prefix)', () => {
  let app: TestApp;
  let client: TestClient;
  beforeAll(async () => {
    app = await startOidcApp({ pathPrefix: '/op' });
    client = await registerClient(app);
  });
  afterAll(async () => app.stop());

  test('discovery, RFC 8414 metadata and the whole flow work under the prefix with iss = the prefixed issuer', async () => {
    const discovery = (await (
      await request(`${app.url}/.well-known/openid-configuration`)
    ).body.json()) as Record<string, string>;
    expect(discovery.issuer).toBe(app.url);
    expect(discovery.token_endpoint).toBe(`${app.url}/token`);
    const origin = new URL(app.url).origin;
    const as = (await (
      await request(`${origin}/.well-known/oauth-authorization-server/op`)
    ).body.json()) as Record<string, string>;
    expect(as.issuer).toBe(app.url);
    const { code, verifier, callback } = await obtainCode(app, client, { browser: new Browser(origin) });
    expect(callback.searchParams.get('iss')).toBe(app.url);
    expect((await redeem(app, client, code, verifier)).status).toBe(200);
  });
});
