import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';
import { admin, obtainCode, redeem, registerClient, startOidcApp, type TestClient } from './helpers.ts';

/**
 * RFC 7662 §2.1/§2.2 and RFC 9700 (BCP) §4.10: introspection tells `active: true` only to a caller
 * entitled to know about the token: the client it was issued to, or a resource server registered
 * (client metadata `resource_server_audiences`) for one of the token's audiences. Anyone else gets
 * exactly `{"active": false}`, so token scanning by another client learns nothing.
 */
describe('introspection answers only the token owner or its resource server (RFC 7662 §2.2)', () => {
  let app: TestApp;
  let owner: TestClient;
  let other: TestClient;
  let resourceServer: TestClient;
  let plainToken: string;
  let issuerToken: string;

  beforeAll(async () => {
    app = await startOidcApp();
    owner = await registerClient(app);
    other = await registerClient(app);
    resourceServer = await registerClient(app, { resource_server_audiences: [app.url] });
    const plain = await obtainCode(app, owner);
    plainToken = (await redeem(app, owner, plain.code, plain.verifier)).body.access_token;
    const bound = await obtainCode(app, owner, { extra: { resource: app.url } });
    const tokens = await redeem(app, owner, bound.code, bound.verifier, { resource: app.url });
    expect(tokens.status).toBe(200);
    issuerToken = tokens.body.access_token;
  });
  afterAll(async () => app.stop());

  const introspect = async (caller: TestClient, token: string) => {
    const response = await request(`${app.url}/token/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        token,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await caller.assertion(app.url),
      }).toString(),
    });
    return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
  };

  test('the client the token was issued to sees it active', async () => {
    const result = await introspect(owner, plainToken);
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ active: true, client_id: owner.clientId });
  });

  test('another confidential client gets exactly {"active": false}', async () => {
    for (const token of [plainToken, issuerToken]) {
      const result = await introspect(other, token);
      expect(result.status).toBe(200);
      expect(result.body).toEqual({ active: false });
    }
  });

  test("a resource server registered for the token's audience sees it active", async () => {
    const result = await introspect(resourceServer, issuerToken);
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ active: true, client_id: owner.clientId, aud: app.url });
  });

  test('a resource server gets {"active": false} for a token without its audience', async () => {
    const result = await introspect(resourceServer, plainToken);
    expect(result.body).toEqual({ active: false });
  });

  test('resource_server_audiences must be an array of absolute URLs', async () => {
    await expect(registerClient(app, { resource_server_audiences: 'https://rs.example' })).rejects.toThrow(
      /400/,
    );
    await expect(registerClient(app, { resource_server_audiences: ['not a url'] })).rejects.toThrow(/400/);
  });

  test('a public client cannot be a resource server', async () => {
    await expect(
      admin(app, 'POST', '/clients', {
        client_id: 'public-rs',
        redirect_uris: ['https://rs.example.org/cb'],
        token_endpoint_auth_method: 'none',
        resource_server_audiences: [app.url],
      }),
    ).rejects.toThrow(/400/);
  });
});
