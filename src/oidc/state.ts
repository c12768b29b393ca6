import type { Logger } from 'pino';
import type { Links } from '../modules.ts';
import type { ClientRegistry } from './clients.ts';
import type { Consents } from './consents.ts';
import type { GrantRecords } from './grant-records.ts';

/** The links the OpenID Provider reads (filled by other modules; read at request time). */
export type OidcLinks = Links;

/** Shared state of the OIDC module, handed to the provider configuration and the interaction routes. */
export interface OidcState {
  readonly basePath: string;
  readonly links: OidcLinks;
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
