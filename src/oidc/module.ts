import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors } from 'oidc-provider';
import type { IdentitySystemRegistry } from '../kyc/spi.ts';
import type { Services } from '../services.ts';
import type { IssuerStateResolver } from '../vci/offers.ts';
import { registerAuditEvents } from './audit-events.ts';
import type {
  CNonceIssuer,
  CredentialConfigurationsLink,
  PreAuthorizedCodeRedeemer,
  TokenVerifier,
} from './bridge.ts';
import { ClientRegistry } from './clients.ts';
import { Consents } from './consents.ts';
import { seedDemoRelyingParty } from './demo.ts';
import { GrantRecords } from './grant-records.ts';
import type { InteractionDeps } from './interaction/deps.ts';
import { pickLocale, textsFor } from './interaction/i18n.ts';
import { errorPage, loggedOutPage, logoutPage, type PageFrame } from './interaction/pages.ts';
import { LoginTransactions } from './interaction/transactions.ts';
import { requestedConfigurationIds } from './issuer-state.ts';
import { createJwksFetcher } from './jwks-fetch.ts';
import { buildProvider, type OidcProvider, providerFingerprint } from './provider.ts';
import type { OidcState } from './state.ts';
import { createTokenVerifier } from './token-verifier.ts';

/** What the provider needs from the parts built before it. */
export interface OidcDeps {
  readonly identitySystems: IdentitySystemRegistry;
  /** The shared grants (src/grants.ts): what offers made, and the credential configurations. */
  readonly grants: {
    readonly preAuthorizedCodes: PreAuthorizedCodeRedeemer;
    readonly issuerStates: IssuerStateResolver;
    readonly cNonces: CNonceIssuer;
    readonly credentialConfigurations: CredentialConfigurationsLink;
  };
}

/** What the OpenID Provider offers the credential issuer, the admin API and the HTTP layer. */
export interface Oidc {
  readonly basePath: string;
  /** Verifies access tokens at the credential, deferred and notification endpoints. */
  readonly tokens: TokenVerifier;
  /** Clients, consents and grant records (the admin API reads and changes them). */
  readonly state: OidcState;
  /** The provider as currently built (rebuilt when the OIDC keys or the credential scopes change). */
  provider(): Promise<OidcProvider>;
  /** The current provider's request listener, which the HTTP layer hands its own paths to. */
  providerCallback(): Promise<ProviderCallback>;
  /** What the login and consent pages and API are built from. */
  readonly interactions: InteractionDeps;
  /** Revokes every token of a grant and the grant itself (consent withdrawn). */
  revokeGrant(grantId: string): Promise<void>;
  /** Client metadata as oidc-provider validates it, plus the jwks_uri address policy. */
  validateClient(metadata: Record<string, unknown>): Promise<void>;
}

/** oidc-provider's request listener (`provider.callback()`). */
export type ProviderCallback = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * The OpenID Provider part: oidc-provider, the login/consent state, the TokenVerifier for the
 * credential endpoint and the pre-authorized code grant. The HTTP layer mounts the provider
 * (src/http/oidc/mount.ts) through `providerCallback`.
 *
 * Keys: the provider is built lazily on the first request and rebuilt whenever the published OIDC
 * keys change (rotation by the admin API, the CLI or another instance after `keys.reload()`), or
 * when the credential scopes change. All provider state lives in the store, so a rebuild loses
 * nothing; requests already running finish on the previous instance.
 */
export async function createOidc(services: Services, deps: OidcDeps): Promise<Oidc> {
  const { config, store, clock, keys, logger } = services;
  const { credentialConfigurations } = deps.grants;
  const issuer = config.resolved.publicUrl;
  const issuerUrl = new URL(issuer);
  const basePath = issuerUrl.pathname.replace(/\/+$/, '');

  const frameFor = (ctx: { oidc?: { params?: Record<string, unknown> } }, title: string): PageFrame => {
    const locale = pickLocale(ctx.oidc?.params?.ui_locales, config.oidc.uiLocales);
    return { locale, texts: textsFor(locale), basePath, title };
  };

  const state: OidcState = {
    basePath,
    identitySystems: deps.identitySystems,
    credentialConfigurations,
    issuerStates: deps.grants.issuerStates,
    preAuthorizedCodes: deps.grants.preAuthorizedCodes,
    cNonces: deps.grants.cNonces,
    logger: logger.child({ module: 'oidc' }),
    clients: new ClientRegistry(store, clock),
    consents: new Consents(store, clock),
    grants: new GrantRecords(store, clock, config.keys.encryptionSecret),
    extraClaimsFor(params) {
      return requestedConfigurationIds(params, credentialConfigurations).flatMap((id) =>
        credentialConfigurations.has(id) ? [...credentialConfigurations.claimsFor(id)] : [],
      );
    },
    errorPage: (ctx, error, description) => {
      const frame = frameFor(ctx, textsFor('en').errorTitle);
      return errorPage(frame, description || error, error);
    },
    logoutPage: (ctx, form) => logoutPage(frameFor(ctx, textsFor('en').logoutTitle), form),
    loggedOutPage: (ctx) => loggedOutPage(frameFor(ctx, textsFor('en').logoutTitle)),
  };

  let current: { provider: OidcProvider; fingerprint: string; callback: ProviderCallback } | undefined;
  const provider = async (): Promise<OidcProvider> => {
    const scopes = [...credentialConfigurations.scopes().keys()].sort();
    const fingerprint = providerFingerprint(keys.published('oidc'), scopes);
    if (current?.fingerprint !== fingerprint) {
      const built = buildProvider(services, state, scopes);
      registerAuditEvents(built, services.audit, state);
      current = { provider: built, fingerprint, callback: built.callback() };
      if (current) state.logger.info({ scopes: scopes.length }, 'OpenID Provider (re)built');
    }
    return current.provider;
  };
  const callback = async () => {
    await provider();
    return current!.callback;
  };

  const transactions = new LoginTransactions(
    store,
    clock,
    config.keys.encryptionSecret,
    config.oidc.loginTransactionSeconds,
    config.oidc.consentTransactionSeconds,
  );

  const tokens = createTokenVerifier({
    provider,
    state,
    issuer,
    clock,
    store,
    publicKeys: () =>
      keys.published('oidc').map((k) => ({ ...k.publicKey.export({ format: 'jwk' }), kid: k.kid })),
  });

  async function revokeGrant(grantId: string): Promise<void> {
    const p = await provider();
    await Promise.all([
      p.AccessToken.revokeByGrantId(grantId),
      p.RefreshToken.revokeByGrantId(grantId),
      p.AuthorizationCode.revokeByGrantId(grantId),
      p.Grant.adapter.destroy(grantId),
      state.grants.delete(grantId),
    ]);
  }

  // SECURITY row 44: a jwks_uri on a private or special-use address is refused at registration too.
  const jwksFetcher = createJwksFetcher(config.oidc.jwksUriPolicy, clock, state.logger);
  async function checkJwksUri(uri: unknown): Promise<void> {
    try {
      await jwksFetcher.checkUri(uri);
    } catch (error) {
      throw new errors.InvalidClientMetadata((error as Error).message);
    }
  }

  if (config.resolved.demo) await seedDemoRelyingParty(services, state.clients);

  return {
    basePath,
    tokens,
    state,
    provider,
    providerCallback: callback,
    interactions: { services, state, transactions, provider },
    revokeGrant,
    async validateClient(metadata) {
      const p = await provider();
      await p.Client.validate(metadata);
      await checkJwksUri(metadata.jwks_uri);
    },
  };
}
