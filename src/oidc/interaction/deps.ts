import type { Services } from '../../services.ts';
import type { OidcProvider } from '../provider.ts';
import type { OidcState } from '../state.ts';
import type { LoginTransactions } from './transactions.ts';

/** What the login front ends (src/http/interaction/) are built from. */
export interface InteractionDeps {
  readonly services: Services;
  readonly state: OidcState;
  readonly transactions: LoginTransactions;
  provider(): Promise<OidcProvider>;
}
