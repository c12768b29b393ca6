import type { JWK } from 'jose';

/**
 * did:web from the public URL (https://w3c-ccg.github.io/did-method-web/ §3.2): host (port
 * percent-encoded as `%3A`) then path segments joined by `:`.
 * TODO(key store): switch to `didWebFromUrl` from src/keys/documents.ts once it lands; both must agree.
 */
export function didWebFromPublicUrl(publicUrl: string): string {
  const url = new URL(publicUrl);
  const segments = url.pathname.split('/').filter((s) => s.length > 0);
  return ['did:web', encodeURIComponent(url.host), ...segments.map(encodeURIComponent)].join(':');
}

/** `<did>#<kid>`: the verification method id of a credential key in our DID document. */
export const verificationMethodIdFor = (did: string, kid: string): string => `${did}#${kid}`;

const PRIVATE_JWK_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']);

/** did:jwk (https://github.com/quartzjer/did-jwk/blob/main/spec.md): base64url of the public JWK's JSON. */
export function didJwkFromJwk(jwk: JWK): string {
  const publicJwk = Object.fromEntries(Object.entries(jwk).filter(([k]) => !PRIVATE_JWK_MEMBERS.has(k)));
  return `did:jwk:${Buffer.from(JSON.stringify(publicJwk), 'utf8').toString('base64url')}`;
}
