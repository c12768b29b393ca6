import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';
import {
  admin,
  codeGrantForm,
  obtainCode,
  redeem,
  registerClient,
  startOidcApp,
  type TestClient,
} from './helpers.ts';

/**
 * CORS at the provider's client endpoints follows a policy (config `oidc.corsOrigins` plus the
 * client's redirect URI origins; src/oidc/cors.ts), never a reflected Origin. Fetch standard §3.2
 * (https://fetch.spec.whatwg.org/#http-cors-protocol): without a matching Access-Control-Allow-Origin
 * the browser neither sends the request after a preflight nor lets the page read the response.
 */
const SPA = 'https://spa.example.org';
const RP = 'https://rp.example.org';
const FOREIGN = 'https://evil.example';

const preflight = async (url: string, origin: string, headers = 'authorization, dpop') => {
  const response = await request(url, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': headers,
    },
  });
  await response.body.text();
  return { status: response.statusCode, allowOrigin: response.headers['access-control-allow-origin'] };
};

const post = async (url: string, origin: string | undefined, form: Record<string, string>) => {
  const response = await request(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(origin ? { origin } : {}),
    },
    body: new URLSearchParams(form).toString(),
  });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    allowOrigin: response.headers['access-control-allow-origin'],
    body: text ? JSON.parse(text) : {},
  };
};

const userinfo = async (url: string, origin: string, accessToken: string) => {
  const response = await request(url, {
    headers: { origin, authorization: `Bearer ${accessToken}` },
  });
  await response.body.text();
  return { status: response.statusCode, allowOrigin: response.headers['access-control-allow-origin'] };
};

describe('CORS with the default configuration: no origin is reflected at token and userinfo', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startOidcApp();
  });
  afterAll(async () => app.stop());

  test('a preflight from a foreign origin gets no Access-Control-Allow-Origin', async () => {
    for (const path of ['/token', '/userinfo', '/par', '/token/introspect']) {
      expect((await preflight(`${app.url}${path}`, FOREIGN)).allowOrigin).toBeUndefined();
    }
  });

  test('an actual token request from a foreign origin is refused without CORS headers', async () => {
    const client = await registerClient(app);
    const { code, verifier } = await obtainCode(app, client);
    const result = await post(`${app.url}/token`, FOREIGN, await codeGrantForm(app, client, code, verifier));
    expect(result.allowOrigin).toBeUndefined();
    expect(result.status).toBe(400);
    expect(result.body).toEqual({
      error: 'invalid_request',
      error_description: 'requests from this origin are not allowed',
    });
  });

  test('a request that fails before the client is known reflects no origin either', async () => {
    for (const path of ['/token', '/par', '/token/introspect']) {
      const result = await post(`${app.url}${path}`, FOREIGN, {
        grant_type: 'authorization_code',
        client_id: 'nobody',
      });
      expect(result.status).toBeGreaterThanOrEqual(400);
      expect(result.status).toBeLessThan(500);
      expect(result.allowOrigin).toBeUndefined();
    }
  });

  test('discovery and JWKS stay readable from any origin', async () => {
    for (const path of ['/.well-known/openid-configuration', '/jwks']) {
      const response = await request(`${app.url}${path}`, { headers: { origin: FOREIGN } });
      await response.body.text();
      expect(response.statusCode).toBe(200);
      expect([FOREIGN, '*']).toContain(response.headers['access-control-allow-origin']);
    }
  });
});

describe('CORS with oidc.corsOrigins: allowed origins per client and endpoint', () => {
  let app: TestApp;
  let spa: TestClient;
  let rp: TestClient;
  let spaAccessToken: string;
  let rpAccessToken: string;
  beforeAll(async () => {
    app = await startOidcApp({ overrides: { oidc: { corsOrigins: [SPA, RP] } } });
    rp = await registerClient(app);
    const redirectUri = `${SPA}/cb`;
    await admin(app, 'POST', '/clients', {
      client_id: 'spa',
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: 'none',
      allowed_claims: ['name'],
    });
    spa = { ...rp, clientId: 'spa', redirectUri };
    const spaCode = await obtainCode(app, spa, { par: false });
    const spaTokens = await post(`${app.url}/token`, SPA, {
      grant_type: 'authorization_code',
      client_id: 'spa',
      code: spaCode.code,
      code_verifier: spaCode.verifier,
      redirect_uri: redirectUri,
    });
    // A public browser client at its own (allowed) origin: the response is readable there.
    expect(spaTokens.status).toBe(200);
    expect(spaTokens.allowOrigin).toBe(SPA);
    spaAccessToken = spaTokens.body.access_token;
    const rpCode = await obtainCode(app, rp);
    rpAccessToken = (await redeem(app, rp, rpCode.code, rpCode.verifier)).body.access_token;
  });
  afterAll(async () => app.stop());

  test('a preflight from an allowed origin is answered for that origin', async () => {
    for (const path of ['/token', '/userinfo']) {
      const result = await preflight(`${app.url}${path}`, SPA);
      expect(result.status).toBe(204);
      expect(result.allowOrigin).toBe(SPA);
    }
  });

  test('a preflight from a foreign origin gets no Access-Control-Allow-Origin', async () => {
    for (const path of ['/token', '/userinfo']) {
      expect((await preflight(`${app.url}${path}`, FOREIGN)).allowOrigin).toBeUndefined();
    }
  });

  test("userinfo answers CORS for the token's client's origin only", async () => {
    const own = await userinfo(`${app.url}/userinfo`, SPA, spaAccessToken);
    expect(own.status).toBe(200);
    expect(own.allowOrigin).toBe(SPA);
    // Allowed by config, but not an origin of the token's client.
    const otherClientsOrigin = await userinfo(`${app.url}/userinfo`, RP, spaAccessToken);
    expect(otherClientsOrigin.allowOrigin).toBeUndefined();
    const foreign = await userinfo(`${app.url}/userinfo`, FOREIGN, spaAccessToken);
    expect(foreign.allowOrigin).toBeUndefined();
    const rpOwn = await userinfo(`${app.url}/userinfo`, RP, rpAccessToken);
    expect(rpOwn.status).toBe(200);
    expect(rpOwn.allowOrigin).toBe(RP);
  });

  test('a confidential client gets no CORS at the token endpoint, even from its own allowed origin', async () => {
    const { code, verifier } = await obtainCode(app, rp);
    const result = await post(`${app.url}/token`, RP, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: rp.redirectUri,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await rp.assertion(app.url),
    });
    expect(result.allowOrigin).toBeUndefined();
    expect(result.body.access_token).toBeUndefined();
  });

  test("a public client's token request from another allowed origin gets no CORS", async () => {
    const { code, verifier } = await obtainCode(app, spa, { par: false });
    const result = await post(`${app.url}/token`, RP, {
      grant_type: 'authorization_code',
      client_id: 'spa',
      code,
      code_verifier: verifier,
      redirect_uri: spa.redirectUri,
    });
    expect(result.allowOrigin).toBeUndefined();
    expect(result.body.access_token).toBeUndefined();
  });

  test('server-side requests without an Origin are unaffected', async () => {
    const { code, verifier } = await obtainCode(app, rp);
    const tokens = await redeem(app, rp, code, verifier);
    expect(tokens.status).toBe(200);
  });
});
