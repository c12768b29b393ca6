import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidTransaction } from '../../errors.ts';
import type { OidcProvider } from '../provider.ts';

/**
 * The one place the login talks to oidc-provider 9.13 (which ships no types): the interaction's
 * details, its client, the grant, and the result that resumes the authorization request. The types
 * below declare only what the login reads and calls.
 */

/** Client metadata the login reads (registered through src/oidc/clients.ts). */
export interface ClientMetadata {
  readonly allowed_acr_values?: string[];
  readonly allowed_claims?: string[];
  readonly identity_system?: string;
  readonly sector_identifier_uri?: string;
  readonly client_names?: Record<string, string>;
  readonly logo_uri?: string;
}

export interface ProviderClient {
  readonly clientId: string;
  readonly clientName?: string;
  readonly redirectUris: readonly string[];
  metadata(): ClientMetadata;
}

export interface InteractionDetails {
  readonly uid: string;
  /** The authorization request's parameters, as oidc-provider keeps them. */
  readonly params: Record<string, unknown>;
}

/** How the interaction ends: an error for the relying party, or a login with its grant. */
export type InteractionResult =
  | { error: string; error_description: string }
  | {
      login: { accountId: string; acr?: string; amr: string[]; remember: boolean };
      consent: { grantId: string };
    };

/** What the grant allows; saved as one oidc-provider Grant. */
export interface GrantSpec {
  readonly accountId: string;
  readonly clientId: string;
  readonly expiresInSeconds: number;
  readonly scopes: readonly string[];
  /** RFC 8707 `resource`: the same scopes for that resource server. */
  readonly resource?: string;
  readonly claims: readonly string[];
  readonly rejectedClaims: readonly string[];
  readonly authorizationDetails: readonly Record<string, unknown>[];
}

/** One request's view of its interaction. */
export interface InteractionPort {
  /** Throws InvalidTransaction when the interaction is gone or belongs to another browser. */
  details(uid: string): Promise<InteractionDetails>;
  findClient(clientId: unknown): Promise<ProviderClient | undefined>;
  saveGrant(spec: GrantSpec): Promise<string>;
  /** Ends the interaction; resolves to where the browser goes next. */
  finish(result: InteractionResult): Promise<string>;
}

interface ProviderGrant {
  addOIDCScope(scope: string): void;
  addResourceScope(resource: string, scope: string): void;
  addOIDCClaims(claims: string[]): void;
  rejectOIDCClaims(claims: string[]): void;
  addRar(detail: Record<string, unknown>): void;
  save(): Promise<string>;
}

interface InteractionProvider {
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
  interactionResult(
    req: IncomingMessage,
    res: ServerResponse,
    result: InteractionResult,
    options: { mergeWithLastSubmission: boolean },
  ): Promise<string>;
  readonly Client: { find(clientId: unknown): Promise<ProviderClient | undefined> };
  readonly Grant: new (init: { accountId: string; clientId: string; expiresIn: number }) => ProviderGrant;
}

export function bindInteraction(
  oidcProvider: OidcProvider,
  req: IncomingMessage,
  res: ServerResponse,
): InteractionPort {
  const provider: InteractionProvider = oidcProvider;
  return {
    async details(uid) {
      let details: InteractionDetails;
      try {
        details = await provider.interactionDetails(req, res);
      } catch {
        throw new InvalidTransaction('this sign-in has expired or was started in another browser');
      }
      if (details.uid !== uid) throw new InvalidTransaction('this sign-in does not belong to this browser');
      return details;
    },
    findClient: (clientId) => provider.Client.find(clientId),
    async saveGrant(spec) {
      const grant = new provider.Grant({
        accountId: spec.accountId,
        clientId: spec.clientId,
        expiresIn: spec.expiresInSeconds,
      });
      const scope = spec.scopes.join(' ');
      if (spec.scopes.length) grant.addOIDCScope(scope);
      if (spec.resource) grant.addResourceScope(spec.resource, scope);
      if (spec.claims.length) grant.addOIDCClaims([...spec.claims]);
      if (spec.rejectedClaims.length) grant.rejectOIDCClaims([...spec.rejectedClaims]);
      for (const detail of spec.authorizationDetails) grant.addRar(detail);
      return grant.save();
    },
    finish: (result) => provider.interactionResult(req, res, result, { mergeWithLastSubmission: false }),
  };
}
