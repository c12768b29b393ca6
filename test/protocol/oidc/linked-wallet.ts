import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { request } from 'undici';
import type { TestApp } from '../../helpers/app.ts';
import { beginLogin } from './factor-helpers.ts';
import { latestOtp, type PrivateKey, type TestClient } from './helpers.ts';

/**
 * A stand-in for the wallet side of eSignet's linked-wallet login, built from eSignet's own
 * wallet-side requests (mosip/esignet @ 201264c86e98113762451f4a306163233fa79e24):
 *
 * - the QR code's deep link `io.mosip.residentapp.inji://wla-auth?linkCode=LINK_CODE&linkExpireDateTime=LINK_EXPIRE_DT`
 *   (esignet-service/src/main/resources/application-default.properties:387);
 * - `POST /linked-authorization/v2/link-transaction` (esignet-service/.../controllers/LinkedAuthorizationController.java:91)
 *   with `{requestTime, request: {linkCode}}` (api-test/src/main/resources/esignet/LinkTransaction/LinkTransaction.hbs:1-6);
 * - `POST /linked-authorization/v2/authenticate` (LinkedAuthorizationController.java:136) with
 *   `{requestTime, request: {linkedTransactionId, individualId, challengeList: [{authFactorType, challenge, format}]}}`
 *   (api-test/src/main/resources/esignet/LinkedAuthenticationWla/LinkedAuthenticationWla.hbs:1-14,
 *   esignet-core/.../dto/LinkedKycAuthRequest.java).
 *
 * The WLA challenge is this service's (src/kyc/wallet.ts): `{nonce, aud: issuer, iat}` signed by the
 * bound key, header `kid` = its JWK thumbprint, `nonce` = link-transaction's `walletNonce`.
 */
export const LINKED_ACR = 'mosip:idp:acr:linked-wallet';

export interface LinkedWalletKey {
  privateKey: PrivateKey;
  jwk: JWK;
  thumbprint: string;
}

export async function newWalletKey(): Promise<LinkedWalletKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), alg: 'ES256' };
  return { privateKey, jwk, thumbprint: await calculateJwkThumbprint(jwk, 'sha256') };
}

/** Binds the wallet key to the person after a one-time code (the JSON API's bind-wallet). */
export async function bindWalletKey(
  app: TestApp,
  client: TestClient,
  individualId: string,
  wallet: LinkedWalletKey,
): Promise<void> {
  const login = await beginLogin(app, client, { acr_values: LINKED_ACR });
  const sent = await login.post('send-otp', { individual_id: individualId, purpose: 'wallet-binding' });
  if (sent.status !== 200) throw new Error(`send-otp: ${sent.text}`);
  const bound = await login.post('bind-wallet', {
    individual_id: individualId,
    otp: await latestOtp(app),
    public_key: wallet.jwk,
  });
  if (bound.status !== 200) throw new Error(`bind-wallet: ${bound.text}`);
}

/** The link code of the QR code's deep link. */
export function linkCodeOf(deepLink: string): { linkCode: string; linkExpireDateTime: string } {
  const url = new URL(deepLink);
  if (`${url.protocol}//${url.host}` !== 'io.mosip.residentapp.inji://wla-auth')
    throw new Error(`not eSignet's wla-auth deep link: ${deepLink}`);
  return {
    linkCode: url.searchParams.get('linkCode') ?? '',
    linkExpireDateTime: url.searchParams.get('linkExpireDateTime') ?? '',
  };
}

async function post(app: TestApp, path: string, inner: unknown) {
  const response = await request(`${app.url}/interaction/linked-authorization/v2/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ requestTime: new Date(app.clock.now()).toISOString(), request: inner }),
  });
  return { status: response.statusCode, body: (await response.body.json()) as any };
}

export const linkTransaction = (app: TestApp, linkCode: string) =>
  post(app, 'link-transaction', { linkCode });

export async function wlaChallenge(app: TestApp, wallet: LinkedWalletKey, nonce: string): Promise<string> {
  return new SignJWT({ nonce })
    .setProtectedHeader({ alg: 'ES256', kid: wallet.thumbprint, typ: 'JWT' })
    .setAudience(app.url)
    .setIssuedAt(Math.floor(app.clock.now() / 1000))
    .sign(wallet.privateKey);
}

export const linkedAuthenticate = (
  app: TestApp,
  linkedTransactionId: string,
  individualId: string,
  challenge: string,
) =>
  post(app, 'authenticate', {
    linkedTransactionId,
    individualId,
    challengeList: [{ authFactorType: 'WLA', challenge, format: 'jwt' }],
  });

/** What a wallet does after scanning: link the transaction, sign the challenge, authenticate. */
export async function signInByLink(
  app: TestApp,
  deepLink: string,
  individualId: string,
  wallet: LinkedWalletKey,
) {
  const linked = await linkTransaction(app, linkCodeOf(deepLink).linkCode);
  if (linked.status !== 200) return { linked, answer: undefined };
  const { linkTransactionId, walletNonce } = linked.body.response;
  const answer = await linkedAuthenticate(
    app,
    linkTransactionId,
    individualId,
    await wlaChallenge(app, wallet, walletNonce),
  );
  return { linked, answer };
}
