import type { AuditLog } from '../../audit/audit.ts';
import type { Clock } from '../../clock.ts';
import type { Config } from '../../config/defaults.ts';
import { InvalidTransaction } from '../../errors.ts';
import type { CaptchaVerifier } from '../../kyc/captcha.ts';
import type { AcrRule } from '../claims.ts';
import type { OidcState } from '../state.ts';
import type { SbiSettings } from './biometric-page.ts';
import type { ClientMetadata, InteractionPort } from './provider-port.ts';
import type { LoginTransaction, LoginTransactions } from './transactions.ts';

/**
 * A login session: what one request knows about a sign-in, loaded from oidc-provider's interaction
 * (its authorization request and client) and our transaction record beside it (same id).
 */
export interface LoginSession {
  readonly uid: string;
  /** The authorization request's parameters. */
  readonly params: Record<string, unknown>;
  readonly client: LoginClient;
  readonly tx: LoginTransaction;
}

export interface LoginClient {
  readonly clientId: string;
  readonly clientName?: string;
  readonly redirectUris: readonly string[];
  readonly meta: ClientMetadata;
}

/** What the login steps need, injected once when the routes are built. */
export interface LoginDeps {
  readonly clock: Clock;
  readonly oidc: Config['oidc'];
  readonly kbiFields: readonly string[];
  readonly state: OidcState;
  readonly transactions: LoginTransactions;
  readonly acrTable: readonly AcrRule[];
  readonly captcha: CaptchaVerifier;
  readonly audit: AuditLog;
  /** The biometric page's capture-device settings (config kyc.biometric.sbi). */
  readonly sbi?: SbiSettings;
}

/** Loads the session of interaction `uid`; throws InvalidTransaction when it is gone or over. */
export async function openSession(
  deps: LoginDeps,
  port: InteractionPort,
  uid: string,
): Promise<LoginSession> {
  const details = await port.details(uid);
  const params = details.params;
  const found = await port.findClient(params.client_id);
  if (!found) throw new InvalidTransaction('the application of this sign-in is no longer registered');
  const tx = await deps.transactions.open(details.uid, found.clientId);
  if (deps.transactions.expired(tx)) throw new InvalidTransaction('this sign-in has expired');
  const client = {
    clientId: found.clientId,
    clientName: found.clientName,
    redirectUris: found.redirectUris,
    meta: found.metadata(),
  };
  return { uid: details.uid, params, client, tx };
}

/** Seconds until the OTP may be sent again (the page's and the API's countdown). */
export function resendAfterSeconds(deps: LoginDeps, otp: { resendAt: number }): number {
  return Math.max(0, Math.ceil((otp.resendAt - deps.clock.now()) / 1000));
}
