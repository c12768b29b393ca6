import type { Router } from '@koa/router';
import type { Middleware } from 'koa';
import type { IdentitySystemRegistry } from './kyc/spi.ts';
import type {
  CredentialConfigurationsLink,
  PreAuthorizedCodeRedeemer,
  TokenVerifier,
} from './oidc/bridge.ts';
import type { Services } from './services.ts';
import type { IssuerStateResolver } from './vci/offers.ts';

/**
 * What a feature module contributes to the app. `src/app.ts` builds the modules in MODULES order
 * (see src/app.ts) and mounts what they return.
 */
export interface Module {
  /** Public routes. */
  routes?: Router[];
  /** Routes mounted under /admin, behind the admin token (their paths are relative to /admin). */
  adminRoutes?: Router[];
  /**
   * Middleware that runs before routing and before any body parsing (oidc-provider must read the
   * raw request itself). Each must call next() for requests it does not own.
   */
  early?: Middleware[];
  close?(): Promise<void>;
}

/**
 * Late-bound links between modules that would otherwise import each other. A module fills its slot
 * when it is built; the others read the slot at request time, never at build time.
 */
export interface Links {
  /** Set by the OpenID Provider: verifies access tokens presented at the credential endpoint. */
  tokens?: TokenVerifier;
  /** Set by the issuance module: validates pre-authorized codes at the token endpoint. */
  preAuthorizedCodes?: PreAuthorizedCodeRedeemer;
  /** Set by the kyc module: identity systems by name and per client, and delivery to people. */
  identitySystems?: IdentitySystemRegistry;
  /** Set by the issuance module: the credential configurations the provider may authorize (RAR, scopes). */
  credentialConfigurations?: CredentialConfigurationsLink;
  /** Set by the issuance module: what an offer's `issuer_state` stands for (OpenID4VCI 1.0 §5.1.3). */
  issuerStates?: IssuerStateResolver;
  /**
   * Set by the issuance module: issues a c_nonce. The pre-authorized token response carries one, as
   * OpenID4VCI draft 13 §6.2 allows, so draft-13 wallets need no failed first request to learn it.
   */
  cNonces?: { issue(): Promise<{ nonce: string; expiresInSeconds: number }> };
}

export type ModuleFactory = (services: Services, links: Links) => Promise<Module>;
