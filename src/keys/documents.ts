import type { JSONWebKeySet, JWK } from 'jose';
import { publicKeyMultibase } from '../crypto/multikey.ts';
import type { KeyPurpose, KeyStore, ManagedKey } from './spi.ts';

/**
 * The documents verifiers use to find our public keys: the did:web DID document, the JWKS and the
 * SD-JWT VC issuer metadata. Pure functions of the public URL and the published keys.
 *
 * Verification method ids, for every published credential key:
 * - `<did>#<kid>`     type `Multikey` (publicKeyMultibase): the id Data Integrity proofs reference;
 * - `<did>#<kid>-jwk` type `JsonWebKey2020` (publicKeyJwk): for JOSE-based verifiers (a JWT `kid`
 *   header naming a DID URL), which commonly need a JWK;
 * - `<did>#<kid>-ed25519-2020` type `Ed25519VerificationKey2020` (publicKeyMultibase), Ed25519 keys
 *   only: the id Ed25519Signature2020 proofs reference. Verifiers that predate Multikey (the MOSIP
 *   vc-verifier behind Inji Verify) load a `publicKeyMultibase` only from a method of this type.
 */

export const DID_CONTEXTS = [
  'https://www.w3.org/ns/did/v1',
  'https://w3id.org/security/multikey/v1',
  'https://w3id.org/security/suites/jws-2020/v1',
  'https://w3id.org/security/suites/ed25519-2020/v1',
];

/** Public members of the JWK key types we use (RFC 7518 §6, RFC 8037 §2). Private ones never pass. */
const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const;

/** A copy holding only public key members, plus `kid`, `alg`, `use` when `withMetadata`. */
export function publicJwk(key: ManagedKey, withMetadata = true): JWK {
  const jwk: JWK = {};
  for (const member of PUBLIC_MEMBERS) if (key.publicJwk[member]) jwk[member] = key.publicJwk[member];
  return withMetadata ? { ...jwk, kid: key.kid, alg: key.alg, use: 'sig' } : jwk;
}

function parse(publicUrl: string): URL {
  const url = new URL(publicUrl);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`public URL ${publicUrl} is not an http(s) URL`);
  }
  return url;
}

const pathSegments = (url: URL) => url.pathname.split('/').filter(Boolean);

/**
 * did:web Method Specification §3.2 (Create), https://w3c-ccg.github.io/did-method-web/#create-register:
 * the host (its port percent-encoded as `%3A`), then each path segment, joined with `:`.
 */
export function didWebFromUrl(publicUrl: string): string {
  const url = parse(publicUrl);
  const host = url.port ? `${url.hostname}%3A${url.port}` : url.hostname;
  return ['did:web', host, ...pathSegments(url).map((s) => s.replaceAll(':', '%3A'))].join(':');
}

/**
 * did:web §3.3 (Read): `https://<host>/.well-known/did.json` for a bare domain, otherwise
 * `https://<host>/<path>/did.json`. The scheme is kept as configured (http for local development).
 */
export function didDocumentUrl(publicUrl: string): string {
  const url = parse(publicUrl);
  const segments = pathSegments(url);
  return segments.length === 0
    ? `${url.origin}/.well-known/did.json`
    : `${url.origin}/${segments.join('/')}/did.json`;
}

/** The id of the Multikey verification method of a credential key: `<did>#<kid>`. */
export function verificationMethodId(publicUrl: string, kid: string): string {
  return `${didWebFromUrl(publicUrl)}#${kid}`;
}

/** The id of the JsonWebKey2020 verification method of a credential key: `<did>#<kid>-jwk`. */
export function jwkVerificationMethodId(publicUrl: string, kid: string): string {
  return `${didWebFromUrl(publicUrl)}#${kid}-jwk`;
}

/**
 * The id of the Ed25519VerificationKey2020 verification method of an Ed25519 credential key:
 * `<did>#<kid>-ed25519-2020`.
 */
export function ed25519VerificationKey2020Id(publicUrl: string, kid: string): string {
  return `${didWebFromUrl(publicUrl)}#${kid}-ed25519-2020`;
}

const isEd25519 = (key: ManagedKey) => key.publicJwk.kty === 'OKP' && key.publicJwk.crv === 'Ed25519';

/**
 * The Ed25519VerificationKey2020 method of an Ed25519 key (Ed25519 Signature 2020, W3C CCG,
 * https://w3c-ccg.github.io/lds-ed25519-2020/#ed25519verificationkey2020): its
 * `publicKeyMultibase` is base58btc of the ed25519-pub multicodec header (0xed 0x01) and the
 * 32-byte key, the same bytes as the key's Multikey encoding.
 */
function ed25519VerificationKey2020(key: ManagedKey, publicUrl: string, controller: string) {
  return {
    id: ed25519VerificationKey2020Id(publicUrl, key.kid),
    type: 'Ed25519VerificationKey2020',
    controller,
    publicKeyMultibase: publicKeyMultibase(key.publicJwk),
  };
}

/**
 * The did:web DID document listing every published credential key as a Multikey and a JWK, and
 * each Ed25519 key also as an Ed25519VerificationKey2020.
 */
export function didDocument(keys: readonly ManagedKey[], publicUrl: string): Record<string, unknown> {
  const id = didWebFromUrl(publicUrl);
  const methods = keys.flatMap((key) => [
    {
      id: verificationMethodId(publicUrl, key.kid),
      type: 'Multikey',
      controller: id,
      publicKeyMultibase: publicKeyMultibase(key.publicJwk),
    },
    {
      id: jwkVerificationMethodId(publicUrl, key.kid),
      type: 'JsonWebKey2020',
      controller: id,
      publicKeyJwk: publicJwk(key, false),
    },
    ...(isEd25519(key) ? [ed25519VerificationKey2020(key, publicUrl, id)] : []),
  ]);
  const ids = methods.map((method) => method.id);
  return {
    '@context': DID_CONTEXTS,
    id,
    verificationMethod: methods,
    authentication: ids,
    assertionMethod: ids,
  };
}

function jwks(keys: KeyStore, purpose: KeyPurpose): JSONWebKeySet {
  return { keys: keys.published(purpose).map((key) => publicJwk(key)) };
}

/** JWKS of the published credential keys (active first, then retired ones still published). */
export function credentialJwks(keys: KeyStore): JSONWebKeySet {
  return jwks(keys, 'credential');
}

/** JWKS of the published OIDC keys (ID token, userinfo and JARM signatures). */
export function oidcJwks(keys: KeyStore): JSONWebKeySet {
  return jwks(keys, 'oidc');
}

/**
 * SD-JWT VC issuer metadata (draft-ietf-oauth-sd-jwt-vc §5,
 * https://datatracker.ietf.org/doc/draft-ietf-oauth-sd-jwt-vc/): `issuer` must equal the `iss` of
 * the SD-JWT VCs; `jwks` is given by value.
 */
export function jwtVcIssuerMetadata(
  publicUrl: string,
  keys: KeyStore,
): { issuer: string; jwks: JSONWebKeySet } {
  return { issuer: publicUrl, jwks: credentialJwks(keys) };
}

/**
 * Where this service serves the key documents, as request paths on its own origin:
 * - DID document: did:web §3.3 (see `didDocumentUrl`);
 * - SD-JWT VC issuer metadata: `/.well-known/jwt-vc-issuer` inserted between the host and the
 *   issuer's path (draft-ietf-oauth-sd-jwt-vc §5.1);
 * - credential JWKS: `<issuer path>/jwks/credentials`.
 */
export function keyDocumentPaths(publicUrl: string): {
  didDocument: string;
  jwtVcIssuer: string;
  credentialJwks: string;
} {
  const url = parse(publicUrl);
  const path = pathSegments(url)
    .map((s) => `/${s}`)
    .join('');
  return {
    didDocument: new URL(didDocumentUrl(publicUrl)).pathname,
    jwtVcIssuer: `/.well-known/jwt-vc-issuer${path}`,
    credentialJwks: `${path}/jwks/credentials`,
  };
}

/** Absolute URL of the credential JWKS. */
export function credentialJwksUrl(publicUrl: string): string {
  return `${parse(publicUrl).origin}${keyDocumentPaths(publicUrl).credentialJwks}`;
}
