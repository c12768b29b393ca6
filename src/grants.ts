import type { ConfigurationRegistry } from './credentials/configurations/registry.ts';
import type { IdentitySystemRegistry } from './kyc/spi.ts';
import type { CNonceIssuer, CredentialConfigurationsLink } from './oidc/bridge.ts';
import type { Services } from './services.ts';
import { createNonces, type Nonces } from './vci/nonces.ts';
import { createOffers, type IssuerStateResolver, type Offers } from './vci/offers.ts';
import { createPreAuthorizedCodes, type PreAuthorizedCodes } from './vci/pre-authorized.ts';

/**
 * The state the OpenID Provider and the credential issuer share, built before both: offers write
 * pre-authorized codes and `issuer_state` records that the provider redeems and resolves, the
 * provider's pre-authorized token response carries a c_nonce the credential endpoint consumes, and
 * both read the credential configurations.
 */
export interface Grants {
  /** Pre-authorized codes (OpenID4VCI 1.0 §4.1.1): made by offers, redeemed at the token endpoint. */
  readonly preAuthorizedCodes: PreAuthorizedCodes;
  /** Credential offers (§4.1): the admin API makes them, the offer URI endpoint serves them. */
  readonly offers: Offers;
  /** What an offer's `issuer_state` stands for (§5.1.3), for the authorization endpoint and login. */
  readonly issuerStates: IssuerStateResolver;
  /**
   * c_nonce values (§7): the nonce and credential endpoints, and the pre-authorized token response
   * (draft 13 §6.2 lets it carry one, so draft-13 wallets need no failed first request to learn it).
   */
  readonly cNonces: Nonces & CNonceIssuer;
  /** The credential configurations as the provider sees them: RAR details, scopes, consent claims. */
  readonly credentialConfigurations: CredentialConfigurationsLink;
}

export function createGrants(
  services: Pick<Services, 'config' | 'clock' | 'store' | 'metrics'>,
  deps: { configurations: ConfigurationRegistry; identitySystems: IdentitySystemRegistry },
): Grants {
  const { config, clock, store } = services;
  const { configurations } = deps;
  const preAuthorizedCodes = createPreAuthorizedCodes({
    store,
    clock,
    ttlSeconds: config.vci.preAuthorizedCodeTtlSeconds,
    maxAttempts: config.vci.txCodeMaxAttempts,
  });
  const offers = createOffers({
    config,
    clock,
    store,
    registry: configurations,
    codes: preAuthorizedCodes,
    identitySystems: deps.identitySystems,
    metrics: services.metrics,
  });
  return {
    preAuthorizedCodes,
    offers,
    issuerStates: offers.issuerStates,
    cNonces: createNonces(store, clock, config.vci.cNonceTtlSeconds, config.keys.encryptionSecret),
    credentialConfigurations: {
      has: (id) => configurations.has(id),
      claimsFor: (id) => configurations.claimsFor(id),
      scopes: () => configurations.scopeMap(),
    },
  };
}
