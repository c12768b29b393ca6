import { Router } from '@koa/router';
import type { IssuerCa } from './issuer-ca.ts';

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
