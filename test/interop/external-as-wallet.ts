import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { expect } from 'vitest';
import { newWalletKey, walletClient } from '../../scripts/demo-wallet.ts';

/**
 * The wallet side of the external-AS tests: @openid4vc/openid4vci runs the authorization-code flow
 * at an external authorization server named in the offer (`authorize` takes the authorization
 * request URL through that server's login to the redirect and returns the code), then asks this
 * service's credential endpoint for one credential with a proof over a nonce from the token response
 * (`token`, eSignet's c_nonce) or from our nonce endpoint.
 */
export interface ExternalFlowOptions {
  credentialIssuer: string;
  authorizationServer: string;
  clientId: string;
  redirectUri: string;
  configurationId: string;
  scope: string;
  authorize: (authorizationRequestUrl: string) => Promise<string>;
  nonceFrom: 'token' | 'nonce_endpoint';
}

/** The wallet library's authorization-code flow at the external server, up to its token response. */
export async function externalAccessToken(options: Omit<ExternalFlowOptions, 'nonceFrom'>) {
  const { clientId, redirectUri, configurationId } = options;
  const key = await newWalletKey('ES256');
  const client = walletClient([key], { clientId });
  const issuerMetadata = await client.resolveIssuerMetadata(options.credentialIssuer);
  const credentialOffer = {
    credential_issuer: options.credentialIssuer,
    credential_configuration_ids: [configurationId],
    grants: { authorization_code: { authorization_server: options.authorizationServer } },
  };
  const authorization = await client.initiateAuthorization({
    credentialOffer,
    issuerMetadata,
    clientId,
    redirectUri,
    scope: options.scope,
  });
  if (!('authorizationRequestUrl' in authorization))
    throw new Error('expected a redirect-based authorization');
  expect(authorization.authorizationRequestUrl.startsWith(options.authorizationServer)).toBe(true);
  const code = await options.authorize(authorization.authorizationRequestUrl);
  const { accessTokenResponse } = await client.retrieveAuthorizationCodeAccessTokenFromOffer({
    credentialOffer,
    issuerMetadata,
    authorizationCode: code,
    ...(authorization.pkce ? { pkceCodeVerifier: authorization.pkce.codeVerifier } : {}),
    redirectUri,
  });
  return { client, issuerMetadata, accessTokenResponse, key };
}

/** The flow, then one credential request here with a proof over a nonce. */
export async function externalAuthorizationCodeFlow(options: ExternalFlowOptions) {
  const { clientId, configurationId } = options;
  const { client, issuerMetadata, accessTokenResponse, key } = await externalAccessToken(options);
  const nonce =
    options.nonceFrom === 'token'
      ? (accessTokenResponse.c_nonce as string)
      : (await client.requestNonce({ issuerMetadata })).c_nonce;
  const { jwt } = await client.createCredentialRequestJwtProof({
    issuerMetadata,
    credentialConfigurationId: configurationId,
    nonce,
    clientId,
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

/** A credential request as a wallet sends it (Bearer `token`, a fresh key's proof over `nonce` at `now`). */
export async function credentialRequest(
  issuer: { url: string; credentialEndpoint: string; now: number },
  token: string,
  nonce: string,
  configurationId = 'NationalIdCredential_jwt_vc_json',
) {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const proof = await new SignJWT({ aud: issuer.url, iat: Math.floor(issuer.now / 1000), nonce })
    .setProtectedHeader({ typ: 'openid4vci-proof+jwt', alg: 'ES256', jwk: await exportJWK(publicKey) })
    .sign(privateKey);
  return fetch(issuer.credentialEndpoint, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ credential_configuration_id: configurationId, proofs: { jwt: [proof] } }),
  });
}
