import type { Router } from '@koa/router';
import type { Context } from 'koa';
import { requestEncryptionJwks } from '../../vci/encryption.ts';
import { authorizationServersFor } from '../../vci/external-as/index.ts';
import { hasTrust, parseTrust } from '../../vci/key-attestation.ts';
import { buildIssuerMetadata, createMetadataSigner } from '../../vci/metadata.ts';
import { publicCacheable } from '../middleware.ts';
import type { VciRouteDeps } from './deps.ts';

function acceptLanguages(ctx: Context): string[] {
  return ctx
    .get('Accept-Language')
    .split(',')
    .map((part) => part.split(';')[0]!.trim())
    .filter((tag) => /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(tag))
    .slice(0, 10);
}

/**
 * The credential issuer metadata (OpenID4VCI 1.0 §12.2), at both well-known places: §12.2.2 (1.0)
 * inserts the path after the host; draft 13 appends it to the issuer identifier.
 */
export function issuerMetadataRoutes(router: Router, deps: VciRouteDeps, basePath: string): void {
  const { services, registry } = deps;
  const { config } = services;
  const publicUrl = config.resolved.publicUrl;
  const attestationProofType = hasTrust(
    parseTrust(config.vci.keyAttestationTrustedJwks, config.vci.keyAttestationTrustedCaPems),
  );
  const signMetadata = createMetadataSigner({
    keys: services.keys,
    clock: services.clock,
    publicUrl,
    x5c: (key) => deps.issuerCa.joseX5c(key),
  });
  const wellKnownPaths = [
    ...new Set([
      `/.well-known/openid-credential-issuer${basePath}`,
      `${basePath}/.well-known/openid-credential-issuer`,
    ]),
  ];
  for (const path of wellKnownPaths) {
    router.get(path, async function serveIssuerMetadata(ctx) {
      const locales = acceptLanguages(ctx);
      const metadata = buildIssuerMetadata(registry, {
        publicUrl,
        batchSize: config.vci.batchSize,
        requireEncryption: config.vci.requireEncryption,
        requestEncryption: {
          jwks: requestEncryptionJwks(services.keys),
          required: config.vci.requireRequestEncryption,
        },
        issuerDisplay: config.vci.issuerDisplay,
        attestationProofType,
        keyAttestationsRequired: config.vci.keyAttestationsRequired,
        authorizationServers: authorizationServersFor(config),
        locales,
      });
      publicCacheable(ctx, 60);
      ctx.set('Vary', 'Accept, Accept-Language');
      if (locales.length > 0) ctx.set('Content-Language', locales.join(', '));
      // §12.2.3: signed metadata is the whole response as application/jwt when the wallet asks for it.
      if (
        config.vci.signedMetadata &&
        ctx.accepts('application/json', 'application/jwt') === 'application/jwt' &&
        ctx.get('Accept').includes('application/jwt')
      ) {
        ctx.type = 'application/jwt';
        ctx.body = await signMetadata(metadata);
        return;
      }
      ctx.body = config.vci.signedMetadata
        ? { ...metadata, signed_metadata: await signMetadata(metadata) }
        : metadata;
    });
  }
}
