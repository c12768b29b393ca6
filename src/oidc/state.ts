import type { Logger } from 'pino';
import type { IdentitySystemRegistry } from '../kyc/spi.ts';
import type { IssuerStateResolver } from '../vci/offers.ts';
import type { CNonceIssuer, CredentialConfigurationsLink, PreAuthorizedCodeRedeemer } from './bridge.ts';
import type { ClientRegistry } from './clients.ts';
import type { Consents } from './consents.ts';
import type { GrantRecords } from './grant-records.ts';

/** Shared state of the OIDC module, handed to the provider configuration and the interaction routes. */
export interface OidcState {
  readonly basePath: string;
  /** Identity systems by name and per client (src/kyc). */
  readonly identitySystems: IdentitySystemRegistry;
  /** The credential configurations the provider may authorize (RAR, scopes, consent claims). */
  readonly credentialConfigurations: CredentialConfigurationsLink;
  /** What an offer's `issuer_state` stands for (OpenID4VCI 1.0 §5.1.3). */
  readonly issuerStates: IssuerStateResolver;
  /** Validates pre-authorized codes at the token endpoint (OpenID4VCI 1.0 §6.1). */
  readonly preAuthorizedCodes: PreAuthorizedCodeRedeemer;
  /** c_nonce for the pre-authorized token response (draft 13 §6.2). */
  readonly cNonces: CNonceIssuer;
  readonly logger: Logger;
  readonly clients: ClientRegistry;
  readonly consents: Consents;
  readonly grants: GrantRecords;
  /** Claims credential configurations add to a request (from scope and authorization_details). */
  extraClaimsFor(params: Record<string, unknown>): string[];
  errorPage(ctx: any, error: string, description: string): string;
  logoutPage(ctx: any, form: string): string;
  loggedOutPage(ctx: any): string;
}
