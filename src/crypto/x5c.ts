import { X509Certificate } from 'node:crypto';
import type { JWK } from 'jose';

/**
 * An `x5c` chain (RFC 7515 §4.1.6) checked against configured trust anchors: leaf first, each
 * certificate issued and signed by the next, every issuing certificate a CA (RFC 5280 §4.2.1.9
 * basicConstraints cA), the last issued by (or equal to) an anchor, all within their validity at
 * `now`. Returns the leaf's public key. `what` names the JWT in the refusal (e.g. "the key
 * attestation"); `fail` makes the caller's protocol error from the message.
 */
export function x5cLeafKey(
  x5c: unknown,
  anchors: readonly X509Certificate[],
  now: number,
  what: string,
  fail: (message: string) => Error,
): JWK {
  if (!Array.isArray(x5c) || x5c.length === 0 || x5c.some((c) => typeof c !== 'string'))
    throw fail(`${what} x5c must be a non-empty array of certificates`);
  let chain: X509Certificate[];
  try {
    chain = (x5c as string[]).map((c) => new X509Certificate(Buffer.from(c, 'base64')));
  } catch {
    throw fail(`${what} x5c holds an unreadable certificate`);
  }
  if (chain.some((cert) => Date.parse(cert.validFrom) > now || Date.parse(cert.validTo) < now))
    throw fail(`a certificate of ${what} is outside its validity period`);
  for (let i = 0; i < chain.length - 1; i++) {
    const issuer = chain[i + 1]!;
    if (!issuer.ca || !chain[i]!.checkIssued(issuer) || !chain[i]!.verify(issuer.publicKey))
      throw fail(`the certificate chain of ${what} is broken`);
  }
  const last = chain.at(-1)!;
  const anchored = anchors.some(
    (ca) => last.fingerprint256 === ca.fingerprint256 || (last.checkIssued(ca) && last.verify(ca.publicKey)),
  );
  if (!anchored) throw fail(`the issuer of ${what} is not trusted`);
  return chain[0]!.publicKey.export({ format: 'jwk' }) as JWK;
}
