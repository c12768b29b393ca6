import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newWalletKey, verifyMdoc, verifySdJwtVc, walletClient } from '../../scripts/demo-wallet.ts';
import { startVci, type VciHarness } from '../protocol/vci/harness.ts';
import { type EsignetStandin, startEsignetStandin } from './esignet-standin.ts';
import { verifyJwtVc, verifyLdpVc } from './verifiers.ts';

/**
 * Issue 17: the service as credential issuer behind an existing eSignet (the role Inji Certify
 * plays). A stand-in eSignet (test/interop/esignet-standin.ts, eSignet's sources cited there) logs
 * the person in and issues its JWT access tokens; the wallet library (@openid4vc/openid4vci) runs
 * the authorization-code flow against it and takes the token to this service's credential endpoint.
 * The person: eSignet's `sub` is a partner-specific user token, so the claims come from eSignet's
 * userinfo (a JWT signed by the identity system's KYC key), called with the wallet's token.
 */
const CLIENT_ID = 'inji-wallet';
const REDIRECT = 'https://wallet.example.org/callback';
const PERSON = {
  psut: 'psut-7f3b9c1e2d4a5b6c8e9f0a1b2c3d4e5f',
  claims: {
    given_name: 'Amani',
    family_name: 'Juma',
    name: 'Amani Juma',
    'name#en': 'Amani Juma',
    'name#ar': 'أماني جمعة',
    birthdate: '1990-04-12',
    gender: 'female',
    address: { street_address: '12 Uhuru St', locality: 'Dodoma', country: 'TZ' },
    email: 'amani@example.org',
  },
};

let h: VciHarness;
let esignet: EsignetStandin;
let metadata: Record<string, any>;

beforeAll(async () => {
  let now = () => Date.now();
  esignet = await startEsignetStandin({ now: () => now(), person: structuredClone(PERSON) });
  h = await startVci({
    overrides: {
      oidc: { jwksUriPolicy: { allowedHosts: ['127.0.0.1'] } },
      vci: {
        ownAuthorizationServer: 'listed',
        externalAuthorizationServers: [
          {
            issuer: esignet.issuer,
            jwksUri: esignet.jwksUri,
            profile: 'esignet',
            subject: { mode: 'userinfo', endpoint: esignet.userinfoEndpoint },
          },
        ],
      },
    },
  });
  now = () => h.app.clock.now();
  metadata = (await (await fetch(`${h.url}/.well-known/openid-credential-issuer`)).json()) as any;
  // mosip.esignet.credential.scope-resource-mapping: each credential scope → our credential endpoint.
  for (const c of Object.values(metadata.credential_configurations_supported) as any[])
    if (c.scope) esignet.scopeResources[c.scope] = metadata.credential_endpoint;
});
afterAll(async () => {
  await h?.stop();
  await esignet?.stop();
});

const scopeOf = (id: string) => metadata.credential_configurations_supported[id].scope as string;

/** The wallet library's authorization-code flow at the stand-in, then one credential request here. */
async function walletFlow(configurationId: string, nonceFrom: 'token' | 'nonce_endpoint') {
  const key = await newWalletKey('ES256');
  const client = walletClient([key], { clientId: CLIENT_ID });
  const issuerMetadata = await client.resolveIssuerMetadata(h.url);
  const credentialOffer = {
    credential_issuer: h.url,
    credential_configuration_ids: [configurationId],
    grants: { authorization_code: { authorization_server: esignet.issuer } },
  };
  const authorization = await client.initiateAuthorization({
    credentialOffer,
    issuerMetadata,
    clientId: CLIENT_ID,
    redirectUri: REDIRECT,
    scope: scopeOf(configurationId),
  });
  if (!('authorizationRequestUrl' in authorization))
    throw new Error('expected a redirect-based authorization');
  expect(authorization.authorizationRequestUrl.startsWith(`${esignet.issuer}/authorize`)).toBe(true);
  const redirect = await fetch(authorization.authorizationRequestUrl, { redirect: 'manual' });
  const code = new URL(redirect.headers.get('location')!).searchParams.get('code')!;
  const { accessTokenResponse } = await client.retrieveAuthorizationCodeAccessTokenFromOffer({
    credentialOffer,
    issuerMetadata,
    authorizationCode: code,
    ...(authorization.pkce ? { pkceCodeVerifier: authorization.pkce.codeVerifier } : {}),
    redirectUri: REDIRECT,
  });
  const nonce =
    nonceFrom === 'token'
      ? (accessTokenResponse.c_nonce as string)
      : (await client.requestNonce({ issuerMetadata })).c_nonce;
  const { jwt } = await client.createCredentialRequestJwtProof({
    issuerMetadata,
    credentialConfigurationId: configurationId,
    nonce,
    clientId: CLIENT_ID,
    signer: { method: 'jwk', publicJwk: key.publicJwk as never, alg: 'ES256' },
  });
  const response = await client.retrieveCredentials({
    issuerMetadata,
    accessToken: accessTokenResponse.access_token,
    credentialConfigurationId: configurationId,
    proofs: { jwt: [jwt] },
  });
  const body = response.credentialResponse as { credentials: { credential: any }[] };
  return {
    credential: body.credentials[0]!.credential,
    accessToken: accessTokenResponse.access_token,
    nonce,
    key,
  };
}

describe('credentials from an eSignet login (@openid4vc/openid4vci, authorization code at the stand-in)', () => {
  it('lists both authorization servers in the metadata', () => {
    expect(metadata.authorization_servers).toEqual([h.url, esignet.issuer]);
  });

  it('ldp_vc with the c_nonce of eSignet token: claims from eSignet userinfo, verified independently', async () => {
    const { credential } = await walletFlow('NationalIdCredential_ldp_vc', 'token');
    expect(credential.credentialSubject).toMatchObject({
      givenName: 'Amani',
      familyName: 'Juma',
      birthdate: '1990-04-12',
    });
    expect(await verifyLdpVc(credential, h.url, new Date(h.app.clock.now()))).toMatchObject({
      verified: true,
    });
  });

  it('jwt_vc_json with a nonce from the nonce endpoint', async () => {
    const { credential } = await walletFlow('NationalIdCredential_jwt_vc_json', 'nonce_endpoint');
    const { payload } = await verifyJwtVc(credential, h.url, new Date(h.app.clock.now()));
    expect((payload.vc as any).credentialSubject.familyName).toBe('Juma');
  });

  it('dc+sd-jwt', async () => {
    const { credential } = await walletFlow('NationalIdCredential_sd_jwt', 'token');
    const claims = await verifySdJwtVc(credential, new Date(h.app.clock.now()));
    expect(claims).toMatchObject({ givenName: 'Amani', birthdate: '1990-04-12' });
  });

  it('mso_mdoc', async () => {
    const { credential } = await walletFlow('NationalIdCredential_mso_mdoc', 'token');
    const doctype = metadata.credential_configurations_supported.NationalIdCredential_mso_mdoc.doctype;
    const verdict = await verifyMdoc(credential, doctype, h.url, new Date(h.app.clock.now()));
    expect(verdict.failed).toEqual([]);
    expect(verdict.checks.map((c) => c.check).join('\n')).toContain('national_id.1/givenName');
  });
});
