import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holderKey, preAuthorizedCode, proofJwt, startVci, type VciHarness } from './harness.ts';

/**
 * Issuance metrics (issue 10, item 7), read the way Prometheus reads them: GET /metrics. Credentials
 * count when handed out (by configuration and format), offers when the admin API creates them,
 * redemptions when the token endpoint answers a pre-authorized code with a token.
 */
const AGE = 'AgeCredential_ldp_vc';
const AGE_SD = 'AgeCredential_sd_jwt';

describe('issuance metrics', () => {
  let h: VciHarness;
  beforeAll(async () => {
    h = await startVci();
  });
  afterAll(() => h.stop());

  async function scrape(): Promise<(name: string, labels?: Record<string, string>) => number> {
    const res = await request(`${new URL(h.url).origin}/metrics`);
    expect(res.statusCode).toBe(200);
    const text = await res.body.text();
    return (name, labels = {}) => {
      const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
      let total = 0;
      for (const line of text.split('\n')) {
        const match = /^([a-z_]+)(?:\{([^}]*)\})? ([0-9.e+-]+)$/.exec(line);
        if (!match || match[1] !== name) continue;
        const present = (match[2] ?? '').split(',');
        if (wanted.every((w) => present.includes(w))) total += Number(match[3]);
      }
      return total;
    };
  }

  it('counts offers created, pre-authorized codes redeemed and credentials handed out', async () => {
    const was = await scrape();
    const who = await h.person();
    const offer = await h.offer([AGE, AGE_SD], who.individualId, true);
    const code = preAuthorizedCode(offer);
    // A wrong tx_code redeems nothing.
    const right = await h.txCode(who.email);
    const wrong = await h.token(code, `${(Number(right[0]) + 1) % 10}${right.slice(1)}`);
    expect(wrong.status).toBe(400);
    const token = await h.token(code, right);
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    // A replayed code redeems nothing either.
    expect((await h.token(code, right)).status).toBe(400);
    const bearer = { authorization: `Bearer ${token.body.access_token}` };

    const nonce = await h.nonce();
    const batch = await h.post(
      '/credential',
      {
        credential_configuration_id: AGE,
        proofs: {
          jwt: [
            await proofJwt(await holderKey(), h.url, nonce),
            await proofJwt(await holderKey(), h.url, nonce),
          ],
        },
      },
      bearer,
    );
    expect(batch.status, batch.text).toBe(200);
    const sd = await h.post(
      '/credential',
      {
        credential_configuration_id: AGE_SD,
        proofs: { jwt: [await proofJwt(await holderKey(), h.url, await h.nonce())] },
      },
      bearer,
    );
    expect(sd.status, sd.text).toBe(200);
    // A refused request (replayed nonce) hands out nothing.
    const refused = await h.post(
      '/credential',
      {
        credential_configuration_id: AGE,
        proofs: { jwt: [await proofJwt(await holderKey(), h.url, nonce)] },
      },
      bearer,
    );
    expect(refused.status).toBe(400);

    const now = await scrape();
    expect(now('credential_offers_created_total') - was('credential_offers_created_total')).toBe(1);
    expect(now('credential_offers_redeemed_total') - was('credential_offers_redeemed_total')).toBe(1);
    const issued = (labels: Record<string, string>) =>
      now('credentials_issued_total', labels) - was('credentials_issued_total', labels);
    expect(issued({ configuration: AGE, format: 'ldp_vc' })).toBe(2);
    expect(issued({ configuration: AGE_SD, format: 'dc+sd-jwt' })).toBe(1);
    expect(issued({})).toBe(3);
  });
});
