import { gunzipSync } from 'node:zlib';
import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import { cryptosuite as ecdsaRdfc2019 } from '@digitalbazaar/ecdsa-rdfc-2019-cryptosuite';
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as vc from '@digitalbazaar/vc';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, importJWK, type JWK, jwtVerify } from 'jose';
import { request } from 'undici';
import { createDocumentLoader, type JsonLdObject } from '../../src/credentials/jsonld/document-loader.ts';

/**
 * Independent verifiers, as a relying party would run them: the issuer's keys come only from what
 * the service publishes over HTTP (the did:web document, the credential JWKS), status from the
 * published status list. Nothing is read from the issuer's process.
 */

const fetchJson = async (url: string) => {
  const res = await request(url);
  if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode}`);
  return (await res.body.json()) as JsonLdObject;
};

/** did:web → https URL (did:web §3.3), over http for 127.0.0.1. */
function didWebUrl(did: string): string {
  const [host, ...path] = did.slice('did:web:'.length).split(':').map(decodeURIComponent);
  return path.length === 0
    ? `http://${host}/.well-known/did.json`
    : `http://${host}/${path.join('/')}/did.json`;
}

/** Bitstring Status List check over HTTP (https://www.w3.org/TR/vc-bitstring-status-list/#validate-algorithm). */
async function statusBit(
  entry: JsonLdObject,
  loader: ReturnType<typeof createDocumentLoader>,
  now: Date,
): Promise<number> {
  const list = await fetchJson(String(entry.statusListCredential));
  const verified = await vc.verifyCredential({
    credential: list,
    suite: suites(),
    documentLoader: loader,
    now,
  });
  if (!verified.verified) throw new Error('status list credential does not verify');
  const encoded = String((list.credentialSubject as JsonLdObject).encodedList);
  const bits = gunzipSync(Buffer.from(encoded.slice(1), 'base64url'));
  const index = Number(entry.statusListIndex);
  return (bits[Math.floor(index / 8)]! >> (7 - (index % 8))) & 1;
}

const suites = () => [
  new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 }),
  new DataIntegrityProof({ cryptosuite: ecdsaRdfc2019 }),
];

/**
 * Verifies an ldp_vc with @digitalbazaar/vc, resolving the issuer DID document over HTTP. `now` is
 * the verifier's clock for validity periods (of the credential and of its status list): pass the
 * issuer's injected clock, so a test that moved it never meets the real one.
 */
export async function verifyLdpVc(
  credential: JsonLdObject,
  publicUrl: string,
  now: Date,
): Promise<{ verified: boolean; revoked?: boolean; error?: unknown }> {
  const issuer =
    typeof credential.issuer === 'string'
      ? credential.issuer
      : String((credential.issuer as JsonLdObject).id);
  const didDoc = await fetchJson(didWebUrl(issuer));
  const loader = createDocumentLoader({
    publicUrl,
    resolveDid: (did) => (did === issuer ? didDoc : undefined),
  });
  let revoked = false;
  const result = await vc.verifyCredential({
    credential,
    suite: suites(),
    documentLoader: loader,
    now,
    checkStatus: async ({ credential: c }: { credential: JsonLdObject }) => {
      const raw = c.credentialStatus;
      for (const entry of (Array.isArray(raw) ? raw : [raw]) as JsonLdObject[]) {
        if ((await statusBit(entry, loader, now)) === 1) revoked = true;
      }
      return revoked ? { verified: false, error: new Error('revoked') } : { verified: true };
    },
  });
  return { verified: result.verified, revoked, ...(result.error ? { error: result.error } : {}) };
}

/**
 * Verifies a JWT-secured credential: a `kid` that is a did:web DID URL is resolved through the
 * published DID document (its JsonWebKey verification method), any other `kid` through the
 * published credential JWKS. `now` is the verifier's clock, as for `verifyLdpVc`.
 */
export async function verifyJwtVc(jwt: string, publicUrl: string, now: Date) {
  const { kid } = decodeProtectedHeader(jwt);
  let key: Parameters<typeof jwtVerify>[1];
  if (kid?.startsWith('did:web:')) {
    const did = kid.split('#')[0]!;
    const doc = await fetchJson(didWebUrl(did));
    const methods = (doc.verificationMethod ?? []) as JsonLdObject[];
    const method =
      methods.find((m) => m.id === kid && m.publicKeyJwk) ?? methods.find((m) => m.id === `${kid}-jwk`);
    if (!method?.publicKeyJwk) throw new Error(`no JWK verification method ${kid} in the DID document`);
    key = await importJWK(method.publicKeyJwk as JWK, decodeProtectedHeader(jwt).alg);
  } else {
    key = createLocalJWKSet((await fetchJson(`${publicUrl}/jwks/credentials`)) as never);
  }
  const { payload, protectedHeader } = await jwtVerify(jwt, key as never, { currentDate: now });
  return { payload, protectedHeader, claims: decodeJwt(jwt) };
}
