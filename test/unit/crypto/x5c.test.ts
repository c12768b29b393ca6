import { webcrypto, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as x509 from '../../../src/credentials/x509/x509.ts';
import { x5cLeafKey } from '../../../src/crypto/x5c.ts';

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
// A fixed instant for the certificates and the check alike (no real clock involved).
const NOW = Date.UTC(2026, 0, 15);
const notBefore = new Date(NOW - 86_400_000);
const notAfter = new Date(NOW + 30 * 86_400_000);
const keys = async () =>
  (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;

async function chain(intermediateIsCa: boolean) {
  const rootKeys = await keys();
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=Root',
    keys: rootKeys,
    signingAlgorithm: alg,
    notBefore,
    notAfter,
    extensions: [new x509.BasicConstraintsExtension(true, 1, true)],
  });
  const midKeys = await keys();
  const mid = await x509.X509CertificateGenerator.create({
    subject: 'CN=Intermediate',
    issuer: root.subject,
    publicKey: midKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: alg,
    notBefore,
    notAfter,
    serialNumber: '02',
    extensions: [new x509.BasicConstraintsExtension(intermediateIsCa, undefined, true)],
  });
  const leafKeys = await keys();
  const leaf = await x509.X509CertificateGenerator.create({
    subject: 'CN=Leaf',
    issuer: mid.subject,
    publicKey: leafKeys.publicKey,
    signingKey: midKeys.privateKey,
    signingAlgorithm: alg,
    notBefore,
    notAfter,
    serialNumber: '03',
  });
  const der = (c: { rawData: ArrayBuffer }) => Buffer.from(c.rawData).toString('base64');
  return { x5c: [der(leaf), der(mid)], anchors: [new X509Certificate(Buffer.from(root.rawData))] };
}

const fail = (message: string) => new Error(message);

describe('x5c chains (RFC 7515 §4.1.6, RFC 5280 §4.2.1.9)', () => {
  it('returns the leaf key of a chain through a CA intermediate to an anchor', async () => {
    const { x5c, anchors } = await chain(true);
    expect(x5cLeafKey(x5c, anchors, NOW, 'the attestation', fail)).toMatchObject({ kty: 'EC', crv: 'P-256' });
  });

  it('refuses a chain whose issuing certificate is not a CA (basicConstraints cA false)', async () => {
    const { x5c, anchors } = await chain(false);
    expect(() => x5cLeafKey(x5c, anchors, NOW, 'the attestation', fail)).toThrow(
      'the certificate chain of the attestation is broken',
    );
  });

  it('refuses an untrusted anchor, an expired chain and malformed input', async () => {
    const { x5c } = await chain(true);
    const other = await chain(true);
    expect(() => x5cLeafKey(x5c, other.anchors, NOW, 'the attestation', fail)).toThrow('not trusted');
    const { anchors } = await chain(true);
    expect(() => x5cLeafKey(x5c, anchors, NOW + 60 * 86_400_000, 'the attestation', fail)).toThrow(
      'outside its validity period',
    );
    expect(() => x5cLeafKey([], anchors, NOW, 'the attestation', fail)).toThrow('non-empty array');
    expect(() => x5cLeafKey(['AAAA'], anchors, NOW, 'the attestation', fail)).toThrow('unreadable');
  });
});
