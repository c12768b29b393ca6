import { decodeJwt } from 'jose';
import { request } from 'undici';
import { beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';
import {
  Browser,
  IDENTITY,
  loginWithApi,
  parParams,
  redeem,
  registerClient,
  startAuthorization,
  type TestClient,
  useAppAndClient,
} from './helpers.ts';
import {
  createVerifiedPerson,
  RECORDS,
  VERIFIED_ALLOWED,
  VERIFIED_PERSON,
} from './verified-claims-fixture.ts';

/**
 * OpenID Connect for Identity Assurance 1.0 (final, 2024): `verified_claims` in the claims
 * parameter, object and array forms, over real HTTP (PAR, the JSON interaction API, token,
 * userinfo). The person's verification records come from the mock identity system (admin API).
 */

const PERSON = VERIFIED_PERSON;

async function flow(
  app: TestApp,
  client: TestClient,
  claims: unknown,
  options: { accept?: string[]; scope?: string } = {},
): Promise<{ idToken: Record<string, any>; userinfo: Record<string, any> }> {
  const browser = new Browser(new URL(app.url).origin);
  const started = await startAuthorization(app, browser, client, {
    scope: options.scope ?? 'openid',
    claims,
  });
  if (!started.interaction) throw new Error(`authorize: ${started.reply.status} ${started.reply.text}`);
  const callback = new URL(
    await loginWithApi(app, browser, started.interaction, 'pin', {
      individualId: PERSON,
      ...(options.accept ? { accept: options.accept } : {}),
    }),
  );
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`no code: ${callback}`);
  const token = await redeem(app, client, code, started.verifier);
  expect(token.status).toBe(200);
  const reply = await request(`${app.url}/userinfo`, {
    headers: { authorization: `Bearer ${token.body.access_token}` },
  });
  expect(reply.statusCode).toBe(200);
  return {
    idToken: decodeJwt(token.body.id_token),
    userinfo: decodeJwt(await reply.body.text()),
  };
}

async function par(app: TestApp, client: TestClient, claims: string) {
  const reply = await request(`${app.url}/par`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      ...parParams(client),
      scope: 'openid',
      claims,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await client.assertion(app.url),
    }).toString(),
  });
  return { status: reply.statusCode, body: (await reply.body.json()) as Record<string, unknown> };
}

describe('verified_claims (OpenID Connect for Identity Assurance 1.0)', () => {
  let app: TestApp;
  let client: TestClient;
  useAppAndClient((started) => ({ app, client } = started));

  beforeAll(async () => {
    await createVerifiedPerson(app);
    client = await registerClient(app, { allowed_claims: VERIFIED_ALLOWED });
  });

  test('discovery advertises verified_claims with its trust frameworks, evidence, documents and claims', async () => {
    const reply = await request(`${app.url}/.well-known/openid-configuration`);
    const meta = (await reply.body.json()) as Record<string, unknown>;
    expect(meta.verified_claims_supported).toBe(true);
    expect(meta.trust_frameworks_supported).toEqual(['idissuer_demo', 'XYZ TF']);
    expect(meta.evidence_supported).toEqual(['document', 'electronic_record']);
    expect(meta.documents_supported).toEqual(['idcard']);
    expect(meta.claims_in_verified_claims_supported).toContain('birthdate');
    expect(meta.claims_supported).toContain('verified_claims');
  });

  test('object form at userinfo: the requested verification data and claims, essential and purpose honoured', async () => {
    const { userinfo, idToken } = await flow(app, client, {
      userinfo: {
        verified_claims: {
          verification: { trust_framework: null, assurance_level: null, evidence: null },
          claims: {
            given_name: null,
            family_name: { essential: true, purpose: 'To address you by your legal name' },
          },
        },
      },
    });
    expect(userinfo.verified_claims).toEqual({
      verification: {
        trust_framework: 'eidas',
        assurance_level: 'high',
        evidence: RECORDS[0]!.verification.evidence,
      },
      claims: { given_name: 'Layla', family_name: 'Mansour' },
    });
    // Asked for only as verified claims: not released as plain claims, and not in the ID token.
    expect(userinfo.given_name).toBeUndefined();
    expect(userinfo.family_name).toBeUndefined();
    expect(idToken.verified_claims).toBeUndefined();
  });

  test('array form in the ID token: value and values met, an unmet trust framework left out (no error)', async () => {
    const { idToken, userinfo } = await flow(app, client, {
      id_token: {
        verified_claims: [
          { verification: { trust_framework: { value: 'eidas' } }, claims: { birthdate: null } },
          {
            verification: { trust_framework: { values: ['de_aml', 'uk_tfida'] }, time: null },
            claims: { address: null, email: null },
          },
          { verification: { trust_framework: { value: 'uk_tfida' } }, claims: { name: { essential: true } } },
        ],
      },
    });
    expect(idToken.verified_claims).toEqual([
      { verification: { trust_framework: 'eidas' }, claims: { birthdate: '1988-02-29' } },
      {
        verification: { trust_framework: 'de_aml', time: '2023-01-01T00:00:00Z' },
        // email has no verification record: left out of verified_claims.
        claims: { address: IDENTITY.claims.address },
      },
    ]);
    expect(userinfo.verified_claims).toBeUndefined();
  });

  test('constraints that cannot be met (assurance level, max_age, evidence type, claim value) release nothing for that element', async () => {
    const { userinfo } = await flow(app, client, {
      userinfo: {
        verified_claims: [
          {
            verification: { trust_framework: null, assurance_level: { value: 'low' } },
            claims: { name: null },
          },
          { verification: { trust_framework: null, time: { max_age: 60 } }, claims: { birthdate: null } },
          {
            verification: { trust_framework: null, evidence: [{ type: { value: 'vouch' } }] },
            claims: { family_name: null },
          },
          { verification: { trust_framework: null }, claims: { given_name: { value: 'Someone Else' } } },
          {
            verification: {
              trust_framework: { value: 'eidas' },
              evidence: [{ type: { value: 'document' } }],
            },
            claims: { given_name: { values: ['Layla', 'Leila'] } },
          },
        ],
      },
    });
    expect(userinfo.verified_claims).toEqual([
      {
        verification: { trust_framework: 'eidas', evidence: RECORDS[0]!.verification.evidence },
        claims: { given_name: 'Layla' },
      },
    ]);
  });

  test('only what the person consents to is released', async () => {
    const claims = {
      userinfo: {
        verified_claims: {
          verification: { trust_framework: null },
          claims: { given_name: { essential: true }, family_name: null, birthdate: null },
        },
      },
    };
    const { userinfo } = await flow(app, client, claims, { accept: ['given_name', 'birthdate'] });
    expect(userinfo.verified_claims).toEqual({
      verification: { trust_framework: 'eidas' },
      claims: { given_name: 'Layla', birthdate: '1988-02-29' },
    });
    const none = await flow(
      app,
      client,
      {
        userinfo: {
          verified_claims: { verification: { trust_framework: null }, claims: { family_name: null } },
        },
      },
      { accept: [] },
    );
    expect(none.userinfo.verified_claims).toBeUndefined();
    expect(none.userinfo.family_name).toBeUndefined();
  });

  test("eSignet's mock relying party claims parameter is accepted and answered with what can be met", async () => {
    // Copied exactly: mosip/esignet-mock-services@a54f550cffcaf4c8478cc78745c85e897faa02ca
    // docker-compose/mock-relying-party-portal-fapi2-docker-compose.yml:18 (CLAIMS_USER_PROFILE).
    const claims =
      '{"userinfo":{"name":{"essential":true},"phone_number":{"essential":true},"verified_claims":[{"verification":{"trust_framework":{"value":"ABC TF"}},"claims":{"phone_number":{"essential":true}}},{"verification":{"trust_framework":{"value":"XYZ TF"}},"claims":{"name":{"essential":true}}}]},"id_token":{}}';
    expect((await par(app, client, claims)).status).toBe(201);
    const { userinfo } = await flow(app, client, JSON.parse(claims), { scope: 'openid profile' });
    expect(userinfo.name).toBe('Layla Mansour');
    expect(userinfo.phone_number).toBe(IDENTITY.claims.phone_number);
    // "ABC TF" is no framework of this person's records: that element is left out.
    expect(userinfo.verified_claims).toEqual([
      { verification: { trust_framework: 'XYZ TF' }, claims: { name: 'Layla Mansour' } },
    ]);
  });

  test('the consent page and API list which requested details are verified and by what (English and Arabic)', async () => {
    const origin = new URL(app.url).origin;
    const browser = new Browser(origin);
    const claims = {
      userinfo: {
        name: null,
        verified_claims: {
          verification: { trust_framework: null },
          claims: { birthdate: { essential: true }, address: null, email: null },
        },
      },
    };
    const { interaction } = await startAuthorization(app, browser, client, { scope: 'openid', claims });
    const page = await browser.fetch(`${interaction}?factor=pin`);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)![1]!;
    const login = await browser.fetch(`${interaction}/login`, {
      form: { csrf, factor: 'pin', individual_id: PERSON, pin: IDENTITY.pin },
      headers: { origin },
    });
    expect(login.status).toBe(303);
    const consent = await browser.fetch(login.location!);
    const item = (claim: string) =>
      consent.text
        .split('<li>')
        .find((li) => li.includes(`value="${claim}"`))
        ?.split('</li>')[0] ?? '';
    expect(item('birthdate')).toContain('Verified under eidas (high) by an identity document');
    expect(item('address')).toContain('Verified under de_aml (substantial) by an electronic record');
    // Asked for as verified, but no record covers it.
    expect(item('email')).toContain('Not verified: it will not be shared as verified');
    // Asked for only as a plain claim: no verification note.
    expect(item('name')).not.toContain('class="verified');
    const arabic = await browser.fetch(`${login.location!}?ui_locales=ar`);
    expect(arabic.text).toContain('تم التحقق منها وفق eidas (high) بواسطة وثيقة هوية');
    expect(arabic.text).toContain('غير متحقق منها');
    const api = (await browser.fetch(`${interaction}/api`)).json();
    expect(api.verified_claims).toEqual({
      address: [
        { trust_framework: 'de_aml', assurance_level: 'substantial', evidence: ['electronic_record'] },
      ],
      birthdate: [{ trust_framework: 'eidas', assurance_level: 'high', evidence: ['document'] }],
      email: [],
    });
  });

  test.each([
    [
      'an empty array',
      { userinfo: { verified_claims: [] } },
      'claims.userinfo.verified_claims must not be an empty array',
    ],
    [
      'no claims',
      { userinfo: { verified_claims: { verification: { trust_framework: null } } } },
      'claims.userinfo.verified_claims.claims must be an object naming at least one claim',
    ],
    [
      'empty claims',
      { id_token: { verified_claims: [{ verification: { trust_framework: null }, claims: {} }] } },
      'claims.id_token.verified_claims[0].claims must be an object naming at least one claim',
    ],
    [
      'no trust_framework',
      { userinfo: { verified_claims: { verification: {}, claims: { name: null } } } },
      'claims.userinfo.verified_claims.verification.trust_framework is required',
    ],
    [
      'no verification',
      { userinfo: { verified_claims: [{ claims: { name: null } }] } },
      'claims.userinfo.verified_claims[0].verification must be an object',
    ],
    [
      'a purpose of 2 characters',
      {
        userinfo: {
          verified_claims: { verification: { trust_framework: null }, claims: { name: { purpose: 'ab' } } },
        },
      },
      'claims.userinfo.verified_claims.claims.name.purpose must be a string of 3 to 300 characters',
    ],
    [
      'a purpose of 301 characters',
      { userinfo: { name: { purpose: 'x'.repeat(301) } } },
      'claims.userinfo.name.purpose must be a string of 3 to 300 characters',
    ],
    [
      'a non-string trust framework value',
      {
        userinfo: {
          verified_claims: { verification: { trust_framework: { value: 7 } }, claims: { name: null } },
        },
      },
      'claims.userinfo.verified_claims.verification.trust_framework.value must be a string',
    ],
    [
      'a string element',
      { userinfo: { verified_claims: ['name'] } },
      'claims.userinfo.verified_claims[0] must be an object',
    ],
    [
      'an array for another claim',
      { userinfo: { name: [] } },
      'claims.userinfo members must be null or objects',
    ],
  ])('a malformed request (%s) is invalid_request 400 at PAR', async (_name, claims, description) => {
    const reply = await par(app, client, JSON.stringify(claims));
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({ error: 'invalid_request', error_description: description });
  });

  test('the same malformed request at the authorization endpoint (no PAR) is refused too', async () => {
    const browser = new Browser(new URL(app.url).origin);
    const started = await startAuthorization(app, browser, client, {
      par: false,
      claims: { userinfo: { verified_claims: [] } },
    });
    const location = new URL(started.reply.location ?? 'about:blank');
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toBe(
      'claims.userinfo.verified_claims must not be an empty array',
    );
  });
});
