import { describe, expect, test } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';
import { http } from '../../helpers/http.ts';
import { beginLogin } from './factor-helpers.ts';
import { IDENTITY, type TestClient, useAppAndClient } from './helpers.ts';

/**
 * Login metrics scraped from GET /metrics: `login_attempts_total{factor,result}` for every
 * authentication attempt (success, failure, blocked), and `otps_sent_total{purpose}` for codes that
 * actually went out (an unknown Individual ID gets an answer, but no code and no count).
 */

async function scrape(app: TestApp): Promise<Map<string, number>> {
  const reply = await http(`${new URL(app.url).origin}/metrics`);
  expect(reply.status).toBe(200);
  const values = new Map<string, number>();
  for (const line of reply.text.split('\n')) {
    const match = /^(login_attempts_total|otps_sent_total)(\{[^}]*\}) (\S+)$/.exec(line);
    if (match) values.set(`${match[1]}${match[2]}`, Number(match[3]));
  }
  return values;
}
const LOGIN = (factor: string, result: string) =>
  `login_attempts_total{factor="${factor}",result="${result}"}`;
const SENT = (purpose: string) => `otps_sent_total{purpose="${purpose}"}`;

describe('login and one-time-code metrics', () => {
  let app: TestApp;
  let client: TestClient;
  useAppAndClient((started) => ({ app, client } = started));

  test('counts each authenticate attempt by factor and result: success, failure, blocked', async () => {
    const before = await scrape(app);
    const delta = async (key: string) => ((await scrape(app)).get(key) ?? 0) - (before.get(key) ?? 0);

    expect(
      (await (await beginLogin(app, client)).authenticate(IDENTITY.individualId, 'pin', IDENTITY.pin)).status,
    ).toBe(200);
    const stranger = '6660000001';
    for (const tries of [3, 2]) {
      const login = await beginLogin(app, client);
      for (let i = 0; i < tries; i++)
        expect((await login.authenticate(stranger, 'pin', '000000')).status).toBe(401);
    }
    const blocked = await (await beginLogin(app, client)).authenticate(stranger, 'password', 'whatever-1');
    expect(blocked.status).toBe(429);

    expect(await delta(LOGIN('pin', 'success'))).toBe(1);
    expect(await delta(LOGIN('pin', 'failure'))).toBe(5);
    expect(await delta(LOGIN('password', 'blocked'))).toBe(1);
  });

  test('counts codes sent by purpose, and none for an unknown Individual ID', async () => {
    const before = await scrape(app);
    const delta = async (key: string) => ((await scrape(app)).get(key) ?? 0) - (before.get(key) ?? 0);
    const login = await beginLogin(app, client, {
      acr_values: 'mosip:idp:acr:generated-code mosip:idp:acr:linked-wallet',
    });
    expect((await login.post('send-otp', { individual_id: IDENTITY.individualId })).status).toBe(200);
    app.clock.advanceSeconds(31);
    expect(
      (await login.post('send-otp', { individual_id: IDENTITY.individualId, purpose: 'wallet-binding' }))
        .status,
    ).toBe(200);
    const other = await beginLogin(app, client);
    expect((await other.post('send-otp', { individual_id: '6660000002' })).status).toBe(200);

    expect(await delta(SENT('login'))).toBe(1);
    expect(await delta(SENT('wallet_binding'))).toBe(1);
  });
});
