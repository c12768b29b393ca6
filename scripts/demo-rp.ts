/**
 * `npm run demo:rp`: a minimal relying party for the demo client, against a running `npm start`.
 * It pushes a signed authorization request (PAR + PKCE + private_key_jwt), prints the URL to open in
 * a browser, waits on the demo redirect URI for the code, redeems it and prints the ID token claims
 * and the verified userinfo JWT claims.
 *
 * Environment: ISSUER_URL (default http://127.0.0.1:3000), DATA_DIR (./data: the demo client's
 * `demo-relying-party.json`), REDIRECT_PORT (default 8765: the port of the registered redirect URI
 * `http://127.0.0.1:8765/callback`; another port becomes the demo client's redirect URI through the
 * admin API first, with ADMIN_TOKEN or `$DATA_DIR/admin-token`), ACR (login method), UI_LOCALES
 * (en or ar).
 */
import type { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { importJWK, type JWK } from 'jose';
import * as oidc from 'openid-client';
import { reachableIssuer } from './issuer-url.ts';

interface DemoRelyingParty {
  issuer: string;
  client_id: string;
  private_jwk: JWK & { kid: string; alg: string };
  redirect_uri: string;
  scope: string;
  claims: unknown;
  acr_values: string;
}

function redirectPort(): number {
  const raw = process.env.REDIRECT_PORT ?? '8765';
  const port = Number(raw);
  if (!/^\d{1,5}$/.test(raw) || port < 1 || port > 65535) {
    throw new Error(`REDIRECT_PORT must be a port number from 1 to 65535, got ${JSON.stringify(raw)}`);
  }
  return port;
}

/**
 * Makes `uri` the demo client's redirect URI through the admin API when it is not registered.
 * Replaced rather than added: the provider's pairwise subjects need a sector_identifier_uri for
 * several redirect URIs, and every port shares the host 127.0.0.1, so subjects do not change. The
 * service restores http://127.0.0.1:8765/callback when it restarts; without REDIRECT_PORT the
 * check runs only when an admin token is at hand.
 */
async function ensureRedirect(
  issuer: string,
  dataDir: string,
  clientId: string,
  uri: string,
  required: boolean,
): Promise<void> {
  let token = process.env.ADMIN_TOKEN;
  if (!token) {
    try {
      token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    } catch {
      if (!required) return;
      throw new Error(
        `REDIRECT_PORT needs the admin API to register ${uri}: set ADMIN_TOKEN, or DATA_DIR to the demo data`,
      );
    }
  }
  const url = `${new URL(issuer).origin}/admin/clients/${encodeURIComponent(clientId)}`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const current = await fetch(url, { headers });
  if (!current.ok) throw new Error(`GET ${url}: ${current.status} ${await current.text()}`);
  const client = (await current.json()) as Record<string, unknown> & { redirect_uris: string[] };
  if (client.redirect_uris.includes(uri)) return;
  const updated = await fetch(url, {
    method: 'PUT',
    headers,
    body: JSON.stringify({ ...client, redirect_uris: [uri] }),
  });
  if (!updated.ok) throw new Error(`PUT ${url}: ${updated.status} ${await updated.text()}`);
  process.stdout.write(`Registered ${uri} as the redirect URI of ${clientId}\n`);
}

async function main(): Promise<void> {
  const issuer = await reachableIssuer('openid-configuration');
  const port = redirectPort();
  const dataDir = process.env.DATA_DIR ?? './data';
  const file = join(dataDir, 'demo-relying-party.json');
  let rp: DemoRelyingParty;
  try {
    rp = JSON.parse(readFileSync(file, 'utf8')) as DemoRelyingParty;
  } catch {
    throw new Error(`cannot read ${file}: set DATA_DIR to the data of a service started in demo mode`);
  }
  const redirect = new URL(rp.redirect_uri);
  redirect.port = String(port);
  const redirectUri = redirect.href;
  await ensureRedirect(issuer, dataDir, rp.client_id, redirectUri, redirectUri !== rp.redirect_uri);

  const key = (await importJWK(rp.private_jwk, rp.private_jwk.alg)) as webcrypto.CryptoKey;
  const config = await oidc.discovery(
    new URL(issuer),
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
    redirect_uri: redirectUri,
    scope: rp.scope,
    claims: JSON.stringify(rp.claims),
    acr_values: process.env.ACR ?? rp.acr_values,
    ui_locales: process.env.UI_LOCALES ?? 'en',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });

  const server = createServer(async (req, res) => {
    const callback = new URL(req.url ?? '/', redirectUri);
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
      process.exitCode = 1;
      res
        .writeHead(400, { 'content-type': 'text/plain; charset=utf-8' })
        .end(`login failed: ${(error as Error).message}`);
    } finally {
      server.close();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `cannot listen on ${redirect.host} (${error.code ?? error.message}): choose another REDIRECT_PORT`,
        ),
      ),
    );
    server.listen(port, redirect.hostname, resolve);
  });
  process.stdout.write(`Open this URL in a browser:\n\n  ${url.href}\n\nWaiting on ${redirectUri} ...\n`);
}

main().catch((error: unknown) => {
  // One line, no stack: the message says what was tried and what to do.
  process.stderr.write(`demo relying party failed: ${(error as Error).message}\n`);
  process.exit(1);
});
