import type { JWK } from 'jose';

const PRIVATE_JWK_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']);

/** did:jwk (https://github.com/quartzjer/did-jwk/blob/main/spec.md): base64url of the public JWK's JSON. */
export function didJwkFromJwk(jwk: JWK): string {
  // Copied (without private members) only when there are any: a holder key normally has none.
  const hasPrivate = Object.keys(jwk).some((k) => PRIVATE_JWK_MEMBERS.has(k));
  const publicJwk = hasPrivate
    ? Object.fromEntries(Object.entries(jwk).filter(([k]) => !PRIVATE_JWK_MEMBERS.has(k)))
    : jwk;
  return `did:jwk:${Buffer.from(JSON.stringify(publicJwk), 'utf8').toString('base64url')}`;
}
