import { decodeJwt } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';
import { admin, obtainCode, redeem, registerClient, startOidcApp, type TestClient } from './helpers.ts';

/**
 * Discovery's `subject_types_supported` (OpenID Connect Discovery 1.0 §3) must describe the `sub`
 * the provider really emits. The identity systems compute an OIDC Core §8.1 pairwise subject per
 * sector identifier (the redirect URI host, or `sector_identifier_uri`'s host), so one person gets
 * different subs at two sectors and the same sub at two clients of one sector: that is `pairwise`,
 * and a `public` subject (the same at every client) is never produced.
 */
describe('subject types: discovery matches the sub in ID tokens (OIDC Core §8, Discovery §3)', () => {
  let app: TestApp;
  let first: TestClient;
  let sameSector: TestClient;
  let otherSector: TestClient;
  beforeAll(async () => {
    app = await startOidcApp();
    first = await registerClient(app);
    sameSector = await registerClient(app);
    const redirectUri = 'https://other-rp.example.net/callback';
    otherSector = { ...(await registerClient(app, { redirect_uris: [redirectUri] })), redirectUri };
  });
  afterAll(async () => app.stop());

  const subAt = async (client: TestClient) => {
    const { code, verifier } = await obtainCode(app, client);
    const tokens = await redeem(app, client, code, verifier);
    expect(tokens.status).toBe(200);
    return decodeJwt(tokens.body.id_token as string).sub;
  };

  test('discovery lists only pairwise, and the ID token sub is pairwise per sector', async () => {
    const response = await request(`${app.url}/.well-known/openid-configuration`);
    const discovery = (await response.body.json()) as { subject_types_supported: string[] };
    const [a, a2, sameSectorSub, otherSectorSub] = [
      await subAt(first),
      await subAt(first),
      await subAt(sameSector),
      await subAt(otherSector),
    ];
    expect(a).toBe(a2);
    // OIDC Core §8.1: the sector identifier is the redirect URI host, not the client.
    expect(sameSectorSub).toBe(a);
    expect(otherSectorSub).not.toBe(a);
    expect(discovery.subject_types_supported).toEqual(['pairwise']);
  });

  test('registering a client for public subjects is refused (the provider cannot produce them)', async () => {
    await expect(
      admin(app, 'POST', '/clients', {
        client_id: 'wants-public-sub',
        redirect_uris: ['https://rp.example.org/callback'],
        jwks: { keys: [first.publicJwk] },
        subject_type: 'public',
      }),
    ).rejects.toThrow(/400/);
  });

  // OIDC Core §8.1: with redirect URIs on several hosts, the sector must be named by sector_identifier_uri.
  test('a client with redirect URIs on two hosts and no sector_identifier_uri is refused', async () => {
    await expect(
      admin(app, 'POST', '/clients', {
        client_id: 'two-hosts',
        redirect_uris: ['https://a.example.org/cb', 'https://b.example.net/cb'],
        jwks: { keys: [first.publicJwk] },
      }),
    ).rejects.toThrow(/400/);
  });
});
