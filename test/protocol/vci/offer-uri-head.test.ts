import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVci, type VciHarness } from './harness.ts';

/**
 * A credential_offer_uri is served once (OpenID4VCI 1.0 §4.1.3; SECURITY.md row 39), but link
 * checkers and chat apps that preview links send HEAD first: HEAD must not use up the offer.
 */
describe('HEAD on a credential_offer_uri', () => {
  let h: VciHarness;
  beforeAll(async () => {
    h = await startVci();
  });
  afterAll(() => h.stop());

  const send = async (method: 'GET' | 'HEAD', url: string) => {
    const res = await request(url, { method });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text };
  };

  it('answers HEAD without consuming the offer; the following GET still gets it, once', async () => {
    const who = await h.person();
    const created = await h.offer(['AgeCredential_ldp_vc'], who.individualId);
    const uri: string = created.credential_offer_uri;
    for (let i = 0; i < 3; i++) {
      const head = await send('HEAD', uri);
      expect(head.status).toBe(200);
      expect(head.text).toBe('');
      expect(head.headers['cache-control']).toBe('no-store');
    }
    const first = await send('GET', uri);
    expect(first.status).toBe(200);
    expect(JSON.parse(first.text)).toEqual(created.credential_offer);
    const second = await send('GET', uri);
    expect(second.status).toBe(404);
    // Once served, HEAD says so too.
    expect((await send('HEAD', uri)).status).toBe(404);
  });

  it('answers HEAD 404 for an unknown offer id, as GET does', async () => {
    const unknown = `${h.url}/credential-offer/${'A'.repeat(32)}`;
    expect((await send('HEAD', unknown)).status).toBe(404);
    expect((await send('GET', unknown)).status).toBe(404);
  });
});
