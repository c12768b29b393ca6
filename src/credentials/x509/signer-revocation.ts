import type { AuditLog } from '../../audit/audit.ts';
import { Conflict, NotFound } from '../../errors.ts';
import type { KeyStore } from '../../keys/spi.ts';
import {
  type IssuerCa,
  NoSignerCertificate,
  type SignerRevocationReason,
  SignerStillActive,
} from './issuer-ca.ts';

/**
 * Revokes the signer certificates of a credential key that no longer signs, and audits it (the
 * admin API and the issuer console). 409 while the key signs, 404 when it never had a certificate.
 */
export async function revokeSignerCertificates(
  services: { issuerCa: IssuerCa; keys: KeyStore; audit: AuditLog },
  kid: string,
  reason: SignerRevocationReason,
): Promise<Awaited<ReturnType<IssuerCa['revokeSigners']>>> {
  // Another instance may have rotated the key out since this one last loaded.
  await services.keys.reload();
  let revoked: Awaited<ReturnType<IssuerCa['revokeSigners']>>;
  try {
    revoked = await services.issuerCa.revokeSigners(kid, reason);
  } catch (error) {
    if (error instanceof SignerStillActive) throw new Conflict(error.message);
    if (error instanceof NoSignerCertificate) throw new NotFound(error.message);
    throw error;
  }
  await services.audit.record({ type: 'signer_certificates_revoked', kid, reason, count: revoked.length });
  return revoked;
}
