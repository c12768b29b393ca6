import type { JWK } from 'jose';

const PRIVATE_JWK_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']);

/** did:jwk (https://github.com/quartzjer/did-jwk/blob/main/spec.md): base64url of the public JWK's JSON. */
export function didJwkFromJwk(jwk: JWK): string {
  const publicJwk = Object.fromEntries(Object.entries(jwk).filter(([k]) => !PRIVATE_JWK_MEMBERS.has(k)));
  return `did:jwk:${Buffer.from(JSON.stringify(publicJwk), 'utf8').toString('base64url')}`;
}
