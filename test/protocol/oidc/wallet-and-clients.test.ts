import { compactDecrypt, decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';
import {
  admin,
  Browser,
  IDENTITY,
  loginWithApi,
  obtainCode,
  pkce,
  redeem,
  registerClient,
  startOidcApp,
} from './helpers.ts';

describe('wallets (public clients, RAR, scopes), client admin, encrypted userinfo', () => {
  let app: TestApp;
  let origin: string;
  const wallet = { clientId: 'test-wallet', redirectUri: 'https://wallet.example.org/cb' };
  beforeAll(async () => {
    app = await startOidcApp();
    origin = new URL(app.url).origin;
    await admin(app, 'POST', '/clients', {
      client_id: wallet.clientId,
      client_name: 'Test Wallet',
      redirect_uris: [wallet.redirectUri],
      token_endpoint_auth_method: 'none',
    });
  });
  afterAll(async () => app.stop());

  async function walletCode(params: Record<string, string>) {
    const { verifier, challenge } = pkce();
    const browser = new Browser(origin);
    const query = new URLSearchParams({
      client_id: wallet.clientId,
      response_type: 'code',
      redirect_uri: wallet.redirectUri,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'w',
      ...params,
    });
    const start = await browser.fetch(`${app.url}/authorize?${query}`);
    return { start, browser, verifier };
  }

  const token = async (code: string, verifier: string, extra: Record<string, string> = {}) => {
    const response = await request(`${app.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: wallet.clientId,
        code,
        code_verifier: verifier,
        redirect_uri: wallet.redirectUri,
        ...extra,
      }).toString(),
    });
    return { status: response.statusCode, body: (await response.body.json()) as Record<string, any> };
  };

  test('a public wallet gets a token for authorization_details openid_credential, with credential_identifiers', async () => {
    const details = [
      { type: 'openid_credential', credential_configuration_id: 'NationalIdCredential_sd_jwt' },
    ];
    const { start, browser, verifier } = await walletCode({
      authorization_details: JSON.stringify(details),
      resource: app.url,
      issuer_state: await issuerState(['NationalIdCredential_sd_jwt']),
    });
    expect(start.location).toContain('/interaction/');
    const interaction = start.location!;
    const info = (await browser.fetch(`${interaction}/api`)).json();
    expect(info.credential_configuration_ids).toEqual(['NationalIdCredential_sd_jwt']);
    expect(info.voluntary_claims.length).toBeGreaterThan(0);
    const callback = new URL(await loginWithApi(app, browser, interaction, 'pin'));
    const tokens = await token(callback.searchParams.get('code')!, verifier, { resource: app.url });
    expect(tokens.status).toBe(200);
    expect(tokens.body.authorization_details).toEqual([
      { ...details[0], credential_identifiers: ['NationalIdCredential_sd_jwt'] },
    ]);
    const grant = await app.running.parts.oidc.tokens.verify({
      authorization: `Bearer ${tokens.body.access_token}`,
      dpop: undefined,
      method: 'POST',
      url: `${app.url}/credential`,
    });
    expect(grant.credentialConfigurationIds).toEqual(['NationalIdCredential_sd_jwt']);
    expect(grant.clientId).toBe(wallet.clientId);
    expect(grant.consentedClaims).toEqual(expect.arrayContaining(info.voluntary_claims));
  });

  /** The issuer_state of a fresh authorization-code offer (OpenID4VCI 1.0 §4.1.1) naming `ids` (and a person). */
  const issuerState = async (ids: string[], individualId?: string): Promise<string> =>
    (
      await admin(app, 'POST', '/credential-offers', {
        credential_configuration_ids: ids,
        grant: 'authorization_code',
        ...(individualId ? { individual_id: individualId } : {}),
      })
    ).credential_offer.grants.authorization_code.issuer_state;

  describe('issuer_state (OpenID4VCI 1.0 §5.1.3) is checked, not ignored', () => {
    const sdJwt = [{ type: 'openid_credential', credential_configuration_id: 'NationalIdCredential_sd_jwt' }];

    // An empty `issuer_state=` is the parameter omitted (RFC 6749 §3.1), so only non-empty values are tried.
    test('an issuer_state the issuer never made ends with invalid_request at the wallet, with iss', async () => {
      const { start } = await walletCode({
        authorization_details: JSON.stringify(sdJwt),
        resource: app.url,
        issuer_state: 'offer-state-1',
      });
      const location = new URL(start.location!);
      expect(location.origin + location.pathname).toBe(wallet.redirectUri);
      expect(location.searchParams.get('error')).toBe('invalid_request');
      expect(location.searchParams.get('error_description')).toMatch(/issuer_state/);
      expect(location.searchParams.get('iss')).toBe(app.url);
    });

    test('an expired issuer_state is refused like an unknown one', async () => {
      const state = await issuerState(['NationalIdCredential_sd_jwt']);
      app.clock.advanceSeconds(601);
      const { start } = await walletCode({
        authorization_details: JSON.stringify(sdJwt),
        resource: app.url,
        issuer_state: state,
      });
      expect(new URL(start.location!).searchParams.get('error')).toBe('invalid_request');
    });

    test('a request for a configuration the offer does not name is invalid_request (details and scope)', async () => {
      const state = await issuerState(['AgeCredential_ldp_vc']);
      const byDetails = await walletCode({
        authorization_details: JSON.stringify(sdJwt),
        resource: app.url,
        issuer_state: state,
      });
      const refused = new URL(byDetails.start.location!);
      expect(refused.searchParams.get('error')).toBe('invalid_request');
      expect(refused.searchParams.get('error_description')).toContain('NationalIdCredential_sd_jwt');
      const byScope = await walletCode({
        scope: 'proof_of_age',
        resource: app.url,
        issuer_state: await issuerState(['NationalIdCredential_sd_jwt']),
      });
      expect(new URL(byScope.start.location!).searchParams.get('error')).toBe('invalid_request');
    });

    test('an offer made for a person lets that person through and refuses anyone else (403 access_denied)', async () => {
      const params = { authorization_details: JSON.stringify(sdJwt), resource: app.url };
      const mine = await walletCode({
        ...params,
        issuer_state: await issuerState(['NationalIdCredential_sd_jwt'], IDENTITY.individualId),
      });
      const callback = new URL(await loginWithApi(app, mine.browser, mine.start.location!, 'pin'));
      expect(callback.searchParams.get('code')).toBeTruthy();

      await admin(app, 'POST', '/identities', {
        individual_id: '5550009876',
        pin: '135790',
        claims: { name: 'Omar Haddad', birthdate: '1990-01-01' },
      });
      const theirs = await walletCode({
        ...params,
        issuer_state: await issuerState(['NationalIdCredential_sd_jwt'], '5550009876'),
      });
      const interaction = theirs.start.location!;
      const details = (await theirs.browser.fetch(`${interaction}/api`)).json();
      const refused = await theirs.browser.fetch(`${interaction}/api/authenticate`, {
        json: { individual_id: IDENTITY.individualId, factor: 'pin', challenge: IDENTITY.pin },
        headers: { 'x-csrf-token': details.csrf_token, origin },
      });
      expect(refused.status).toBe(403);
      expect(refused.json()).toEqual({
        error: 'access_denied',
        error_description: 'this credential offer was made for another person',
      });
    });

    test('PAR refuses an unknown issuer_state with 400 invalid_request', async () => {
      const { challenge } = pkce();
      const response = await request(`${app.url}/par`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          client_id: wallet.clientId,
          response_type: 'code',
          redirect_uri: wallet.redirectUri,
          code_challenge: challenge,
          code_challenge_method: 'S256',
          authorization_details: JSON.stringify(sdJwt),
          resource: app.url,
          issuer_state: 'offer-state-1',
        }).toString(),
      });
      expect(response.statusCode).toBe(400);
      // OpenID4VCI 1.0 §5.1.3 with RFC 9126 §2.3: an issuer_state this issuer did not give is invalid_request.
      expect(await response.body.json()).toEqual({
        error: 'invalid_request',
        error_description: 'issuer_state is unknown or has expired',
      });
    });
  });

  test('an unknown credential_configuration_id is invalid_authorization_details', async () => {
    const { start } = await walletCode({
      authorization_details: JSON.stringify([
        { type: 'openid_credential', credential_configuration_id: 'Nope' },
      ]),
    });
    const location = new URL(start.location!);
    expect(location.searchParams.get('error')).toBe('invalid_authorization_details');
    expect(location.searchParams.get('iss')).toBe(app.url);
  });

  test('a credential scope is honoured: the token covers that configuration', async () => {
    const { start, browser, verifier } = await walletCode({ scope: 'proof_of_age' });
    const callback = new URL(await loginWithApi(app, browser, start.location!, 'pin'));
    const tokens = await token(callback.searchParams.get('code')!, verifier);
    expect(tokens.status).toBe(200);
    const grant = await app.running.parts.oidc.tokens.verify({
      authorization: `Bearer ${tokens.body.access_token}`,
      dpop: undefined,
      method: 'POST',
      url: `${app.url}/credential`,
    });
    expect(grant.credentialConfigurationIds).toEqual(['AgeCredential_ldp_vc']);
  });

  test.each([
    ['no redirect_uris', { client_id: 'c-1', jwks_uri: 'https://rp.example.org/jwks' }, 'redirect_uris'],
    [
      'a private key in jwks',
      {
        client_id: 'c-2',
        redirect_uris: ['https://rp.example.org/cb'],
        jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'c' }] },
      },
      'jwks',
    ],
    [
      'client_secret_basic',
      {
        client_id: 'c-3',
        redirect_uris: ['https://rp.example.org/cb'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      'token_endpoint_auth_method',
    ],
    [
      'private_key_jwt without keys',
      { client_id: 'c-4', redirect_uris: ['https://rp.example.org/cb'] },
      'jwks',
    ],
    [
      'an unknown ACR',
      {
        client_id: 'c-5',
        redirect_uris: ['https://rp.example.org/cb'],
        token_endpoint_auth_method: 'none',
        allowed_acr_values: ['urn:nope'],
      },
      'allowed_acr_values',
    ],
    [
      'the implicit grant',
      {
        client_id: 'c-6',
        redirect_uris: ['https://rp.example.org/cb'],
        token_endpoint_auth_method: 'none',
        grant_types: ['implicit'],
      },
      'grant_types',
    ],
  ])('client admin refuses %s, naming the field', async (_name, body, field) => {
    const response = await request(`${origin}/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${app.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await response.body.json()) as { error: string; error_description: string };
    expect(response.statusCode).toBe(400);
    expect(json.error).toBe('invalid_client_metadata');
    expect(json.error_description).toContain(field);
  });

  test('client admin creates, reads, lists, updates and deletes', async () => {
    const created = await admin(app, 'POST', '/clients', {
      redirect_uris: ['https://crud.example.org/cb'],
      token_endpoint_auth_method: 'none',
      client_name: 'CRUD',
    });
    expect(created.client_id).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect((await admin(app, 'GET', `/clients/${created.client_id}`)).client_name).toBe('CRUD');
    const { clients } = await admin(app, 'GET', '/clients');
    expect(clients.some((c: { client_id: string }) => c.client_id === created.client_id)).toBe(true);
    const updated = await admin(app, 'PUT', `/clients/${created.client_id}`, {
      redirect_uris: ['https://crud.example.org/cb2'],
      token_endpoint_auth_method: 'none',
      client_name: 'CRUD 2',
    });
    expect(updated.redirect_uris).toEqual(['https://crud.example.org/cb2']);
    await admin(app, 'DELETE', `/clients/${created.client_id}`);
    await expect(admin(app, 'GET', `/clients/${created.client_id}`)).rejects.toThrow(/404/);
  });

  test('userinfo is encrypted (JWE around the signed JWT) when the client registered an encryption key', async () => {
    const enc = await generateKeyPair('RSA-OAEP-256', { extractable: true });
    const encJwk = { ...(await exportJWK(enc.publicKey)), kid: 'enc-1', use: 'enc', alg: 'RSA-OAEP-256' };
    const client = await registerClient(app, {
      userinfo_encrypted_response_alg: 'RSA-OAEP-256',
      userinfo_encrypted_response_enc: 'A256GCM',
    });
    await admin(app, 'PUT', `/clients/${client.clientId}`, {
      client_name: 'Test RP',
      redirect_uris: [client.redirectUri],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [client.publicJwk, encJwk] },
      allowed_claims: ['name'],
      userinfo_encrypted_response_alg: 'RSA-OAEP-256',
      userinfo_encrypted_response_enc: 'A256GCM',
    });
    const { code, verifier } = await obtainCode(app, client, {
      claims: { userinfo: { name: { essential: true } } },
    });
    const tokens = await redeem(app, client, code, verifier);
    const response = await request(`${app.url}/userinfo`, {
      headers: { authorization: `Bearer ${tokens.body.access_token}` },
    });
    const jwe = await response.body.text();
    expect(jwe.split('.')).toHaveLength(5);
    const { plaintext } = await compactDecrypt(jwe, enc.privateKey);
    expect(decodeJwt(new TextDecoder().decode(plaintext)).name).toBe('Layla Mansour');
  });
});
