import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newWalletKey, walletClient } from '../../scripts/demo-wallet.ts';
import { Browser } from '../protocol/oidc/helpers.ts';
import { startVci, type VciHarness } from '../protocol/vci/harness.ts';
import { verifyLdpVc } from './verifiers.ts';

/**
 * @openid4vc/openid4vci (1.0) in the authorization code flow, wallet-initiated: the wallet is a
 * public client (PKCE), the person logs in and consents through the provider's JSON interaction
 * API, and the credential carries exactly what was consented.
 */
describe('@openid4vc/openid4vci wallet (1.0), authorization code flow', () => {
  let h: VciHarness;
  beforeAll(async () => {
    h = await startVci();
  });
  afterAll(() => h.stop());

  it('logs the person in, asks consent for the credential claims and issues a verifiable credential', async () => {
    const who = await h.person();
    const clientId = 'demo-wallet';
    const redirectUri = 'https://wallet.example.org/callback';
    const registered = await h.admin('POST', '/clients', {
      client_id: clientId,
      client_name: 'Demo wallet',
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: 'none',
      allowed_claims: ['birthdate', 'given_name', 'family_name', 'name', 'gender', 'address'],
    });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);

    const key = await newWalletKey('ES256');
    const client = walletClient([key], { clientId });
    const issuerMetadata = await client.resolveIssuerMetadata(h.url);
    const credentialOffer = {
      credential_issuer: h.url,
      credential_configuration_ids: ['AgeCredential_ldp_vc'],
      grants: { authorization_code: {} },
    };
    const authorization = await client.initiateAuthorization({
      credentialOffer,
      issuerMetadata,
      clientId,
      redirectUri,
      scope: 'proof_of_age',
    });
    if (!('authorizationRequestUrl' in authorization))
      throw new Error('expected a redirect-based authorization');

    const browser = new Browser(new URL(h.url).origin);
    const start = await browser.fetch(authorization.authorizationRequestUrl);
    expect(start.location, start.text).toBeDefined();
    const interaction = start.location!;
    const details = (await browser.fetch(`${interaction}/api`)).json();
    expect(details.credential_configuration_ids).toContain('AgeCredential_ldp_vc');
    const headers = { 'x-csrf-token': details.csrf_token as string, origin: new URL(h.url).origin };
    const auth = await browser.fetch(`${interaction}/api/authenticate`, {
      json: { individual_id: who.individualId, factor: 'pin', challenge: '135790' },
      headers,
    });
    expect(auth.status, auth.text).toBe(200);
    let to = auth.json().redirect_to as string | undefined;
    if (!to) {
      const body = auth.json();
      expect([...body.essential_claims, ...body.voluntary_claims]).toContain('birthdate');
      const consent = await browser.fetch(`${interaction}/api/consent`, {
        json: { accepted_claims: ['birthdate'] },
        headers,
      });
      expect(consent.status, consent.text).toBe(200);
      to = consent.json().redirect_to as string;
    }
    const { url } = await browser.follow(to);
    const code = new URL(url).searchParams.get('code');
    expect(code, url).toBeTruthy();

    const { accessTokenResponse } = await client.retrieveAuthorizationCodeAccessTokenFromOffer({
      credentialOffer,
      issuerMetadata,
      authorizationCode: code!,
      ...(authorization.pkce ? { pkceCodeVerifier: authorization.pkce.codeVerifier } : {}),
      redirectUri,
    });
    const { c_nonce } = await client.requestNonce({ issuerMetadata });
    const { jwt } = await client.createCredentialRequestJwtProof({
      issuerMetadata,
      credentialConfigurationId: 'AgeCredential_ldp_vc',
      nonce: c_nonce,
      clientId,
      signer: { method: 'jwk', publicJwk: key.publicJwk as never, alg: 'ES256' },
    });
    const response = await client.retrieveCredentials({
      issuerMetadata,
      accessToken: accessTokenResponse.access_token,
      credentialConfigurationId: 'AgeCredential_ldp_vc',
      proofs: { jwt: [jwt] },
    });
    const body = response.credentialResponse as { credentials: { credential: Record<string, any> }[] };
    const vc = body.credentials[0]!.credential;
    expect(vc.credentialSubject).toMatchObject({ ageOver18: true, ageOver21: true });
    expect(await verifyLdpVc(vc, h.url, new Date(h.app.clock.now()))).toMatchObject({ verified: true });
  });
});
