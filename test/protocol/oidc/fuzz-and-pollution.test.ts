import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';
import { Browser, registerClient, startAuthorization, startOidcApp, type TestClient } from './helpers.ts';

describe('parameter pollution and fuzzing (SECURITY rows 12, 13 for the OIDC endpoints)', () => {
  let app: TestApp;
  let client: TestClient;
  beforeAll(async () => {
    // The clock stands still here, so one rate-limit window would swallow the send-otp cases.
    app = await startOidcApp({
      overrides: { rateLimits: { rules: { sendOtp: { limit: 1_000_000, windowSeconds: 60 } } } },
    });
    client = await registerClient(app);
  });
  afterAll(async () => app.stop());

  const post = async (path: string, body: string, type = 'application/x-www-form-urlencoded') => {
    const response = await request(`${app.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': type },
      body,
    });
    const text = await response.body.text();
    return { status: response.statusCode, text };
  };

  test.each([
    ['a duplicated grant_type', 'grant_type=authorization_code&grant_type=refresh_token&code=x'],
    ['a duplicated code', 'grant_type=authorization_code&code=a&code=b&redirect_uri=x'],
    ['an operator-looking code', 'grant_type=authorization_code&code[$ne]=x&redirect_uri=x'],
    ['an array client_id', 'grant_type=authorization_code&client_id[]=a&code=x'],
    ['a __proto__ field', 'grant_type=authorization_code&__proto__[admin]=1&code=x'],
  ])('row 12: %s at the token endpoint is a 400 invalid_request, never a 5xx', async (_name, body) => {
    const result = await post('/token', body);
    // RFC 6749 §5.2: a request that repeats a parameter or is otherwise malformed is invalid_request
    // (400); none of these carries client authentication, which is the first thing refused.
    expect(result.status).toBe(400);
    expect(JSON.parse(result.text)).toEqual({
      error: 'invalid_request',
      error_description: 'no client authentication mechanism provided',
    });
  });

  test('row 12: duplicated parameters at the authorization endpoint are refused', async () => {
    const response = await request(
      `${app.url}/authorize?client_id=${client.clientId}&client_id=${client.clientId}&response_type=code&scope=openid&scope=profile`,
    );
    await response.body.text();
    expect(response.statusCode).toBe(400);
  });

  test('row 13: random bodies at token, PAR, introspection and revocation never give a 5xx', async () => {
    const field = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom(
        'authorization_code',
        'refresh_token',
        'urn:ietf:params:oauth:grant-type:pre-authorized_code',
        client.clientId,
        '{"$ne":1}',
        'null',
      ),
    );
    const form = fc.dictionary(
      fc.constantFrom(
        'grant_type',
        'code',
        'client_id',
        'redirect_uri',
        'code_verifier',
        'token',
        'refresh_token',
        'pre-authorized_code',
        'tx_code',
        'resource',
        'client_assertion',
        'client_assertion_type',
        'scope',
        'request',
        'x',
      ),
      field,
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/token', '/par', '/token/introspect', '/token/revoke'),
        form,
        async (path, fields) => {
          const result = await post(path, new URLSearchParams(fields).toString());
          expect(result.status).toBeLessThan(500);
          expect(result.text).not.toMatch(/at .*\.js:\d+/);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('row 13: random JSON at the interaction API never gives a 5xx', async () => {
    const browser = new Browser(new URL(app.url).origin);
    const { interaction } = await startAuthorization(app, browser, client);
    const details = (await browser.fetch(`${interaction}/api`)).json();
    const headers = { 'x-csrf-token': details.csrf_token as string };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('send-otp', 'authenticate', 'consent'),
        fc.jsonValue({ maxDepth: 3 }),
        async (step, body) => {
          const reply = await browser.fetch(`${interaction}/api/${step}`, { json: body, headers });
          expect(reply.status).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
  });
});
