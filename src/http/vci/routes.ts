import { Router } from '@koa/router';
import { credentialRoutes } from './credential.ts';
import type { VciRouteDeps } from './deps.ts';
import { issuerMetadataRoutes } from './metadata.ts';
import { credentialOfferRoutes } from './offers.ts';
import { typeMetadataRoutes } from './type-metadata.ts';

/**
 * The OpenID4VCI HTTP surface: the issuer metadata (metadata.ts), the nonce, credential, deferred
 * and notification endpoints (credential.ts) and offers by reference (offers.ts). Each endpoint is
 * a short pipeline: authenticate, decode, act, encode. Paths carry the public URL's path (the app
 * is mounted at the host root).
 */
export function vciRoutes(deps: VciRouteDeps): Router {
  const basePath = new URL(deps.services.config.resolved.publicUrl).pathname.replace(/\/+$/, '');
  const router = new Router();
  issuerMetadataRoutes(router, deps, basePath);
  credentialRoutes(router, deps, basePath);
  credentialOfferRoutes(router, deps.offers, basePath);
  typeMetadataRoutes(router, deps, basePath);
  return router;
}
