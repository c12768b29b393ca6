/**
 * `npm run demo:rp`: a minimal relying party for the demo client, against a running `npm start`.
 * It pushes a signed authorization request (PAR + PKCE + private_key_jwt), prints the URL to open in
 * a browser, waits on the demo redirect URI for the code, redeems it and prints the ID token claims
 * and the verified userinfo JWT claims. Environment: DATA_DIR (./data), ACR (login method),
 * UI_LOCALES (en or ar).
 */
import type { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { importJWK, type JWK } from 'jose';
import * as oidc from 'openid-client';

interface DemoRelyingParty {
  issuer: string;
  client_id: string;
  private_jwk: JWK & { kid: string; alg: string };
  redirect_uri: string;
  scope: string;
  claims: unknown;
  acr_values: string;
}

const rp = JSON.parse(
  readFileSync(`${process.env.DATA_DIR ?? './data'}/demo-relying-party.json`, 'utf8'),
) as DemoRelyingParty;
const key = (await importJWK(rp.private_jwk, rp.private_jwk.alg)) as webcrypto.CryptoKey;
const config = await oidc.discovery(
  new URL(rp.issuer),
  rp.client_id,
  { userinfo_signed_response_alg: 'RS256' },
  oidc.PrivateKeyJwt({ key, kid: rp.private_jwk.kid }),
  // The demo issuer is plain http on 127.0.0.1.
  { execute: [oidc.allowInsecureRequests] },
);

const verifier = oidc.randomPKCECodeVerifier();
const state = oidc.randomState();
const nonce = oidc.randomNonce();
const url = await oidc.buildAuthorizationUrlWithPAR(config, {
  redirect_uri: rp.redirect_uri,
  scope: rp.scope,
  claims: JSON.stringify(rp.claims),
  acr_values: process.env.ACR ?? rp.acr_values,
  ui_locales: process.env.UI_LOCALES ?? 'en',
  code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
  nonce,
});
process.stdout.write(`Open this URL in a browser:\n\n  ${url.href}\n\nWaiting on ${rp.redirect_uri} ...\n`);

const redirect = new URL(rp.redirect_uri);
const server = createServer(async (req, res) => {
  const callback = new URL(req.url ?? '/', rp.redirect_uri);
  if (callback.pathname !== redirect.pathname) return void res.writeHead(404).end();
  try {
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    });
    const idToken = tokens.claims();
    const userinfo = await oidc.fetchUserInfo(
      config,
      tokens.access_token,
      idToken?.sub ?? oidc.skipSubjectCheck,
    );
    const result = JSON.stringify({ id_token: idToken, userinfo }, null, 2);
    process.stdout.write(`${result}\n`);
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(result);
  } catch (error) {
    process.stderr.write(`login failed: ${(error as Error).message}\n`);
    res
      .writeHead(400, { 'content-type': 'text/plain; charset=utf-8' })
      .end(`login failed: ${(error as Error).message}`);
  } finally {
    server.close();
  }
});
server.listen(Number(redirect.port || 80), redirect.hostname);
