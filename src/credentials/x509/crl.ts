import type { KeyObject } from 'node:crypto';
import { DAY_MS, SIGNING, toCryptoKey } from './certificates.ts';
import * as x509 from './x509.ts';

/** The IACA's certificate revocation list (RFC 5280 §5), as DER. */

/** id-ce-cRLNumber (RFC 5280 §5.2.3). */
const CRL_NUMBER = '2.5.29.20';

/** DER INTEGER of a non-negative safe integer. */
function derInteger(value: number): Uint8Array {
  const bytes: number[] = [];
  for (let v = value; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  if (bytes.length === 0 || bytes[0]! >= 0x80) bytes.unshift(0);
  return new Uint8Array([0x02, bytes.length, ...bytes]);
}

export interface CrlEntry {
  serialNumber: string;
  revokedAt: number;
  reason: x509.X509CrlReason;
}

/** A CRL signed by the IACA, valid for 7 days from `now`, with cRLNumber `number`. */
export async function signCrl(
  ca: { cert: x509.X509Certificate; privateKey: KeyObject },
  entries: CrlEntry[],
  now: number,
  number: number,
): Promise<Uint8Array> {
  const signed = await x509.X509CrlGenerator.create({
    issuer: ca.cert.subjectName,
    thisUpdate: new Date(now),
    nextUpdate: new Date(now + 7 * DAY_MS),
    signingAlgorithm: SIGNING,
    signingKey: await toCryptoKey(ca.privateKey, ['sign']),
    entries: entries.map((e) => ({
      serialNumber: e.serialNumber,
      revocationDate: new Date(e.revokedAt),
      reason: e.reason,
    })),
    extensions: [
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert, false),
      // RFC 5280 §5.2.3 cRLNumber: monotonically increasing; the signing time in seconds is
      // (and a CRL re-signed within the same second as a revocation gets the next number).
      new x509.Extension(CRL_NUMBER, false, derInteger(number)),
    ],
  });
  return new Uint8Array(signed.rawData);
}
