import { Router } from '@koa/router';
import type { AuditLog } from '../../audit/audit.ts';
import {
  type IssuerCa,
  SIGNER_REVOCATION_REASONS,
  type SignerRevocationReason,
} from '../../credentials/x509/issuer-ca.ts';
import { revokeSignerCertificates } from '../../credentials/x509/signer-revocation.ts';
import { crlUrl } from '../../credentials/x509/urls.ts';
import { InvalidRequest } from '../../errors.ts';
import type { KeyStore } from '../../keys/spi.ts';
import { readJson } from '../body.ts';

/**
 * Admin (mounted under /admin): `POST /keys/<kid>/revoke-certificates` `{"reason": "keyCompromise"}`
 * revokes the mdoc and JOSE signer certificates of a credential key that no longer signs (rotate
 * first: 409 otherwise), so verifiers that check the CRL refuse what it signed. Reasons are RFC
 * 5280's that fit a signer: keyCompromise (default), superseded, cessationOfOperation,
 * affiliationChanged, unspecified. 404 when the key never had a certificate.
 */
export function signerRevocationRoutes(services: {
  issuerCa: IssuerCa;
  keys: KeyStore;
  audit: AuditLog;
  publicUrl: string;
}): Router {
  const router = new Router();
  router.post('/keys/:kid/revoke-certificates', async (ctx) => {
    const body = ctx.request.length ? await readJson(ctx, 1024) : {};
    const reason = (body as { reason?: unknown }).reason ?? 'keyCompromise';
    if (typeof reason !== 'string' || !Object.hasOwn(SIGNER_REVOCATION_REASONS, reason)) {
      throw new InvalidRequest(`reason must be one of ${Object.keys(SIGNER_REVOCATION_REASONS).join(', ')}`);
    }
    const kid = ctx.params.kid as string;
    const revoked = await revokeSignerCertificates(services, kid, reason as SignerRevocationReason);
    ctx.body = {
      kid,
      revoked: revoked.map((r) => ({
        profile: r.profile,
        serial_number: r.serialNumber,
        revoked_at: new Date(r.revokedAt).toISOString(),
        reason: r.reason,
      })),
      crl: crlUrl(services.publicUrl),
    };
  });
  return router;
}
