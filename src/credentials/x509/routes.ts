import { Router } from '@koa/router';
import type { AuditLog } from '../../audit/audit.ts';
import { Conflict, InvalidRequest, NotFound } from '../../errors.ts';
import { readJson } from '../../http/body.ts';
import type { KeyStore } from '../../keys/spi.ts';
import {
  type IssuerCa,
  NoSignerCertificate,
  SIGNER_REVOCATION_REASONS,
  type SignerRevocationReason,
  SignerStillActive,
} from './issuer-ca.ts';

/** Where verifiers load the mdoc trust anchor (the IACA certificate). Referenced from issuer metadata. */
export const IACA_PATH = '/.well-known/iaca.pem';
/** The IACA's certificate revocation list (DER), named in every certificate's CRL distribution points. */
export const CRL_PATH = '/.well-known/iaca.crl';

/**
 * `GET /.well-known/iaca.pem`: the IACA certificate (PEM), public and cacheable. Verifiers add it to
 * their mdoc trust list (ISO/IEC 18013-5 Annex B); `iacaUrl(publicUrl)` is the value to advertise.
 */
export function iacaRoutes(services: { issuerCa: IssuerCa; publicUrl?: string }): Router {
  const router = new Router();
  // Advertised as `<publicUrl>/.well-known/...`: a public URL with a path serves them under that path.
  const basePath = services.publicUrl ? new URL(services.publicUrl).pathname.replace(/\/+$/, '') : '';
  router.get(`${basePath}${IACA_PATH}`, function serveIaca(ctx) {
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.type = 'application/x-pem-file';
    ctx.body = services.issuerCa.caCertificatePem();
  });
  // RFC 5280 §5 CRL (ISO/IEC 18013-5 B.3), re-signed daily; verifiers may cache it for an hour.
  router.get(`${basePath}${CRL_PATH}`, async function serveCrl(ctx) {
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.type = 'application/pkix-crl';
    ctx.body = Buffer.from(await services.issuerCa.crl());
  });
  return router;
}

/** The absolute IACA certificate URL for issuer metadata. Served at the origin of `publicUrl` plus its path. */
export const iacaUrl = (publicUrl: string): string => `${publicUrl}${IACA_PATH}`;

/** The absolute CRL URL, as certificates carry it. */
export const crlUrl = (publicUrl: string): string => `${publicUrl}${CRL_PATH}`;

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
    // Another instance may have rotated the key out since this one last loaded.
    await services.keys.reload();
    const kid = ctx.params.kid as string;
    let revoked: Awaited<ReturnType<IssuerCa['revokeSigners']>>;
    try {
      revoked = await services.issuerCa.revokeSigners(kid, reason as SignerRevocationReason);
    } catch (error) {
      if (error instanceof SignerStillActive) throw new Conflict(error.message);
      if (error instanceof NoSignerCertificate) throw new NotFound(error.message);
      throw error;
    }
    await services.audit.record({ type: 'signer_certificates_revoked', kid, reason, count: revoked.length });
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
