import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type JsonWebKey,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import type { MdocContext } from '@animo-id/mdoc';
import type { JWK } from 'jose';
import * as x509 from '../../src/credentials/x509/x509.ts';

const HASH = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' } as const;
const COSE_HASH: Record<string, string> = { ES256: 'sha256', ES384: 'sha384', ES512: 'sha512' };

function verifySignature(alg: string, jwk: JWK, data: Uint8Array, signature: Uint8Array): boolean {
  const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  if (alg === 'EdDSA') return verify(null, data, key, signature);
  return verify(COSE_HASH[alg]!, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
}

function signData(alg: string, jwk: JWK, data: Uint8Array): Uint8Array {
  const key = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
  if (alg === 'EdDSA') return sign(null, data, key);
  return sign(COSE_HASH[alg]!, data, { key, dsaEncoding: 'ieee-p1363' });
}

/**
 * The crypto and X.509 callbacks @animo-id/mdoc's Verifier (and DeviceResponse builder) need,
 * over node:crypto and @peculiar/x509. Test-only: it plays an independent mdoc verifier/wallet.
 * `now` is the verifier's clock for certificate validity (the library's chain callback gets no
 * date of its own): pass the issuer's test clock, never leave a fixed issuance instant to meet
 * the real one.
 */
export const mdocContext = (now: () => Date): MdocContext => ({
  crypto: {
    random: (length) => new Uint8Array(randomBytes(length)),
    digest: ({ digestAlgorithm, bytes }) =>
      new Uint8Array(createHash(HASH[digestAlgorithm]).update(bytes).digest()),
    calculateEphemeralMacKeyJwk: () => {
      throw new Error('MAC device authentication is not used in these tests');
    },
  },
  cose: {
    sign1: {
      sign: ({ sign1, jwk }) => {
        const { data, alg } = sign1.getRawSigningData();
        return signData(alg, jwk, data);
      },
      verify: ({ sign1, jwk }) => {
        const { data, alg, signature } = sign1.getRawVerificationData();
        return verifySignature(alg, jwk, data, signature);
      },
    },
    mac0: {
      sign: () => {
        throw new Error('not used');
      },
      verify: () => {
        throw new Error('not used');
      },
    },
  },
  x509: {
    getIssuerNameField: ({ certificate, field }) =>
      new x509.X509Certificate(certificate).issuerName.getField(field),
    getPublicKey: ({ certificate }) =>
      createPublicKey({
        key: Buffer.from(new x509.X509Certificate(certificate).publicKey.rawData),
        format: 'der',
        type: 'spki',
      }).export({
        format: 'jwk',
      }) as JWK,
    async validateCertificateChain({ trustedCertificates, x5chain }) {
      const leaf = new x509.X509Certificate(x5chain[0]);
      const anchors = trustedCertificates.map((der) => new x509.X509Certificate(der));
      const anchor = anchors.find((ca) => ca.subject === leaf.issuer);
      if (!anchor) throw new Error('no trust anchor issued the document signer certificate');
      if (!(await anchor.isSelfSigned())) throw new Error('trust anchor is not self-signed');
      const constraints = anchor.getExtension(x509.BasicConstraintsExtension);
      if (!constraints?.ca) throw new Error('trust anchor is not a CA');
      if (!(await leaf.verify({ publicKey: anchor.publicKey, date: now() }))) {
        throw new Error('document signer certificate signature or validity check failed');
      }
    },
    getCertificateData({ certificate }) {
      const cert = new x509.X509Certificate(certificate);
      return {
        issuerName: cert.issuer,
        subjectName: cert.subject,
        serialNumber: cert.serialNumber,
        thumbprint: createHash('sha1').update(Buffer.from(cert.rawData)).digest('hex'),
        notBefore: cert.notBefore,
        notAfter: cert.notAfter,
        pem: cert.toString('pem'),
      };
    },
  },
});

/** A presentation definition asking an mDL (ISO 18013-5 namespace) for these elements, disclosed only. */
export function mdlRequest(elements: readonly string[]) {
  return {
    id: 'mdl',
    input_descriptors: [
      {
        id: 'org.iso.18013.5.1.mDL',
        format: { mso_mdoc: { alg: ['ES256'] } },
        constraints: {
          limit_disclosure: 'required' as const,
          fields: elements.map((name) => ({
            path: [`$['org.iso.18013.5.1']['${name}']`],
            intent_to_retain: false,
          })),
        },
      },
    ],
  };
}
