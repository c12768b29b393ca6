import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeJwt,
  exportJWK,
  generateKeyPair,
  type JWK,
  jwtVerify,
  SignJWT,
} from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { admin, IDENTITY, startOidcApp } from '../protocol/oidc/helpers.ts';

/**
 * eSignet's mock relying party (mosip/esignet-mock-services, commit
 * a54f550cffcaf4c8478cc78745c85e897faa02ca) replayed against our eSignet paths, exactly as its
 * service builds each request. Cited as MRP/<file>:<line> under mock-relying-party-service/,
 * COMPOSE:<line> for docker-compose/mock-relying-party-portal-fapi2-docker-compose.yml (the FAPI 2
 * deployment: its audiences, ACRs and claims request) and UI/<file>:<line> under
 * mock-relying-party-ui/src/. The RP is configured for eSignet with our URLs: the service URL
 * (`ESIGNET_SERVICE_URL`) is our issuer plus `/v1/esignet`, the UI base (`ESIGNET_UI_BASE_URL`) our
 * issuer; nothing else changes.
 */

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'; // MRP/config.js:14-16
const REDIRECT_URI = 'http://localhost:3000/userprofile'; // COMPOSE:16 REDIRECT_URI
const SCOPE = 'openid profile'; // COMPOSE:15 SCOPE_USER_PROFILE
// COMPOSE:17 ACRS: four acr_values, space-separated.
const ACRS =
  'mosip:idp:acr:linked-wallet mosip:idp:acr:knowledge mosip:idp:acr:generated-code mosip:idp:acr:password';
// COMPOSE:18 CLAIMS_USER_PROFILE, verbatim: userinfo.verified_claims as an array (OIDC4IDA).
const CLAIMS =
  '{"userinfo":{"name":{"essential":true},"phone_number":{"essential":true},"verified_claims":[{"verification":{"trust_framework":{"value":"ABC TF"}},"claims":{"phone_number":{"essential":true}}},{"verification":{"trust_framework":{"value":"XYZ TF"}},"claims":{"name":{"essential":true}}}]},"id_token":{}}';
// The same request without verified_claims: what the RP asks for when CLAIMS_USER_PROFILE leaves them out.
const CLAIMS_WITHOUT_VERIFIED =
  '{"userinfo":{"name":{"essential":true},"phone_number":{"essential":true}},"id_token":{}}';

/** MRP/utils.js:70-79 and MRP/clientDetails.js:6-15: 16 (or n) characters of [a-z0-9]. */
const randomString = (length = 16) => {
  const characters = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(length), (b) => characters[b % characters.length]).join('');
};
/** MRP/utils.js:63 and :166: `Math.random().toString(36).substring(2, 7)`, a 5-character jti. */
const shortJti = () => Math.random().toString(36).substring(2, 7);

describe('eSignet mock relying party against the eSignet paths (mosip/esignet-mock-services a54f550)', () => {
  let app: TestApp;
  let base: string; // ESIGNET_SERVICE_URL
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  const clientId = `mock-rp-${randomBytes(4).toString('hex')}`;
  // MRP/utils.js:20 alg RS256; the RP's key is an RSA private JWK (MRP/config.js:5-7). Ours is fresh.
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const clientJwk = {
    ...(rsa.publicKey.export({ format: 'jwk' }) as JWK),
    kid: 'mock-rp',
    alg: 'RS256',
    use: 'sig',
  };

  beforeAll(async () => {
    browser = await launchBrowser();
    app = await startOidcApp({ overrides: { oidc: { esignetCompat: { enabled: true } } } });
    base = `${app.url}/v1/esignet`;
    // Leniency-free defaults, except the documented per-client knob: the RP's assertions live one
    // hour (MRP/utils.js:21 expirationTime "1h"), so this client allows 3600 s (else 300 s).
    await admin(app, 'POST', '/clients', {
      client_id: clientId,
      client_name: 'Health Portal',
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [clientJwk] },
      allowed_claims: ['name', 'phone_number'],
      client_assertion_max_lifetime: 3600,
    });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  /** MRP/utils.js:43-68 generateSignedJwt: header {alg RS256, typ JWT}; iss = sub = client; iat; 5-char jti; exp 1h. */
  const clientAssertion = (audience: string) =>
    new SignJWT({ iss: clientId, sub: clientId, aud: audience })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setIssuedAt()
      .setJti(shortJti())
      .setExpirationTime('1h')
      .sign(rsa.privateKey);

  /** The RP's DPoP key: alg = first of the host root discovery's dpop_signing_alg_values_supported (MRP/utils.js:27-36, :123-136). */
  const dpopKey = async () => {
    const discovery = (await (
      await request(`${new URL(base).origin}/.well-known/openid-configuration`)
    ).body.json()) as { dpop_signing_alg_values_supported?: string[] };
    const algs = discovery.dpop_signing_alg_values_supported;
    const alg = Array.isArray(algs) && algs.length > 0 ? algs[0]! : 'RS256';
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    return { alg, publicJwk: await exportJWK(publicKey), privateKey };
  };
  type DpopKey = Awaited<ReturnType<typeof dpopKey>>;

  /** MRP/utils.js:150-168 generateDpopJwt and :179-192 buildDpopHeaders: {typ dpop+jwt, alg, jwk}; {htm, htu[, ath][, nonce]}, iat, 5-char jti. */
  const dpopProof = (key: DpopKey, htm: string, htu: string, extra: { ath?: string; nonce?: string } = {}) =>
    new SignJWT({
      htm,
      htu,
      ...(extra.ath ? { ath: extra.ath } : {}),
      ...(extra.nonce ? { nonce: extra.nonce } : {}),
    })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk })
      .setIssuedAt()
      .setJti(shortJti())
      .sign(key.privateKey);

  /** UI/services/relyingPartyService.js:26-28, :57-81: a 32-byte base64url verifier, S256 from the UI base's discovery. */
  const codeChallenge = async () => {
    const discovery = (await (await request(`${app.url}/.well-known/openid-configuration`)).body.json()) as {
      code_challenge_methods_supported: string[];
    };
    expect(discovery.code_challenge_methods_supported).toContain('S256');
    const verifier = randomBytes(32).toString('base64url');
    return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
  };

  /** MRP/esignetService.js:95-135 post_GetRequestUri: the form in its order, to ESIGNET_PAR_ENDPOINT with DPoP. */
  const pushAuthorizationRequest = async (key: DpopKey, state: string, claims: string, challenge: string) => {
    const parEndpoint = `${base}/oauth/par`; // COMPOSE:10 ESIGNET_PAR_ENDPOINT
    const params = new URLSearchParams();
    params.append('nonce', randomString());
    params.append('state', state);
    params.append('client_id', clientId);
    params.append('redirect_uri', REDIRECT_URI);
    params.append('scope', SCOPE);
    params.append('response_type', 'code'); // MRP/clientDetails.js:19
    params.append('acr_values', ACRS);
    params.append('claims', claims);
    params.append('claims_locales', 'en'); // MRP/clientDetails.js:35 default
    params.append('display', 'page'); // MRP/clientDetails.js:28 default
    params.append('prompt', 'consent'); // MRP/clientDetails.js:29 default (COMPOSE sets none for the service)
    params.append('ui_locales', 'en'); // UI/components/Login.js:50 i18n.language, via UI/services/relyingPartyService.js:120
    params.append('client_assertion_type', ASSERTION_TYPE);
    params.append('client_assertion', await clientAssertion(`${base}/oauth/par`)); // COMPOSE:11 ESIGNET_PAR_AUD_URL
    params.append('dpop_jkt', await calculateJwkThumbprint(key.publicJwk)); // MRP/utils.js:138-148
    params.append('code_challenge', challenge);
    params.append('code_challenge_method', 'S256');
    const response = await request(parEndpoint, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        DPoP: await dpopProof(key, 'POST', parEndpoint),
      },
      body: params.toString(),
    });
    return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
  };

  /** The browser part: eSignet's UI route `/authorize` on ESIGNET_UI_BASE_URL (UI/constants/clientDetails.js:36-38) with client_id and request_uri. */
  const login = async (requestUri: string, individualId = IDENTITY.individualId) => {
    await browser.context.clearCookies();
    const page = await browser.context.newPage();
    page.setDefaultTimeout(8000);
    let callback: URL | undefined;
    await page.route('http://localhost:3000/**', async (route) => {
      callback = new URL(route.request().url());
      await route.fulfill({ status: 200, contentType: 'text/plain', body: 'mock relying party' });
    });
    await page.goto(
      `${app.url}/authorize?client_id=${clientId}&request_uri=${encodeURIComponent(requestUri)}`,
    );
    // The four ACRs offer four ways to log in; the person picks the password.
    await page.getByRole('navigation').getByRole('link', { name: 'Password' }).click();
    await page.getByLabel('Individual ID').fill(individualId);
    await page.getByLabel('Password').fill(IDENTITY.password);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(/localhost:3000\/userprofile/);
    await page.close();
    if (!callback) throw new Error('no callback');
    return callback;
  };

  /** MRP/esignetService.js:31-88 post_GetToken: the form in its order, at `<base>/oauth/v2/token`, retried once with a DPoP nonce on 400. */
  const token = async (key: DpopKey, code: string, verifier: string) => {
    const endpoint = `${base}/oauth/v2/token`; // MRP/esignetService.js:20, :53
    const form = new URLSearchParams({
      code,
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
      grant_type: 'authorization_code',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await clientAssertion(`${base}/oauth/v2/token`), // COMPOSE:9 ESIGNET_AUD_URL
    });
    form.append('code_verifier', verifier);
    const send = async (nonce?: string) =>
      request(endpoint, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          DPoP: await dpopProof(key, 'POST', endpoint, nonce ? { nonce } : {}),
        },
        body: form.toString(),
      });
    let response = await send();
    const nonce = response.headers['dpop-nonce'] as string | undefined;
    if (response.statusCode === 400 && nonce) {
      await response.body.dump();
      response = await send(nonce);
    }
    return { status: response.statusCode, body: (await response.body.json()) as Record<string, any> };
  };

  /** MRP/esignetService.js:142-197 get_GetUserInfo: `Authorization: DPoP`, a proof with ath, retried on use_dpop_nonce. */
  const userinfo = async (key: DpopKey, accessToken: string) => {
    const endpoint = `${base}/oidc/userinfo`; // MRP/esignetService.js:21, :143
    const ath = createHash('sha256').update(accessToken, 'ascii').digest('base64url'); // MRP/utils.js:170-176
    const send = async (nonce?: string) =>
      request(endpoint, {
        headers: {
          Authorization: `DPoP ${accessToken}`,
          DPoP: await dpopProof(key, 'GET', endpoint, { ath, ...(nonce ? { nonce } : {}) }),
        },
      });
    let response = await send();
    const nonce = response.headers['dpop-nonce'] as string | undefined;
    if (
      response.statusCode === 401 &&
      String(response.headers['www-authenticate']).includes('use_dpop_nonce') &&
      nonce
    ) {
      await response.body.dump();
      response = await send(nonce);
    }
    return {
      status: response.statusCode,
      type: response.headers['content-type'],
      text: await response.body.text(),
    };
  };

  /** The RP only decodes the userinfo JWT (MRP/utils.js:86-121, USERINFO_RESPONSE_TYPE jwt, COMPOSE:14); we also verify it against the JWKS at the eSignet path. */
  const verifyUserinfo = async (jwt: string) => {
    const jwks = (await (await request(`${base}/oauth/.well-known/jwks.json`)).body.json()) as {
      keys: JWK[];
    };
    const { payload } = await jwtVerify(jwt, createLocalJWKSet(jwks), {
      issuer: app.url,
      audience: clientId,
      currentDate: new Date(app.services.clock.now()),
    });
    expect(decodeJwt(jwt)).toEqual(payload);
    return payload;
  };

  const flow = async (claims: string) => {
    const key = await dpopKey();
    const state = randomString(10); // MRP/clientDetails.js:17
    const { verifier, challenge } = await codeChallenge();
    const par = await pushAuthorizationRequest(key, state, claims, challenge);
    return { key, state, verifier, par };
  };

  test('PAR, login in Chromium, token and userinfo at the eSignet paths, without verified_claims', async () => {
    const { key, state, verifier, par } = await flow(CLAIMS_WITHOUT_VERIFIED);
    expect(par.status).toBe(201);
    expect(par.body.request_uri).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    const callback = await login(par.body.request_uri as string);
    expect(callback.searchParams.get('state')).toBe(state);
    expect(callback.searchParams.get('iss')).toBe(app.url);
    const tokens = await token(key, callback.searchParams.get('code')!, verifier);
    expect(tokens.status).toBe(200);
    // Bound to the key whose thumbprint the PAR named (dpop_jkt) and whose proofs came with it.
    expect(tokens.body.token_type).toBe('DPoP');
    const info = await userinfo(key, tokens.body.access_token);
    expect(info.status).toBe(200);
    expect(info.type).toMatch(/^application\/jwt/);
    const claims = await verifyUserinfo(info.text);
    // Exactly what was consented: the essential name and phone_number (profile ∩ allowed_claims).
    const { iss, aud, iat, exp, sub, ...released } = claims;
    expect(typeof sub).toBe('string');
    expect(released).toEqual({ name: IDENTITY.claims.name, phone_number: IDENTITY.claims.phone_number });
  });

  // OpenID Connect for Identity Assurance 1.0: the RP's own claims request (COMPOSE:18), whose
  // userinfo.verified_claims array asks for phone_number verified under "ABC TF" and name under
  // "XYZ TF". A person whose identity record says exactly that; the answer carries the consented
  // claims and, per request element, the verified claims with their verification.
  test('its claims request with userinfo.verified_claims (array form): the userinfo carries exactly the consented claims and verified claims', async () => {
    const individualId = '5550009876';
    await admin(app, 'POST', '/identities', {
      individual_id: individualId,
      password: IDENTITY.password,
      claims: { name: IDENTITY.claims.name, phone_number: IDENTITY.claims.phone_number },
      verification: [
        { verification: { trust_framework: 'ABC TF' }, claims: ['phone_number'] },
        { verification: { trust_framework: 'XYZ TF' }, claims: ['name'] },
      ],
    });
    const { key, verifier, par } = await flow(CLAIMS);
    expect(par.status).toBe(201);
    const callback = await login(par.body.request_uri as string, individualId);
    const tokens = await token(key, callback.searchParams.get('code')!, verifier);
    expect(tokens.status).toBe(200);
    const info = await userinfo(key, tokens.body.access_token);
    expect(info.status).toBe(200);
    const { iss, aud, iat, exp, sub, ...released } = await verifyUserinfo(info.text);
    expect(released).toEqual({
      name: IDENTITY.claims.name,
      phone_number: IDENTITY.claims.phone_number,
      verified_claims: [
        {
          verification: { trust_framework: 'ABC TF' },
          claims: { phone_number: IDENTITY.claims.phone_number },
        },
        { verification: { trust_framework: 'XYZ TF' }, claims: { name: IDENTITY.claims.name } },
      ],
    });
  });
});
