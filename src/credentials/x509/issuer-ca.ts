import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import type { ManagedKey } from '../../keys/spi.ts';
import { type Collection, type Store, type StoredDoc, UniqueViolation } from '../../store/spi.ts';
import {
  type ChainNames,
  createIacaCertificate,
  createSignerCertificate,
  DAY_MS,
  type SignerProfile,
} from './certificates.ts';
import { signCrl as signCrlDer } from './crl.ts';
import { type SealedKey, sealKey, unsealKey } from './sealed-key.ts';
import * as x509 from './x509.ts';

/**
 * The mdoc issuer certificate chain (ISO/IEC 18013-5 Annex B): an issuing authority CA (IACA,
 * self-signed, with the issuing country) and, per credential P-256 key, a document signer (DS)
 * certificate issued by it. Generated on first start and kept in the store collection `x509`; the
 * IACA private key is encrypted at rest with AES-256-GCM under a key derived (HKDF-SHA256, random
 * salt) from the same secret as the key store. An operator can replace the generated IACA with
 * their own (certificate + key PEM from configuration). Verifiers load the IACA certificate as a
 * trust anchor from `/.well-known/iaca.pem` (served by the HTTP layer from `caCertificatePem()`).
 */

export interface IssuerCaOptions {
  store: Store;
  clock: Clock;
  /** `keys.encryptionSecret`: protects the IACA private key at rest. */
  encryptionSecret: string;
  /** The issuer's public URL: the issuer alternative name of both certificates. */
  publicUrl: string;
  /** ISO 3166-1 alpha-2 country of the issuing authority (B.1.1: mandatory in IACA and DS). */
  country?: string;
  /** Service name: the IACA is `CN=<name> IACA`, a DS `CN=<name> Document Signer`. */
  serviceName?: string;
  /** Operator IACA certificate (PEM); with `iacaKeyPem` it replaces the generated one. */
  iacaCertPem?: string;
  /** Operator IACA private key (PKCS#8 PEM, P-256). */
  iacaKeyPem?: string;
  iacaValidityDays?: number;
  /** ISO 18013-5 B.1.2 caps a DS certificate at 457 days. */
  documentSignerValidityDays?: number;
  /** Whether a key still signs (its certificates must not be revoked). Absent: no revocation. */
  isActiveKey?: (kid: string) => boolean;
}

export interface IssuerCa {
  /** Loads or generates the IACA. Call once at start. */
  init(): Promise<void>;
  caCertificatePem(): string;
  caCertificateDer(): Uint8Array;
  /** The DS certificate (DER) for a credential ES256 key, issued and stored on first use, renewed before expiry. */
  documentSigner(key: ManagedKey): Promise<Uint8Array>;
  /** JOSE `x5c` for the key: `[DS]` as base64 DER (the trust anchor is not included, RFC 7515 §4.1.6). */
  x5c(key: ManagedKey): Promise<string[]>;
  /**
   * The IACA's CRL (DER): the revoked signer certificates with their revocation date and reason
   * (a retired key's certificates stay valid for the credentials it signed unless revoked), CRL
   * number and authority key identifier as RFC 5280 asks, valid for 7 days; re-signed after one,
   * or as soon as the set of revoked certificates changed (on any instance).
   */
  crl(): Promise<Uint8Array>;
  /**
   * Revokes every signer certificate (mdoc and JOSE) issued for a key that no longer signs, e.g.
   * after a compromise and a rotation. Idempotent: a certificate keeps its first revocation.
   * Throws SignerStillActive for the active key, NoSignerCertificate when the key has none.
   */
  revokeSigners(kid: string, reason: SignerRevocationReason): Promise<RevokedSigner[]>;
  /**
   * JOSE `x5c` for SD-JWT VCs signed with the key: a certificate without the mDL extended key
   * usage whose subjectAltName carries the issuer URL and host, as SD-JWT VC §3.5 asks of an
   * `x5c` next to an HTTPS `iss` (and HAIP of its credentials).
   */
  joseX5c(key: ManagedKey): Promise<string[]>;
}

/** RFC 5280 §5.3.1 reason codes that apply to a signer certificate. */
export const SIGNER_REVOCATION_REASONS = {
  unspecified: x509.X509CrlReason.unspecified,
  keyCompromise: x509.X509CrlReason.keyCompromise,
  affiliationChanged: x509.X509CrlReason.affiliationChanged,
  superseded: x509.X509CrlReason.superseded,
  cessationOfOperation: x509.X509CrlReason.cessationOfOperation,
} as const;
export type SignerRevocationReason = keyof typeof SIGNER_REVOCATION_REASONS;

export interface RevokedSigner {
  /** `mdoc` document signer or `jose` credential signer. */
  profile: 'mdoc' | 'jose';
  /** Hexadecimal serial number, as the CRL lists it. */
  serialNumber: string;
  revokedAt: number;
  reason: SignerRevocationReason;
}

export class SignerStillActive extends Error {
  override name = 'SignerStillActive';
}
export class NoSignerCertificate extends Error {
  override name = 'NoSignerCertificate';
}

interface X509Record extends StoredDoc {
  certPem: string;
  sealedKey?: SealedKey;
  revoked?: boolean;
  kid?: string;
  /** DS records: serial number of the IACA that issued them. */
  caSerial?: string;
  notAfter: number;
  /** Set once the certificate is revoked (epoch ms); it is then listed in the CRL. */
  revokedAt?: number;
  revocationReason?: SignerRevocationReason;
}

export const X509_COLLECTION = { name: 'x509', indexes: ['revoked'] };

/** A DS certificate is renewed when less than this remains of it. */
const RENEW_BEFORE_MS = 30 * DAY_MS;

export function createIssuerCa(options: IssuerCaOptions): IssuerCa {
  const { store, clock } = options;
  if (!options.encryptionSecret) throw new Error('keys.encryptionSecret is required to protect the IACA key');
  const country = options.country ?? 'UT';
  if (!/^[A-Z]{2}$/.test(country))
    throw new Error(`mdoc.country must be an ISO 3166-1 alpha-2 code, got ${country}`);
  const serviceName = options.serviceName ?? 'Issuer';
  const records: Collection<X509Record> = store.collection(X509_COLLECTION);
  const names: ChainNames = { country, serviceName, publicUrl: options.publicUrl };

  let ca: { cert: x509.X509Certificate; privateKey: KeyObject } | undefined;
  const dsCache = new Map<string, { der: Uint8Array; notAfter: number }>();

  async function generateIaca(): Promise<X509Record> {
    const { cert, privateKey } = await createIacaCertificate(
      names,
      clock.now(),
      options.iacaValidityDays ?? 3650,
    );
    return {
      _id: 'iaca',
      certPem: cert.toString('pem'),
      sealedKey: sealKey(privateKey, options.encryptionSecret),
      notAfter: cert.notAfter.getTime(),
    };
  }

  async function init(): Promise<void> {
    if (options.iacaCertPem || options.iacaKeyPem) {
      if (!options.iacaCertPem || !options.iacaKeyPem)
        throw new Error('mdoc IACA: give both the certificate and the key');
      const cert = new x509.X509Certificate(options.iacaCertPem);
      const privateKey = createPrivateKey(options.iacaKeyPem);
      const certKey = createPublicKey(Buffer.from(cert.publicKey.rawData)).export({ format: 'jwk' });
      const ownKey = createPublicKey(privateKey).export({ format: 'jwk' });
      if (certKey.x !== ownKey.x || certKey.y !== ownKey.y)
        throw new Error('mdoc IACA: the key does not match the certificate');
      ca = { cert, privateKey };
      return;
    }
    let record = await records.get('iaca');
    if (!record) {
      const fresh = await generateIaca();
      try {
        await records.insert(fresh);
        record = fresh;
      } catch (error) {
        // Another instance generated it first: everyone uses the stored one.
        if (!(error instanceof UniqueViolation)) throw error;
        record = await records.get('iaca');
      }
    }
    if (!record?.sealedKey) throw new Error('stored IACA record is incomplete');
    ca = {
      cert: new x509.X509Certificate(record.certPem),
      privateKey: unsealKey(record.sealedKey, options.encryptionSecret),
    };
  }

  const required = () => {
    if (!ca) throw new Error('issuer CA not initialised: call init() at start');
    return ca;
  };

  async function issueSigner(key: ManagedKey, profile: SignerProfile): Promise<X509Record> {
    const cert = await createSignerCertificate(
      names,
      required(),
      key.publicKey,
      profile,
      clock.now(),
      options.documentSignerValidityDays ?? 365,
    );
    return {
      _id: `${profile === 'mdoc' ? 'ds' : 'js'}:${key.kid}`,
      kid: key.kid,
      certPem: cert.toString('pem'),
      notAfter: cert.notAfter.getTime(),
    };
  }

  /** The signer certificate (DER) of a profile for an ES256 key: issued and stored on first use, renewed before expiry. */
  async function signerCertificate(key: ManagedKey, profile: SignerProfile): Promise<Uint8Array> {
    if (key.alg !== 'ES256') throw new Error('signer certificates are issued for ES256 keys only');
    const id = `${profile === 'mdoc' ? 'ds' : 'js'}:${key.kid}`;
    const cached = dsCache.get(id);
    if (cached && cached.notAfter - clock.now() > RENEW_BEFORE_MS) return cached.der;
    const caSerial = required().cert.serialNumber;
    let record = await records.get(id);
    // Only retired keys' certificates are revoked, and retired keys sign nothing; the record must
    // stay (the CRL is read from it), so it is never replaced by a fresh certificate.
    if (record?.revokedAt !== undefined && record.caSerial === caSerial) {
      throw new Error(`the signer certificate of key ${key.kid} is revoked`);
    }
    // A certificate from a replaced IACA would not chain to the published trust anchor.
    if (!record || record.caSerial !== caSerial || record.notAfter - clock.now() <= RENEW_BEFORE_MS) {
      record = { ...(await issueSigner(key, profile)), caSerial };
      await records.put(record);
    }
    const der = new Uint8Array(new x509.X509Certificate(record.certPem).rawData);
    dsCache.set(id, { der, notAfter: record.notAfter });
    return der;
  }
  const documentSigner = (key: ManagedKey) => signerCertificate(key, 'mdoc');

  /** The revoked signer certificates of the current IACA, oldest revocation first. */
  async function revoked(): Promise<
    { serialNumber: string; revokedAt: number; reason: SignerRevocationReason }[]
  > {
    const caSerial = required().cert.serialNumber;
    return (await records.find({ revoked: true }))
      .filter((record) => record.caSerial === caSerial && record.revokedAt !== undefined)
      .map((record) => ({
        serialNumber: new x509.X509Certificate(record.certPem).serialNumber,
        revokedAt: record.revokedAt as number,
        reason: record.revocationReason ?? 'unspecified',
      }))
      .sort((a, b) => a.revokedAt - b.revokedAt || a.serialNumber.localeCompare(b.serialNumber));
  }

  let crl: { der: Uint8Array; signedAt: number; entries: string } | undefined;
  async function signCrl(): Promise<Uint8Array> {
    const now = clock.now();
    const entries = await revoked();
    const fingerprint = entries.map((e) => `${e.serialNumber}:${e.revokedAt}:${e.reason}`).join(',');
    if (crl && crl.entries === fingerprint && now - crl.signedAt < DAY_MS && now >= crl.signedAt)
      return crl.der;
    const number = Math.max(Math.floor(now / 1000), crlNumber + 1);
    const der = await signCrlDer(
      required(),
      entries.map((e) => ({ ...e, reason: SIGNER_REVOCATION_REASONS[e.reason] })),
      now,
      number,
    );
    crlNumber = number;
    crl = { der, signedAt: now, entries: fingerprint };
    return crl.der;
  }
  let crlNumber = 0;

  async function revokeSigners(kid: string, reason: SignerRevocationReason): Promise<RevokedSigner[]> {
    if (options.isActiveKey?.(kid) ?? true) {
      throw new SignerStillActive('the key still signs credentials: rotate the credential keys first');
    }
    const caSerial = required().cert.serialNumber;
    const now = clock.now();
    const result: RevokedSigner[] = [];
    for (const profile of ['mdoc', 'jose'] as const) {
      const id = `${profile === 'mdoc' ? 'ds' : 'js'}:${kid}`;
      const record = await records.get(id);
      if (!record || record.caSerial !== caSerial) continue;
      // The first revocation stands; `revoked` is the indexed flag the CRL query reads.
      const updated =
        record.revokedAt === undefined
          ? await records.update(id, { certPem: record.certPem }, {
              revoked: true,
              revokedAt: now,
              revocationReason: reason,
            } as Partial<X509Record>)
          : undefined;
      const current = updated ?? (await records.get(id)) ?? record;
      dsCache.delete(id);
      result.push({
        profile,
        serialNumber: new x509.X509Certificate(current.certPem).serialNumber,
        revokedAt: current.revokedAt ?? now,
        reason: current.revocationReason ?? reason,
      });
    }
    if (result.length === 0) throw new NoSignerCertificate(`no signer certificate was issued for key ${kid}`);
    return result;
  }

  return {
    init,
    crl: signCrl,
    revokeSigners,
    caCertificatePem: () => required().cert.toString('pem'),
    caCertificateDer: () => new Uint8Array(required().cert.rawData),
    documentSigner,
    async x5c(key) {
      return [Buffer.from(await documentSigner(key)).toString('base64')];
    },
    async joseX5c(key) {
      return [Buffer.from(await signerCertificate(key, 'jose')).toString('base64')];
    },
  };
}
