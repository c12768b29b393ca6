import { createPrivateKey, type KeyObject, randomBytes, webcrypto } from 'node:crypto';
import { crlUrl } from './urls.ts';
import * as x509 from './x509.ts';

/**
 * The certificates of the mdoc issuer chain (ISO/IEC 18013-5 Annex B), as pure builders: the
 * self-signed IACA and the signer certificates it issues (an mdoc document signer, or a signer of
 * JOSE credentials for the issuer URL).
 */

/** ISO/IEC 18013-5 B.1.2: extended key usage of a document signer (id-mdl-kp-mdlDS). */
const MDL_DS_EKU = '1.0.18013.5.1.2';
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
export const DAY_MS = 86_400_000;

/** `mdoc`: an ISO 18013-5 document signer; `jose`: a signer of JOSE credentials for this issuer URL. */
export type SignerProfile = 'mdoc' | 'jose';

export interface ChainNames {
  /** ISO 3166-1 alpha-2 country of the issuing authority. */
  country: string;
  serviceName: string;
  /** The issuer's public URL: the issuer alternative name of every certificate. */
  publicUrl: string;
}

const serial = (): string => {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01; // positive, and no leading zero byte to trim
  return bytes.toString('hex');
};

export const toCryptoKey = (key: KeyObject, usages: ('sign' | 'verify')[]): Promise<webcrypto.CryptoKey> =>
  Promise.resolve(key.toCryptoKey(EC, true, usages));

const issuerAltName = (publicUrl: string) =>
  new x509.IssuerAlternativeNameExtension([{ type: 'url', value: publicUrl }]);
// ISO/IEC 18013-5 B.1: IACA and signer certificates name where their revocation list is.
const crlDistributionPoints = (publicUrl: string) =>
  new x509.CRLDistributionPointsExtension([crlUrl(publicUrl)]);

/** A fresh self-signed IACA with its P-256 private key. */
export async function createIacaCertificate(
  names: ChainNames,
  now: number,
  validityDays: number,
): Promise<{ cert: x509.X509Certificate; privateKey: KeyObject }> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: [{ C: [names.country] }, { CN: [`${names.serviceName} IACA`] }],
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + validityDays * DAY_MS),
    signingAlgorithm: SIGNING,
    keys: keys,
    extensions: [
      // ISO/IEC 18013-5 Table B.1: CA, path length 0 (it signs DS certificates only), critical.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      issuerAltName(names.publicUrl),
      crlDistributionPoints(names.publicUrl),
    ],
  });
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { cert, privateKey: createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' }) };
}

/** A signer certificate of a profile for a P-256 public key, issued by the IACA. */
export async function createSignerCertificate(
  names: ChainNames,
  ca: { cert: x509.X509Certificate; privateKey: KeyObject },
  subjectKey: KeyObject,
  profile: SignerProfile,
  now: number,
  validityDays: number,
): Promise<x509.X509Certificate> {
  const notAfter = Math.min(now + validityDays * DAY_MS, ca.cert.notAfter.getTime());
  const publicKey = await toCryptoKey(subjectKey, ['verify']);
  return x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: [
      { C: [names.country] },
      { CN: [`${names.serviceName} ${profile === 'mdoc' ? 'Document Signer' : 'Credential Signer'}`] },
    ],
    issuer: ca.cert.subjectName,
    // Backdated a day: mdoc `validityInfo.signed` is rounded down and must fall inside the DS validity.
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(notAfter),
    signingAlgorithm: SIGNING,
    publicKey: publicKey,
    signingKey: await toCryptoKey(ca.privateKey, ['sign']),
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      profile === 'mdoc'
        ? new x509.ExtendedKeyUsageExtension([MDL_DS_EKU], true)
        : new x509.SubjectAlternativeNameExtension([
            { type: 'url', value: names.publicUrl },
            { type: 'dns', value: new URL(names.publicUrl).hostname },
          ]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert, false),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      issuerAltName(names.publicUrl),
      crlDistributionPoints(names.publicUrl),
    ],
  });
}
