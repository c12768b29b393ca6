/**
 * `npm run demo:wallet`: a wallet library (@openid4vc/openid4vci, OpenID4VCI 1.0) against a running
 * service (`npm start`). It reads the admin token (`ADMIN_TOKEN`, else `$DATA_DIR/admin-token`),
 * creates an offer for a demo identity, reads the tx_code from the development outbox
 * (GET /admin/outbox) as the person would read their SMS, runs the pre-authorized code flow, then
 * prints the credential and what an independent verifier says, per format:
 * - ldp_vc: @digitalbazaar/vc, issuer key from the published did:web document, status list over HTTP;
 * - jwt_vc_json: jose, key from the did:web document or the credential JWKS;
 * - dc+sd-jwt: @sd-jwt/sd-jwt-vc, keys from /.well-known/jwt-vc-issuer, Token Status List over HTTP;
 * - mso_mdoc: the @animo-id/mdoc verifier, IssuerSigned checked up to the IACA at /.well-known/iaca.pem.
 * It prints VERIFIED, or exits with code 1.
 *
 * Options (environment): ISSUER_URL (default http://127.0.0.1:3000), ADMIN_TOKEN (default: read
 * from $DATA_DIR/admin-token), DATA_DIR (default ./data), INDIVIDUAL_ID (default: the first demo
 * identity), CONFIGURATION (default NationalIdCredential_ldp_vc).
 */
import {
  createHash,
  createPublicKey,
  type JsonWebKey,
  randomBytes,
  verify,
  X509Certificate,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clientAuthenticationAnonymous, clientAuthenticationNone, type JwtSigner } from '@openid4vc/oauth2';
import { Openid4vciClient } from '@openid4vc/openid4vci';
import { setGlobalConfig } from '@openid4vc/utils';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { reachableIssuer } from './issuer-url.ts';

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

function adminTokenFrom(dataDir: string): string {
  if (process.env.ADMIN_TOKEN) return process.env.ADMIN_TOKEN;
  try {
    return readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  } catch {
    throw new Error(
      `cannot read ${join(dataDir, 'admin-token')}: set ADMIN_TOKEN, or DATA_DIR to the service's demo data (npm start in demo mode)`,
    );
  }
}

const b64json = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

/**
 * SD-JWT VC as a verifier would check it (SD-JWT VC §3.5 "JWT VC Issuer Metadata"): the issuer's
 * keys from `/.well-known/jwt-vc-issuer` (inserted after the host), the signature, disclosures,
 * validity at `now`, and the Token Status List over HTTP (signed with the same keys).
 */
export async function verifySdJwtVc(sdJwt: string, now: Date): Promise<Record<string, unknown>> {
  const { SDJwtVcInstance } = await import('@sd-jwt/sd-jwt-vc');
  const iss = String(b64json(sdJwt.split('~')[0]!.split('.')[1]!).iss);
  const url = new URL(iss);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '');
  const metadataUrl = `${url.origin}/.well-known/jwt-vc-issuer${path}`;
  const res = await fetch(metadataUrl);
  if (!res.ok) throw new Error(`GET ${metadataUrl}: ${res.status}`);
  const metadata = (await res.json()) as {
    issuer: string;
    jwks?: { keys: (JsonWebKey & { kid?: string })[] };
  };
  if (metadata.issuer !== iss) throw new Error(`${metadataUrl} names issuer ${metadata.issuer}, not ${iss}`);
  const verifier = async (data: string, signature: string): Promise<boolean> => {
    const [header, payload] = data.split('.').map(b64json) as [
      Record<string, unknown>,
      Record<string, unknown>,
    ];
    if (payload.iss !== metadata.issuer) return false;
    const jwk = metadata.jwks?.keys.find((key) => key.kid === header.kid);
    if (!jwk) return false;
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    const sig = Buffer.from(signature, 'base64url');
    return header.alg === 'EdDSA'
      ? verify(null, Buffer.from(data), key, sig)
      : verify('sha256', Buffer.from(data), { key, dsaEncoding: 'ieee-p1363' }, sig);
  };
  const instance = new SDJwtVcInstance({
    verifier,
    hasher: (data, alg) => {
      if (alg !== 'sha-256') throw new Error(`unexpected _sd_alg ${alg}`);
      return createHash('sha256')
        .update(typeof data === 'string' ? data : new Uint8Array(data))
        .digest();
    },
  });
  const { payload } = await instance.verify(sdJwt, { currentDate: Math.floor(now.getTime() / 1000) });
  return payload as Record<string, unknown>;
}

/**
 * mdoc IssuerSigned as a verifier would check it (ISO/IEC 18013-5 §9.3): the MSO signature, the
 * document signer certificate up to the IACA published at `/.well-known/iaca.pem`, validity at
 * `now`, and every disclosed element's digest. Returns the checks that failed (none: verified).
 */
export async function verifyMdoc(encoded: string, doctype: string, issuer: string, now: Date) {
  const { parseIssuerSigned, Verifier } = await import('@animo-id/mdoc');
  const { mdocContext } = await import('../test/helpers/mdoc-context.ts');
  const res = await fetch(`${issuer}/.well-known/iaca.pem`);
  if (!res.ok) throw new Error(`GET ${issuer}/.well-known/iaca.pem: ${res.status}`);
  const iaca = new X509Certificate(await res.text());
  const context = mdocContext(() => now);
  const document = parseIssuerSigned(Buffer.from(encoded, 'base64url'), doctype);
  const checks: { status: string; check: string; reason?: string }[] = [];
  const onCheckG = (check: { status: string; check: string; reason?: string }) => checks.push(check);
  const verifier = new Verifier();
  await verifier.verifyIssuerSignature(
    {
      trustedCertificates: [new Uint8Array(iaca.raw)],
      issuerAuth: document.issuerSigned.issuerAuth,
      now,
      disableCertificateChainValidation: false,
      onCheckG,
    },
    context,
  );
  await verifier.verifyData({ mdoc: document, onCheckG }, context);
  return { checks, failed: checks.filter((check) => check.status === 'FAILED') };
}

async function main(): Promise<void> {
  const issuer = await reachableIssuer('openid-credential-issuer');
  const dataDir = process.env.DATA_DIR ?? './data';
  const configuration = process.env.CONFIGURATION ?? 'NationalIdCredential_ldp_vc';
  const adminToken = adminTokenFrom(dataDir);
  // The admin API stays at the host root whatever path the public URL has.
  const adminBase = `${new URL(issuer).origin}/admin`;
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${adminBase}${path}`, {
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

  // The demo service runs on the real clock, so the verifiers do too.
  const now = new Date();
  const supported = result.issuerMetadata.credentialIssuer.credential_configurations_supported[
    configuration
  ] as unknown as { format?: string; doctype?: string } | undefined;
  const format = supported?.format;
  const verified = (how: string) => console.log(`5. Independent verification (${how}): VERIFIED`);
  if (credential === undefined) {
    throw new Error('the credential response held no credential');
  } else if (format === 'ldp_vc') {
    const { verifyLdpVc } = await import('../test/interop/verifiers.ts');
    const verdict = await verifyLdpVc(credential as Record<string, unknown>, issuer, now);
    if (!verdict.verified || verdict.revoked) {
      throw new Error(`verification FAILED: ${verdict.revoked ? 'revoked' : String(verdict.error)}`);
    }
    verified('@digitalbazaar/vc, key from the did:web document, status list over HTTP');
  } else if (format === 'jwt_vc_json') {
    const { verifyJwtVc } = await import('../test/interop/verifiers.ts');
    await verifyJwtVc(String(credential), issuer, now);
    verified('jose, key from the did:web document or the credential JWKS');
  } else if (format === 'dc+sd-jwt' || format === 'vc+sd-jwt') {
    const payload = await verifySdJwtVc(String(credential), now);
    console.log(
      `   disclosed claims: ${Object.keys(payload)
        .filter((k) => !k.startsWith('_'))
        .join(', ')}`,
    );
    verified('@sd-jwt/sd-jwt-vc, keys from /.well-known/jwt-vc-issuer, Token Status List over HTTP');
  } else if (format === 'mso_mdoc') {
    const doctype = String(supported?.doctype);
    const { checks, failed } = await verifyMdoc(String(credential), doctype, issuer, now);
    if (failed.length > 0 || checks.length === 0) {
      throw new Error(
        `verification FAILED: ${failed.map((c) => `${c.check}${c.reason ? ` (${c.reason})` : ''}`).join('; ') || 'no checks ran'}`,
      );
    }
    verified(
      `@animo-id/mdoc, ${checks.length} checks, document signer certificate up to /.well-known/iaca.pem`,
    );
  } else {
    throw new Error(`no verifier for format ${String(format)} of ${configuration}`);
  }
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    // One line, no stack: the message says what was tried and what to do.
    console.error(`demo wallet failed: ${(error as Error).message}`);
    process.exit(1);
  });
}
