import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';
import { type BurstResult, burst, statusCounts } from '../../helpers/burst.ts';
import { type Jongodb, startJongodb } from '../../helpers/jongodb.ts';
import { freePort, listening, serviceProcesses } from '../../helpers/service-process.ts';
import {
  admin,
  codeGrantForm,
  IDENTITY,
  INVALID_GRANT,
  obtainCode,
  redeem,
  registerClient,
} from '../oidc/helpers.ts';
import { holderKey, preAuthorizedCode, proofJwt, UNKNOWN_NONCE } from '../vci/harness.ts';

/**
 * Issue 16, "past one process": two service processes (`node src/main.ts`) on one MongoDB
 * (jongodb), each stateless. Every single-use thing is consumed through the database, so a burst
 * split across both instances has exactly one winner: a pre-authorized code (without and with a
 * tx_code, whose attempt counter is shared too), a c_nonce, an authorization code and a refresh
 * token. The first instance generates the keys (KEYS_INIT=true); the second loads them, with the
 * same KEY_ENCRYPTION_SECRET, ADMIN_TOKEN and PUBLIC_URL.
 */
const { tempDir, start } = serviceProcesses('issuer-two-', 'file');
const NATIONAL = 'NationalIdCredential_ldp_vc';
const PRE_AUTHORIZED = 'urn:ietf:params:oauth:grant-type:pre-authorized_code';
const BAD_CODE = {
  error: 'invalid_grant',
  error_description: 'the pre-authorized code is invalid, expired or already used',
};
const WRONG_TX_CODE = { error: 'invalid_grant', error_description: 'the tx_code is wrong' };
/** Wrong tx_codes allowed per code (vci.txCodeMaxAttempts), raised so that a burst of right ones fits. */
const TX_CODE_ATTEMPTS = 10;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

let mongo: Jongodb;
let urls: [string, string];
/** The oidc helpers read only `url` (the issuer, instance A's) and `adminToken` of a TestApp. */
let app: TestApp;

beforeAll(async () => {
  mongo = await startJongodb();
  const [portA, portB] = [await freePort(), await freePort()];
  urls = [`http://127.0.0.1:${portA}`, `http://127.0.0.1:${portB}`];
  const adminToken = randomBytes(24).toString('base64url');
  const shared = {
    MONGODB_URL: `${mongo.url}/?directConnection=true`,
    PUBLIC_URL: urls[0],
    KEY_ENCRYPTION_SECRET: randomBytes(32).toString('base64url'),
    ADMIN_TOKEN: adminToken,
    DEMO: 'off',
    ISSUER__kyc__scryptCost: '1024',
    ISSUER__kyc__notify__outboxEnabled: 'true',
    ISSUER__vci__txCodeMaxAttempts: String(TX_CODE_ATTEMPTS),
  };
  await listening(
    start('src/main.ts', { ...shared, PORT: String(portA), DATA_DIR: tempDir(), KEYS_INIT: 'true' }),
  );
  await listening(start('src/main.ts', { ...shared, PORT: String(portB), DATA_DIR: tempDir() }));
  app = { url: urls[0], adminToken } as TestApp;
  await admin(app, 'POST', '/identities', {
    individual_id: IDENTITY.individualId,
    pin: IDENTITY.pin,
    claims: IDENTITY.claims,
  });
}, 60_000);
afterAll(() => mongo?.stop());

/** `n` requests at once, half at each instance (`body` called once per request). */
async function split(
  n: number,
  path: string,
  options: { headers: Record<string, string>; body: () => string },
): Promise<BurstResult[]> {
  const halves = await Promise.all(urls.map((url) => burst(n / 2, `${url}${path}`, options)));
  return halves.flat();
}

const bodies = (results: BurstResult[], status: number) =>
  results.filter((r) => r.status === status).map((r) => JSON.parse(r.body));

async function offer(txCode: boolean): Promise<{ code: string; txCode?: string }> {
  const made = await admin(app, 'POST', '/credential-offers', {
    credential_configuration_ids: [NATIONAL],
    individual_id: IDENTITY.individualId,
    tx_code: txCode,
  });
  if (!txCode) return { code: preAuthorizedCode(made) };
  const { messages } = await admin(app, 'GET', `/outbox?to=${encodeURIComponent(IDENTITY.claims.email)}`);
  const sent = (messages as { purpose: string; text: string }[]).find((m) => m.purpose === 'tx_code');
  return { code: preAuthorizedCode(made), txCode: /\b(\d{6})\b/.exec(sent?.text ?? '')?.[1] ?? '' };
}

const preAuthorizedForm = (code: string, txCode?: string) =>
  new URLSearchParams({
    grant_type: PRE_AUTHORIZED,
    'pre-authorized_code': code,
    ...(txCode === undefined ? {} : { tx_code: txCode }),
  }).toString();

describe('two instances on one MongoDB', () => {
  it('serve the same issuer and keys', async () => {
    // Everything but signed_metadata, which each instance signs at its own second.
    const [a, b] = await Promise.all(
      urls.map(async (url) => {
        const response = await fetch(`${url}/.well-known/openid-credential-issuer`);
        const { signed_metadata, ...rest } = (await response.json()) as Record<string, unknown>;
        return rest;
      }),
    );
    expect(a!.credential_issuer).toBe(urls[0]);
    expect(b).toEqual(a);
    // The keys the first instance generated, published by both.
    const jwks = await Promise.all(
      urls.map(async (url) => {
        const discovery = await fetch(`${url}/.well-known/openid-configuration`);
        const { jwks_uri } = (await discovery.json()) as { jwks_uri: string };
        return (await fetch(jwks_uri.replace(urls[0], url))).json();
      }),
    );
    expect((jwks[0] as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
    expect(jwks[1]).toEqual(jwks[0]);
  });

  it('redeem a pre-authorized code once under 20 parallel redemptions split across them', async () => {
    for (let round = 0; round < 3; round++) {
      const { code } = await offer(false);
      const results = await split(20, '/token', { headers: FORM, body: () => preAuthorizedForm(code) });
      expect(statusCounts(results)).toEqual({ 200: 1, 400: 19 });
      for (const body of bodies(results, 400)) expect(body).toEqual(BAD_CODE);
    }
  });

  it('redeem a code with a tx_code once under parallel redemptions with the right tx_code', async () => {
    const { code, txCode } = await offer(true);
    // As many as the attempt limit: each is counted and right, and one consume wins.
    const results = await split(TX_CODE_ATTEMPTS, '/token', {
      headers: FORM,
      body: () => preAuthorizedForm(code, txCode),
    });
    expect(statusCounts(results)).toEqual({ 200: 1, 400: TX_CODE_ATTEMPTS - 1 });
    for (const body of bodies(results, 400)) expect(body).toEqual(BAD_CODE);
  });

  it('count wrong tx_codes across instances: at most the limit is checked, then the right one fails too', async () => {
    const { code, txCode } = await offer(true);
    const wrong = String((Number(txCode) + 1) % 1_000_000).padStart(6, '0');
    const results = await split(3 * TX_CODE_ATTEMPTS, '/token', {
      headers: FORM,
      body: () => preAuthorizedForm(code, wrong),
    });
    expect(statusCounts(results)).toEqual({ 400: 3 * TX_CODE_ATTEMPTS });
    const checked = bodies(results, 400).filter(
      (b) => b.error_description === WRONG_TX_CODE.error_description,
    );
    expect(checked.length).toBeGreaterThan(0);
    expect(checked.length).toBeLessThanOrEqual(TX_CODE_ATTEMPTS);
    for (const body of bodies(results, 400)) expect([WRONG_TX_CODE, BAD_CODE]).toContainEqual(body);
    for (const url of urls) {
      const late = await fetch(`${url}/token`, {
        method: 'POST',
        headers: FORM,
        body: preAuthorizedForm(code, txCode),
      });
      expect({ status: late.status, body: await late.json() }).toEqual({ status: 400, body: BAD_CODE });
    }
  });

  it('spend a c_nonce once under 20 parallel credential requests split across them', async () => {
    const { code } = await offer(false);
    // The token from one instance, the nonce from the other: both are the database's.
    const token = await fetch(`${urls[1]}/token`, {
      method: 'POST',
      headers: FORM,
      body: preAuthorizedForm(code),
    });
    const { access_token } = (await token.json()) as { access_token: string };
    const nonce = await fetch(`${urls[0]}/nonce`, { method: 'POST' });
    const { c_nonce } = (await nonce.json()) as { c_nonce: string };
    const body = JSON.stringify({
      credential_configuration_id: NATIONAL,
      proofs: { jwt: [await proofJwt(await holderKey(), urls[0], c_nonce)] },
    });
    const results = await split(20, '/credential', {
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
      body: () => body,
    });
    expect(statusCounts(results)).toEqual({ 200: 1, 400: 19 });
    for (const refused of bodies(results, 400)) expect(refused).toEqual(UNKNOWN_NONCE);
    expect(bodies(results, 200)[0].credentials).toHaveLength(1);
  });

  it('redeem an authorization code once, and rotate its refresh token once, under bursts split across them', async () => {
    const client = await registerClient(app, { grant_types: ['authorization_code', 'refresh_token'] });
    const { code, verifier } = await obtainCode(app, client);
    // Each request carries its own client assertion (single use too), so only the code decides.
    const forms = await Promise.all(
      Array.from({ length: 20 }, async () =>
        new URLSearchParams(await codeGrantForm(app, client, code, verifier)).toString(),
      ),
    );
    let i = 0;
    const codeResults = await split(20, '/token', { headers: FORM, body: () => forms[i++]! });
    expect(statusCounts(codeResults)).toEqual({ 200: 1, 400: 19 });
    for (const body of bodies(codeResults, 400)) expect(body).toEqual(INVALID_GRANT);

    const fresh = await obtainCode(app, client);
    const tokens = await redeem(app, client, fresh.code, fresh.verifier);
    expect(tokens.body.refresh_token).toEqual(expect.any(String));
    const refreshes = await Promise.all(
      Array.from({ length: 20 }, async () =>
        new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: tokens.body.refresh_token,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: await client.assertion(app.url),
        }).toString(),
      ),
    );
    let j = 0;
    const refreshResults = await split(20, '/token', { headers: FORM, body: () => refreshes[j++]! });
    expect(statusCounts(refreshResults)).toEqual({ 200: 1, 400: 19 });
    for (const body of bodies(refreshResults, 400)) expect(body).toEqual(INVALID_GRANT);
  });
});
