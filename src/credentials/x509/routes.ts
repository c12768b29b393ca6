import { Router } from '@koa/router';
import type { IssuerCa } from './issuer-ca.ts';

/** Where verifiers load the mdoc trust anchor (the IACA certificate). Referenced from issuer metadata. */
export const IACA_PATH = '/.well-known/iaca.pem';

/**
 * `GET /.well-known/iaca.pem`: the IACA certificate (PEM), public and cacheable. Verifiers add it to
 * their mdoc trust list (ISO/IEC 18013-5 Annex B); `iacaUrl(publicUrl)` is the value to advertise.
 */
export function iacaRoutes(services: { issuerCa: IssuerCa }): Router {
  const router = new Router();
  router.get(IACA_PATH, function serveIaca(ctx) {
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.type = 'application/x-pem-file';
    ctx.body = services.issuerCa.caCertificatePem();
  });
  return router;
}

/** The absolute IACA certificate URL for issuer metadata. Served at the origin of `publicUrl` plus its path. */
export const iacaUrl = (publicUrl: string): string => `${publicUrl}${IACA_PATH}`;
