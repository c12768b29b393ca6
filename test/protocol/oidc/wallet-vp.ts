import { createHash, X509Certificate } from 'node:crypto';
import { Openid4vpClient } from '@openid4vc/openid4vp';
import { setGlobalConfig } from '@openid4vc/utils';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { compactVerify, decodeProtectedHeader, SignJWT } from 'jose';
import type { TestApp } from '../../helpers/app.ts';
import { type HolderKey, preAuthorizedCode, proofJwt, type VciHarness } from '../vci/harness.ts';
import { beginLogin } from './factor-helpers.ts';
import { latestOtp, type TestClient } from './helpers.ts';

/**
 * The holder side of the wallet login (OpenID4VP 1.0) for the tests: a credential this service
 * issues through the pre-authorized flow, the holder key bound to the person (eSignet wallet
 * binding, as Inji Wallet activates a credential for online login), and a wallet that resolves the
 * request with @openid4vc/openid4vp and presents the SD-JWT VC with @sd-jwt/sd-jwt-vc.
 */

export const WALLET_ACR = 'urn:idissuer:acr:wallet-presentation';
const CONFIGURATION = 'NationalIdCredential_sd_jwt';

/** An SD-JWT VC of `who`'s identity credential bound to `holder`, issued by the service. */
export async function issueIdentityCredential(
  h: VciHarness,
  individualId: string,
  holder: HolderKey,
): Promise<string> {
  return (await issueIdentity(h, individualId, holder)).credential;
}

/** The same, with the credential response's notification_id (it finds the ledger record). */
export async function issueIdentity(
  h: VciHarness,
  individualId: string,
  holder: HolderKey,
): Promise<{ credential: string; notificationId: string }> {
  const offer = await h.offer([CONFIGURATION], individualId);
  const token = await h.token(preAuthorizedCode(offer));
  if (token.status !== 200) throw new Error(`token: ${JSON.stringify(token.body)}`);
  const proof = await proofJwt(holder, h.url, await h.nonce(), { iat: Math.floor(h.app.clock.now() / 1000) });
  const res = await h.post(
    '/credential',
    { credential_configuration_id: CONFIGURATION, proofs: { jwt: [proof] } },
    { authorization: `Bearer ${token.body.access_token}` },
  );
  if (res.status !== 200) throw new Error(`credential: ${res.text}`);
  return {
    credential: res.body.credentials[0].credential as string,
    notificationId: res.body.notification_id as string,
  };
}

/** Binds the holder key to the person after a one-time code (the existing linked-wallet binding). */
export async function bindHolderKey(
  app: TestApp,
  client: TestClient,
  individualId: string,
  holder: HolderKey,
): Promise<void> {
  const login = await beginLogin(app, client, { acr_values: 'mosip:idp:acr:linked-wallet' });
  const sent = await login.post('send-otp', { individual_id: individualId, purpose: 'wallet-binding' });
  if (sent.status !== 200) throw new Error(`send-otp: ${sent.text}`);
  const bound = await login.post('bind-wallet', {
    individual_id: individualId,
    otp: await latestOtp(app),
    public_key: { ...holder.jwk, alg: holder.alg },
  });
  if (bound.status !== 200) throw new Error(`bind-wallet: ${bound.text}`);
}

const sha256 = (data: ArrayBuffer | Uint8Array | string) =>
  new Uint8Array(
    createHash('sha256')
      .update(typeof data === 'string' ? data : new Uint8Array(data))
      .digest(),
  );

/** A presentation of `credential` disclosing nothing, with a key-binding JWT signed by `signer`. */
export async function presentation(
  credential: string,
  signer: HolderKey,
  kb: { nonce: string; aud: string; iat: number },
): Promise<string> {
  const sdjwt = new SDJwtVcInstance({
    hasher: sha256,
    kbSignAlg: signer.alg,
    kbSigner: async (data: string) => {
      // The library signs "<header>.<payload>"; jose signs the same bytes through a compact JWS.
      const [header, payload] = data.split('.');
      const jws = await new SignJWT(JSON.parse(Buffer.from(payload!, 'base64url').toString()))
        .setProtectedHeader(JSON.parse(Buffer.from(header!, 'base64url').toString()))
        .sign(signer.privateKey);
      return jws.split('.')[2]!;
    },
  });
  return sdjwt.present(credential, {}, { kb: { payload: kb } });
}

/** The OpenID4VP holder library with the callbacks a wallet supplies (fetch, hash, JWT checks). */
function holderClient(): Openid4vpClient {
  // The test service listens on http://127.0.0.1 (the library's switch for non-https URLs).
  setGlobalConfig({ allowInsecureUrls: true });
  return new Openid4vpClient({
    callbacks: {
      fetch,
      hash: (data: Uint8Array) => sha256(data),
      // x509_hash: the request object's x5c leaf signs it (the library checks the hash against client_id).
      verifyJwt: async (
        signer: { method: string; x5c: string[]; publicJwk?: unknown },
        { compact }: { compact: string },
      ) => {
        if (signer.method !== 'x5c') return { verified: false };
        const leaf = new X509Certificate(Buffer.from(signer.x5c[0]!, 'base64'));
        try {
          await compactVerify(compact, leaf.publicKey);
          return {
            verified: true,
            signerJwk: signer.publicJwk ?? (leaf.publicKey.export({ format: 'jwk' }) as never),
          };
        } catch {
          return { verified: false };
        }
      },
      getX509CertificateMetadata: (certificate: string) => {
        const cert = new X509Certificate(Buffer.from(certificate, 'base64'));
        const names = (cert.subjectAltName ?? '').split(', ');
        return {
          sanDnsNames: names.filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4)),
          sanUriNames: names.filter((n) => n.startsWith('URI:')).map((n) => n.slice(4)),
        };
      },
    } as never,
  });
}

export interface ResolvedRequest {
  readonly nonce: string;
  readonly clientId: string;
  readonly responseUri: string;
  readonly state: string;
  readonly payload: Record<string, unknown>;
}

/** Fetches and checks the request behind an `openid4vp://` URL (the QR code's content). */
export async function resolveRequest(walletUrl: string): Promise<ResolvedRequest> {
  const client = holderClient();
  const parsed = client.parseOpenid4vpAuthorizationRequest({ authorizationRequest: walletUrl });
  const resolved = await client.resolveOpenId4vpAuthorizationRequest({
    authorizationRequestPayload: parsed.params as never,
  });
  const payload = resolved.authorizationRequestPayload as Record<string, unknown>;
  return {
    nonce: String(payload.nonce),
    clientId: String(payload.client_id),
    responseUri: String(payload.response_uri),
    state: String(payload.state),
    payload,
  };
}

/** Posts `vp_token` for the request (direct_post) through the holder library; status and body. */
export async function respond(
  request: ResolvedRequest,
  vpToken: string,
  overrides: { state?: string } = {},
): Promise<{ status: number; body: any }> {
  const client = holderClient();
  const { response } = await client.submitOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: { response_uri: request.responseUri },
    authorizationResponsePayload: {
      vp_token: { identity: [vpToken] },
      state: overrides.state ?? request.state,
    } as never,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** The request object's header, for tests that check how it is signed. */
export const requestHeader = (jwt: string) => decodeProtectedHeader(jwt);
