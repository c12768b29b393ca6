import { Router } from '@koa/router';
import type { Context } from 'koa';
import type { IssuerCa } from '../credentials/x509/issuer-ca.ts';
import { CRL_PATH, IACA_PATH } from '../credentials/x509/urls.ts';
import { credentialJwks, didDocument, jwtVcIssuerMetadata, keyDocumentPaths } from '../keys/documents.ts';
import type { Services } from '../services.ts';
import { publicCacheable } from './middleware.ts';

/**
 * The verifier-facing key documents, at the paths the public URL implies (see `keyDocumentPaths`):
 * the did:web document, the SD-JWT VC issuer metadata and the credential JWKS. They are public and
 * change only on rotation, so they are cacheable for a few minutes and readable cross-origin
 * (browser-based verifiers and wallets fetch them). Computed per request: a few encodings of the
 * in-memory published keys.
 */
export function keyRoutes({ config, keys }: Services): Router {
  const publicUrl = config.resolved.publicUrl;
  const paths = keyDocumentPaths(publicUrl);
  const router = new Router();

  router.get(paths.didDocument, (ctx) => {
    publicDocument(ctx, 'application/did+json');
    ctx.body = didDocument(keys.published('credential'), publicUrl);
  });
  router.get(paths.jwtVcIssuer, (ctx) => {
    publicDocument(ctx, 'application/json');
    ctx.body = jwtVcIssuerMetadata(publicUrl, keys);
  });
  router.get(paths.credentialJwks, (ctx) => {
    publicDocument(ctx, 'application/jwk-set+json');
    ctx.body = credentialJwks(keys);
  });
  return router;
}

function publicDocument(ctx: Context, type: string): void {
  publicCacheable(ctx, 300);
  ctx.type = type;
}

/**
 * `GET /.well-known/iaca.pem`: the IACA certificate (PEM), public and cacheable. Verifiers add it to
 * their mdoc trust list (ISO/IEC 18013-5 Annex B); `iacaUrl(publicUrl)` is the value to advertise.
 */
export function iacaRoutes(services: { issuerCa: IssuerCa; publicUrl?: string }): Router {
  const router = new Router();
  // Advertised as `<publicUrl>/.well-known/...`: a public URL with a path serves them under that path.
  const basePath = pathOf(services.publicUrl);
  router.get(`${basePath}${IACA_PATH}`, function serveIaca(ctx) {
    publicCacheable(ctx, 86400);
    ctx.type = 'application/x-pem-file';
    ctx.body = services.issuerCa.caCertificatePem();
  });
  // RFC 5280 §5 CRL (ISO/IEC 18013-5 B.3), re-signed daily; verifiers may cache it for an hour.
  router.get(`${basePath}${CRL_PATH}`, async function serveCrl(ctx) {
    publicCacheable(ctx, 3600);
    ctx.type = 'application/pkix-crl';
    ctx.body = Buffer.from(await services.issuerCa.crl());
  });
  return router;
}

/** The path of a public URL without its trailing slash ('' without one): where its documents live. */
export const pathOf = (publicUrl: string | undefined): string =>
  publicUrl ? new URL(publicUrl).pathname.replace(/\/+$/, '') : '';
