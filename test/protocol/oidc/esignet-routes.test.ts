import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';
import {
  codeGrantForm,
  INVALID_CLIENT,
  obtainCode,
  parParams,
  registerClient,
  startOidcApp,
  type TestClient,
} from './helpers.ts';

/**
 * eSignet's paths (config `oidc.esignetCompat`) in front of the same provider: the mapping, the
 * discovery documents under the prefix, the issuer unchanged, and the URL checks (DPoP `htu`,
 * client assertion `aud`) made against the URL actually called.
 */
const post = async (url: string, form: Record<string, string>, headers: Record<string, string> = {}) => {
  const response = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, body: text ? JSON.parse(text) : {} };
};
const getJson = async (url: string) => {
  const response = await request(url);
  const text = await response.body.text();
  return { status: response.statusCode, body: text ? JSON.parse(text) : {} };
};

for (const pathPrefix of ['', '/op']) {
  describe(`eSignet paths with the issuer at "${pathPrefix || '/'}"`, () => {
    let app: TestApp;
    let client: TestClient;
    let base: string;
    beforeAll(async () => {
      app = await startOidcApp({ pathPrefix, overrides: { oidc: { esignetCompat: { enabled: true } } } });
      client = await registerClient(app);
      base = `${app.url}/v1/esignet`;
    });
    afterAll(async () => app?.stop());

    test.each(['/oidc/.well-known/openid-configuration', '/oauth/.well-known/oauth-authorization-server'])(
      'discovery at %s lists the eSignet endpoints and keeps the issuer',
      async (path) => {
        const own = await getJson(`${app.url}/.well-known/openid-configuration`);
        const esignet = await getJson(`${base}${path}`);
        expect(esignet.status).toBe(200);
        expect(esignet.body).toEqual({
          ...own.body,
          issuer: app.url,
          token_endpoint: `${base}/oauth/v2/token`,
          pushed_authorization_request_endpoint: `${base}/oauth/par`,
          userinfo_endpoint: `${base}/oidc/userinfo`,
          jwks_uri: `${base}/oauth/.well-known/jwks.json`,
        });
        // eSignet's authorize is its UI's /authorize on the host; ours is the issuer's.
        expect(esignet.body.authorization_endpoint).toBe(`${app.url}/authorize`);
        // HEAD gives no length it cannot stand by (the provider's is the unrewritten document's).
        const head = await request(`${base}${path}`, { method: 'HEAD' });
        await head.body.text();
        expect(head.statusCode).toBe(200);
        const length = head.headers['content-length'];
        if (length !== undefined)
          expect(Number(length)).toBe(Buffer.byteLength(JSON.stringify(esignet.body)));
      },
    );

    test('the JWKS at the eSignet path is the provider JWKS', async () => {
      const own = await getJson(`${app.url}/jwks`);
      const esignet = await getJson(`${base}/oauth/.well-known/jwks.json`);
      expect(esignet.status).toBe(200);
      expect(esignet.body).toEqual(own.body);
    });

    test('PAR at the eSignet path takes an assertion addressed to it, or to the issuer', async () => {
      for (const aud of [`${base}/oauth/par`, app.url, `${base}/oauth/token`]) {
        const par = await post(`${base}/oauth/par`, {
          ...parParams(client),
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: await client.assertion(aud),
        });
        expect(par.status).toBe(201);
      }
    });

    test.each([
      ['the userinfo URL at the eSignet path', () => `${base}/oidc/userinfo`],
      ['some other URL under the prefix', () => `${base}/oauth/introspect`],
      ['another server', () => 'https://esignet.example/v1/esignet/oauth/par'],
      ['an array with a foreign audience', () => [`${base}/oauth/par`, 'https://esignet.example']],
    ])('PAR at the eSignet path refuses an assertion addressed to %s', async (_name, aud) => {
      const now = Math.floor(Date.now() / 1000);
      const assertion = await new SignJWT({ jti: randomUUID(), iat: now, exp: now + 60, aud: aud() })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(client.clientId)
        .setSubject(client.clientId)
        .sign(client.privateKey);
      const par = await post(`${base}/oauth/par`, {
        ...parParams(client),
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      });
      expect(par.status).toBe(401);
      expect(par.body).toEqual(INVALID_CLIENT);
    });

    test('the token endpoint at /oauth/v2/token: DPoP htu must be the URL called', async () => {
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const jwk = await exportJWK(publicKey);
      const proof = (htu: string) =>
        new SignJWT({ htm: 'POST', htu, jti: randomUUID() })
          .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
          .setIssuedAt()
          .sign(privateKey);
      const tokenAt = async (url: string, htu: string) => {
        const { code, verifier } = await obtainCode(app, client);
        const form = await codeGrantForm(app, client, code, verifier);
        return post(
          url,
          { ...form, client_assertion: await client.assertion(url) },
          { dpop: await proof(htu) },
        );
      };
      const v2 = `${base}/oauth/v2/token`;
      // The proof names the eSignet URL the client called: bound to its key.
      const bound = await tokenAt(v2, v2);
      expect(bound.status).toBe(200);
      expect(bound.body.token_type).toBe('DPoP');
      // A proof made for the issuer's /token is not one for the eSignet URL, and the reverse (RFC 9449 §4.3).
      for (const [url, htu] of [
        [v2, `${app.url}/token`],
        [`${app.url}/token`, v2],
        [v2, `${base}/oauth/token`],
      ] as const) {
        const refused = await tokenAt(url, htu);
        expect(refused.status).toBe(400);
        expect(refused.body).toEqual({
          error: 'invalid_dpop_proof',
          error_description: 'DPoP proof htu mismatch',
        });
      }
    });

    test('mimoto-style assertion for /oauth/v2/token is refused at the issuer token endpoint, and the PAR URL at the token path', async () => {
      for (const [url, aud] of [
        [`${app.url}/token`, `${base}/oauth/v2/token`],
        [`${base}/oauth/v2/token`, `${base}/oauth/par`],
      ] as const) {
        const { code, verifier } = await obtainCode(app, client);
        const form = await codeGrantForm(app, client, code, verifier);
        const result = await post(url, { ...form, client_assertion: await client.assertion(aud) });
        expect(result.status).toBe(401);
        expect(result.body).toEqual(INVALID_CLIENT);
      }
    });

    test('userinfo at /oidc/userinfo answers with the access token from /oauth/token (v1 path)', async () => {
      const { code, verifier } = await obtainCode(app, client);
      const form = await codeGrantForm(app, client, code, verifier);
      const tokens = await post(`${base}/oauth/token`, {
        ...form,
        client_assertion: await client.assertion(`${base}/oauth/token`),
      });
      expect(tokens.status).toBe(200);
      const info = await request(`${base}/oidc/userinfo`, {
        headers: { authorization: `Bearer ${tokens.body.access_token}` },
      });
      expect(info.statusCode).toBe(200);
      expect(info.headers['content-type']).toMatch(/^application\/jwt/);
      expect(info.headers['cache-control']).toMatch(/no-store/);
      await info.body.dump();
    });

    test('other methods and other paths under the prefix', async () => {
      const get = await request(`${base}/oauth/v2/token`);
      expect(get.statusCode).toBe(405);
      expect(get.headers.allow).toBe('POST');
      await get.body.dump();
      const unknown = await request(`${base}/oauth/v3/token`, { method: 'POST' });
      expect(unknown.statusCode).toBe(404);
      await unknown.body.dump();
    });
  });
}

describe('eSignet paths off (the default)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startOidcApp();
  });
  afterAll(async () => app?.stop());

  test('are not served', async () => {
    for (const path of ['/oauth/v2/token', '/oidc/.well-known/openid-configuration', '/oauth/par']) {
      const response = await request(`${app.url}/v1/esignet${path}`, {
        method: path.includes('well-known') ? 'GET' : 'POST',
      });
      expect(response.statusCode).toBe(404);
      await response.body.dump();
    }
  });

  test('and an assertion addressed to them does not authenticate', async () => {
    const client = await registerClient(app);
    const par = await post(`${app.url}/par`, {
      ...parParams(client),
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await client.assertion(`${app.url}/v1/esignet/oauth/par`),
    });
    expect(par.status).toBe(401);
    expect(par.body).toEqual(INVALID_CLIENT);
  });
});

/** SECURITY row 54: the token and PAR limits count a request at eSignet's path as one at the provider's. */
describe('rate limits at the eSignet paths', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startOidcApp({
      overrides: {
        oidc: { esignetCompat: { enabled: true } },
        rateLimits: {
          rules: { token: { limit: 2, windowSeconds: 60 }, par: { limit: 2, windowSeconds: 60 } },
        },
      },
    });
    // At the start of a window (plus a second), so the three requests share one.
    app.clock.set(Math.floor(Date.now() / 60_000) * 60_000 + 60_000 + 1000);
  });
  afterAll(async () => app?.stop());

  test.each([
    ['/token', ['/oauth/v2/token', '/oauth/token']],
    ['/par', ['/oauth/par', '/oauth/par']],
  ])('%s and its eSignet paths share one counter', async (own, esignet) => {
    const base = `${app.url}/v1/esignet`;
    const statuses = [];
    for (const url of [`${base}${esignet[0]}`, `${app.url}${own}`, `${base}${esignet[1]}`]) {
      statuses.push((await post(url, { grant_type: 'x' })).status);
    }
    expect(statuses).toEqual([400, 400, 429]);
  });
});
