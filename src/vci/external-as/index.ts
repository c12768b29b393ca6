import type { IdentitySystemRegistry } from '../../kyc/spi.ts';
import type { TokenVerifier } from '../../oidc/bridge.ts';
import { createJwksFetcher } from '../../oidc/jwks-fetch.ts';
import type { Services } from '../../services.ts';
import { endpointsFor } from '../metadata.ts';
import { parseExternalServers } from './config.ts';
import { createExternalTokenVerifier } from './verifier.ts';

export { type ExternalAuthorizationServer, parseExternalServers } from './config.ts';
export { AuthorizationServerUnavailable } from './verifier.ts';

/**
 * The credential endpoint's token verifier with the trusted external authorization servers of
 * `vci.externalAuthorizationServers` in front of our provider's (`own`); `own` unchanged when none
 * are configured and our provider is on.
 */
export function withExternalAuthorizationServers(
  services: Pick<Services, 'config' | 'clock' | 'store' | 'logger'>,
  deps: {
    identitySystems: IdentitySystemRegistry;
    configurations: { forScope(scope: string): string[]; claimsFor(id: string): readonly string[] };
  },
  own: TokenVerifier,
): TokenVerifier {
  const { config, clock, store, logger } = services;
  const servers = parseExternalServers(config.vci.externalAuthorizationServers);
  if (servers.length === 0 && config.vci.ownAuthorizationServer !== 'off') return own;
  const policy = config.oidc.jwksUriPolicy;
  return createExternalTokenVerifier(
    {
      servers,
      own: config.vci.ownAuthorizationServer,
      credentialEndpoint: endpointsFor(config.resolved.publicUrl).credential,
      publicUrl: config.resolved.publicUrl,
      clock,
      store,
      logger,
      fetcher: createJwksFetcher(policy, clock, logger),
      minRefetchSeconds: policy.minCacheSeconds,
      identitySystems: deps.identitySystems,
      configurations: deps.configurations,
    },
    own,
  );
}

/** The metadata's `authorization_servers` (OpenID4VCI 1.0 §12.2.4): ours when listed, then the external ones. */
export function authorizationServersFor(config: Pick<Services['config'], 'vci' | 'resolved'>): string[] {
  const external = config.vci.externalAuthorizationServers
    .map((s) => s.issuer)
    .filter((i): i is string => typeof i === 'string');
  return [
    ...(config.vci.ownAuthorizationServer === 'listed' ? [config.resolved.publicUrl] : []),
    ...external,
  ];
}
