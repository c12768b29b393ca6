/**
 * `npm run demo:wallet`: a wallet library (@openid4vc/openid4vci, OpenID4VCI 1.0) against a running
 * service (`npm start`). It reads the admin token from `$DATA_DIR/admin-token`, creates an offer for
 * a demo identity, reads the tx_code from the development outbox (GET /admin/outbox) as the person
 * would read their SMS, runs the pre-authorized code flow, then prints the credential and what an
 * independent verifier (@digitalbazaar/vc, issuer key from the published did:web document) says.
 *
 * Options (environment): ISSUER_URL (default http://127.0.0.1:3000), DATA_DIR (default ./data),
 * INDIVIDUAL_ID (default: the first demo identity), CONFIGURATION (default NationalIdCredential_ldp_vc).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clientAuthenticationAnonymous, clientAuthenticationNone, type JwtSigner } from '@openid4vc/oauth2';
import { Openid4vciClient } from '@openid4vc/openid4vci';
import { setGlobalConfig } from '@openid4vc/utils';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

export interface WalletKey {
  publicJwk: JWK;
  privateKey: PrivateKey;
  alg: 'ES256' | 'EdDSA';
}

export async function newWalletKey(alg: 'ES256' | 'EdDSA' = 'ES256'): Promise<WalletKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519' } : {});
  return { publicJwk: await exportJWK(publicKey), privateKey, alg };
}

/** The wallet library with jose-backed callbacks; keys are looked up by the public JWK the library hands back. */
export function walletClient(keys: WalletKey[], options: { clientId?: string } = {}): Openid4vciClient {
  // Our issuer runs on http://127.0.0.1 in tests and the demo; production issuers are https.
  setGlobalConfig({ allowInsecureUrls: true });
  const byX = new Map(keys.map((k) => [k.publicJwk.x, k]));
  return new Openid4vciClient({
    callbacks: {
      fetch,
      hash: (data, alg) => createHash(alg.replace('-', '')).update(data).digest(),
      generateRandom: (length) => randomBytes(length),
      // Pre-authorized code: anonymous; authorization code: a public client (PKCE, no secret).
      clientAuthentication: options.clientId
        ? clientAuthenticationNone({ clientId: options.clientId })
        : clientAuthenticationAnonymous(),
      async signJwt(signer: JwtSigner, { header, payload }) {
        if (signer.method !== 'jwk')
          throw new Error(`demo wallet signs with jwk keys only, not ${signer.method}`);
        const key = byX.get(signer.publicJwk.x);
        if (!key) throw new Error('unknown wallet key');
        const jwt = await new SignJWT(payload as Record<string, unknown>)
          .setProtectedHeader(header as { alg: string })
          .sign(key.privateKey);
        return { jwt, signerJwk: signer.publicJwk };
      },
    },
  });
}

export interface WalletResult {
  credentials: unknown[];
  notificationId?: string;
  accessToken: string;
  issuerMetadata: Awaited<ReturnType<Openid4vciClient['resolveIssuerMetadata']>>;
}

/** The pre-authorized code flow from an offer URL (by value or by reference), one credential per key. */
export async function receiveFromOffer(options: {
  offerUrl: string;
  txCode?: string;
  keys: WalletKey[];
  configurationId?: string;
}): Promise<WalletResult> {
  const client = walletClient(options.keys);
  const credentialOffer = await client.resolveCredentialOffer(options.offerUrl);
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer,
    issuerMetadata,
    ...(options.txCode ? { txCode: options.txCode } : {}),
  });
  const credentialConfigurationId =
    options.configurationId ?? credentialOffer.credential_configuration_ids[0]!;
  const { c_nonce } = await client.requestNonce({ issuerMetadata });
  const jwts: string[] = [];
  for (const key of options.keys) {
    const { jwt } = await client.createCredentialRequestJwtProof({
      issuerMetadata,
      credentialConfigurationId,
      nonce: c_nonce,
      signer: { method: 'jwk', publicJwk: key.publicJwk as never, alg: key.alg },
    });
    jwts.push(jwt);
  }
  const response = await client.retrieveCredentials({
    issuerMetadata,
    accessToken: accessTokenResponse.access_token,
    credentialConfigurationId,
    proofs: { jwt: jwts },
  });
  const body = response.credentialResponse as {
    credentials?: { credential: unknown }[];
    notification_id?: string;
  };
  return {
    credentials: (body.credentials ?? []).map((c) => c.credential),
    ...(body.notification_id ? { notificationId: body.notification_id } : {}),
    accessToken: accessTokenResponse.access_token,
    issuerMetadata,
  };
}

async function main(): Promise<void> {
  const issuer = (process.env.ISSUER_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
  const dataDir = process.env.DATA_DIR ?? './data';
  const configuration = process.env.CONFIGURATION ?? 'NationalIdCredential_ldp_vc';
  let adminToken: string;
  try {
    adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  } catch {
    throw new Error(
      `cannot read ${join(dataDir, 'admin-token')}: start the service in demo mode first (npm start)`,
    );
  }
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${issuer}/admin${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await res.json()) as Record<string, any>;
    if (!res.ok) throw new Error(`${method} /admin${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

  let individualId = process.env.INDIVIDUAL_ID;
  let email: string | undefined;
  if (!individualId) {
    const list = await admin('GET', '/identities?limit=1');
    const first = list.identities?.[0] ?? list.items?.[0];
    if (!first) throw new Error('no identity found: is the service in demo mode?');
    individualId = first.individual_id as string;
    email = first.claims?.email as string | undefined;
  }
  console.log(
    `1. Creating an offer of ${configuration} for individual ${individualId} (tx_code by e-mail/SMS)`,
  );
  const offer = await admin('POST', '/credential-offers', {
    credential_configuration_ids: [configuration],
    individual_id: individualId,
    tx_code: true,
  });
  console.log(`   offer URL: ${offer.credential_offer_uri_url}`);
  console.log(`   tx_code sent to ${offer.tx_code_sent_to}`);

  const outbox = await admin('GET', `/outbox${email ? `?to=${encodeURIComponent(email)}` : ''}`);
  const message = (outbox.messages as { purpose: string; text: string }[]).find(
    (m) => m.purpose === 'tx_code',
  );
  const txCode = message ? /\b(\d{4,12})\b/.exec(message.text)?.[1] : undefined;
  if (!txCode) throw new Error('no tx_code found in /admin/outbox');
  console.log(`2. The person reads the tx_code from their messages: ${txCode}`);

  const key = await newWalletKey('ES256');
  console.log(
    '3. Wallet: resolve offer → issuer metadata → token (pre-authorized code + tx_code) → nonce → credential',
  );
  const result = await receiveFromOffer({
    offerUrl: offer.credential_offer_uri_url,
    txCode,
    keys: [key],
    configurationId: configuration,
  });
  const credential = result.credentials[0];
  console.log('4. Credential:');
  console.log(typeof credential === 'string' ? credential : JSON.stringify(credential, null, 2));

  if (credential && typeof credential === 'object') {
    const { verifyLdpVc } = await import('../test/interop/verifiers.ts');
    // The demo service runs on the real clock, so the verifier does too.
    const verdict = await verifyLdpVc(credential as Record<string, unknown>, issuer, new Date());
    console.log(
      `5. Independent verification (@digitalbazaar/vc, key from the did:web document, status list over HTTP): ${verdict.verified ? 'VERIFIED' : `FAILED ${String(verdict.error)}`}${verdict.revoked ? ' (revoked)' : ''}`,
    );
    if (!verdict.verified) process.exitCode = 1;
  } else if (typeof credential === 'string' && configuration.endsWith('_jwt_vc_json')) {
    const { verifyJwtVc } = await import('../test/interop/verifiers.ts');
    await verifyJwtVc(credential, issuer, new Date());
    console.log(
      '5. Independent verification (jose, key from the did:web document or the credential JWKS): VERIFIED',
    );
  } else if (typeof credential === 'string') {
    console.log(
      '5. (SD-JWT VC / mdoc: verify against /.well-known/jwt-vc-issuer or the IACA at /.well-known/iaca.pem)',
    );
  }
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(`demo wallet failed: ${(error as Error).message}`);
    process.exit(1);
  });
}
