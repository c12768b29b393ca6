import type { ConfigurationRegistry } from '../../credentials/configurations/registry.ts';
import type { StatusService } from '../../credentials/status/service.ts';
import type { ManagedKey } from '../../keys/spi.ts';
import type { Services } from '../../services.ts';
import type { Ledger } from '../../vci/ledger.ts';
import type { WalletLogin } from './login.ts';
import { WalletRequests } from './requests.ts';

/** Lifetime of a wallet login request: minutes (OpenID4VP requests are short-lived). */
export const WALLET_REQUEST_TTL_SECONDS = 180;
/** How old a key-binding JWT may be, and how far the wallet's clock may run ahead, in seconds. */
const KB_MAX_AGE_SECONDS = 300;
const SKEW_SECONDS = 30;
/**
 * The identity credential a wallet presents: this SD-JWT VC configuration of the registry
 * (credential-configurations/national-id.json). Its `vct` is read from the registry at each request
 * and presentation, so an edited definition is followed and a retired one is no longer asked for
 * nor accepted.
 */
export const IDENTITY_CONFIGURATION_ID = 'NationalIdCredential_sd_jwt';

/** The `vct` values the wallet login asks for and accepts (none when the configuration is gone). */
export function identityVcts(configurations: Pick<ConfigurationRegistry, 'get'>): string[] {
  const configuration = configurations.get(IDENTITY_CONFIGURATION_ID);
  const vct = configuration?.format === 'dc+sd-jwt' ? configuration.profile.vct : undefined;
  return vct ? [vct] : [];
}

/** Builds the wallet login from the service's parts (called once, by the HTTP app). */
export function createWalletLogin(deps: {
  services: Services;
  basePath: string;
  status: Pick<StatusService, 'statusOf'>;
  ledger: Pick<Ledger, 'issuedTo'>;
  configurations: Pick<ConfigurationRegistry, 'get'>;
  x5c: (key: ManagedKey) => Promise<string[]>;
}): WalletLogin {
  const { services } = deps;
  const publicUrl = services.config.resolved.publicUrl;
  return {
    ledger: deps.ledger,
    requests: new WalletRequests({
      store: services.store,
      clock: services.clock,
      keys: services.keys,
      x5c: deps.x5c,
      policy: {
        origin: new URL(publicUrl).origin,
        basePath: deps.basePath,
        ttlSeconds: WALLET_REQUEST_TTL_SECONDS,
        vcts: () => identityVcts(deps.configurations),
      },
    }),
    checks: {
      keys: services.keys,
      status: deps.status,
      clock: services.clock,
      issuer: publicUrl,
      vcts: () => identityVcts(deps.configurations),
      kbMaxAgeSeconds: KB_MAX_AGE_SECONDS,
      skewSeconds: SKEW_SECONDS,
    },
  };
}
