import { AccessDenied, AppError, AuthFailed, InvalidRequest, InvalidTransaction } from '../../errors.ts';
import type { Challenge, Factor, IdentitySystem, OtpPurpose, OtpSent } from '../../kyc/spi.ts';
import { recordSummaries } from '../../kyc/verification.ts';
import { satisfiedAcr } from '../claims.ts';
import { finishLogin } from './finish.ts';
import {
  acrRules,
  claimSet,
  consentRequired,
  factorsFor,
  systemFor,
  transactionRef,
  unmetReason,
} from './policy.ts';
import type { InteractionPort } from './provider-port.ts';
import type { LoginDeps, LoginSession } from './session.ts';

/**
 * The steps of a login, shared by the pages and the JSON API: send a code, authenticate one factor,
 * bind a wallet, consent (released = requested ∩ client-allowed ∩ accepted), finish or abort. Each
 * takes the session and typed input, and throws the errors of src/errors.ts.
 */

export const UNMET = 'unmet_authentication_requirements';

/** The login cannot succeed here; the relying party was told, the browser goes to `redirectTo`. */
export class UnmetAuthenticationRequirements extends AppError {
  readonly redirectTo: string;
  constructor(description: string, redirectTo: string) {
    super(400, UNMET, description, { extra: { redirect_to: redirectTo } });
    this.redirectTo = redirectTo;
  }
}

/**
 * An authentication requirement nobody could meet here (see `unmetReason`) ends the login with an
 * error response to the relying party; otherwise the person would log in and oidc-provider, finding
 * the essential `acr` unmet, would start another login, and so on.
 */
export async function refuseUnmet(
  deps: LoginDeps,
  port: InteractionPort,
  session: LoginSession,
): Promise<void> {
  if (session.tx.auth) return;
  const reason = unmetReason(deps, session);
  if (!reason) return;
  const to = await port.finish({ error: UNMET, error_description: reason });
  throw new UnmetAuthenticationRequirements(reason, to);
}

export interface SendCode {
  readonly individualId: string;
  readonly captchaToken: unknown;
  readonly purpose: OtpPurpose;
}

/**
 * Sends a code for logging in (`login`) or for binding a wallet key (`wallet_binding`); the code
 * only works for its purpose. The captcha (config `kyc.captcha.requiredFor`: `send-otp`,
 * `binding-otp`) is checked before anything is sent (SECURITY.md row 15); the OTP send limits per
 * transaction and per individual apply to both purposes. Known and unknown Individual IDs get the
 * same answer (SECURITY.md row 47): the identity system shows a decoy destination for the latter.
 */
export async function sendCode(deps: LoginDeps, session: LoginSession, input: SendCode): Promise<OtpSent> {
  const { individualId, purpose } = input;
  if (!individualId) throw new InvalidRequest('individual_id is required');
  if (individualId.length > 64) throw new InvalidRequest('individual_id is too long');
  const system = systemFor(deps, session);
  const allowed = factorsFor(deps, session, system);
  if (purpose === 'login' && !allowed.includes('otp'))
    throw new InvalidRequest('a one-time code is not allowed here');
  if (purpose === 'wallet_binding' && !(allowed.includes('wallet') && system.bindWallet))
    throw new InvalidRequest('wallet binding is not available here');
  const channel = system.otpChannels()[0];
  if (!channel) throw new InvalidRequest('this identity system cannot send one-time codes');
  await deps.captcha.check(purpose === 'login' ? 'send-otp' : 'binding-otp', input.captchaToken);
  const sent = await system.sendOtp(individualId, channel, transactionRef(session), purpose);
  const resendAt = deps.clock.now() + (sent.resendAfterSeconds ?? 0) * 1000;
  await deps.transactions.rememberIndividual(session.uid, individualId, {
    maskedTo: sent.maskedTo,
    resendAt,
  });
  return sent;
}

export interface Authenticate {
  readonly factor: string;
  readonly individualId: string;
  readonly value: Challenge['value'];
  readonly captchaToken: unknown;
}

/** Verifies one factor; resolves to the session, now authenticated. */
export async function authenticate(
  deps: LoginDeps,
  session: LoginSession,
  input: Authenticate,
): Promise<LoginSession> {
  const { individualId, value } = input;
  const factor = input.factor as Factor;
  const system = systemFor(deps, session);
  if (!factorsFor(deps, session, system).includes(factor)) {
    throw new InvalidRequest(`the factor "${input.factor}" is not allowed for this sign-in`);
  }
  if (!individualId) throw new InvalidRequest('individual_id is required');
  if (value === '' || value === undefined) throw new InvalidRequest('the challenge value is required');
  // Before the attempt counts: a bot without a solved captcha spends nobody's attempts.
  await deps.captcha.check('authenticate', input.captchaToken);
  const result = await system.authenticate(individualId, [{ factor, value }], transactionRef(session));
  await checkOfferedPerson(deps, session.params.issuer_state, system.name, result.accountId);
  const verified = [...new Set([...result.factors, factor])];
  const acr = satisfiedAcr(acrRules(deps, session), verified);
  if (!acr) throw new AuthFailed('the verified factors do not satisfy the requested authentication level');
  const tx = await deps.transactions.authenticated(session.uid, {
    subject: result.subject,
    accountId: result.accountId,
    identitySystem: system.name,
    factors: verified,
    acr,
    ...(result.verifications?.length ? { verifications: recordSummaries(result.verifications) } : {}),
    kycToken: result.kycToken,
  });
  if (!tx) throw new InvalidTransaction('this sign-in was already completed');
  return { ...session, tx };
}

/**
 * OpenID4VCI 1.0 §5.1.3 (https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html#section-5.1.3):
 * an authorization-code offer made for one person (`individual_id` at `POST /admin/credential-offers`)
 * binds its `issuer_state` to that person. Anybody else who signs in through it is refused, after
 * their own factor verified (so nothing about the offer's person is revealed before that).
 * `issuerState` is the login's `issuer_state` parameter; every way of logging in (the factors here,
 * the wallet presentation in src/oidc/wallet-login) runs this check once it knows the account.
 */
export async function checkOfferedPerson(
  deps: Pick<LoginDeps, 'state'>,
  issuerState: unknown,
  identitySystem: string,
  accountId: string,
): Promise<void> {
  if (typeof issuerState !== 'string' || issuerState === '') return;
  const offer = await deps.state.issuerStates.resolve(issuerState);
  // The authorization endpoint refused unknown ones; an offer may have expired since.
  if (!offer) throw new InvalidRequest('issuer_state is unknown or has expired');
  if (offer.accountId === undefined) return;
  if (offer.accountId !== accountId || offer.identitySystem !== identitySystem)
    throw new AccessDenied('this credential offer was made for another person');
}

/** After authentication: a remembered consent for the same claim set finishes at once. */
export async function finishIfConsented(
  deps: LoginDeps,
  port: InteractionPort,
  session: LoginSession,
): Promise<string | undefined> {
  const auth = session.tx.auth;
  if (!auth || consentRequired(session)) return undefined;
  const set = claimSet(deps, session);
  const remembered = await deps.state.consents.matching(
    session.client.clientId,
    auth.subject,
    set.fingerprint,
  );
  if (!remembered) return undefined;
  if (!(await deps.transactions.claimConsent(session.uid)))
    throw new InvalidTransaction('this sign-in was already completed');
  return finishLogin(deps, port, session, {
    set,
    accepted: remembered.acceptedClaims,
    rememberedUntil: remembered.expiresAt,
  });
}

/** Consent once: the accepted claims must be among those requested. Resolves to where to go. */
export async function consent(
  deps: LoginDeps,
  port: InteractionPort,
  session: LoginSession,
  accepted: readonly string[],
): Promise<string> {
  if (!session.tx.auth) throw new InvalidTransaction('sign in before giving consent');
  const set = claimSet(deps, session);
  const unknown = accepted.filter((c) => !set.voluntary.includes(c) && !set.essential.includes(c));
  if (unknown.length) throw new InvalidRequest(`claims not requested: ${unknown.join(', ')}`);
  if (!(await deps.transactions.claimConsent(session.uid)))
    throw new InvalidTransaction('consent was already given');
  return finishLogin(deps, port, session, { set, accepted });
}

export interface BindWallet {
  readonly individualId: string;
  readonly otp: string;
  readonly publicKey: unknown;
}

type WalletBinder = Required<Pick<IdentitySystem, 'bindWallet'>>;

/** The identity system that binds wallets for this login; throws when it may not. */
export function walletBinder(deps: LoginDeps, session: LoginSession): WalletBinder {
  const system = systemFor(deps, session);
  const bind = system.bindWallet;
  if (!bind || !factorsFor(deps, session, system).includes('wallet'))
    throw new InvalidRequest('wallet binding is not available here');
  return { bindWallet: bind.bind(system) };
}

/**
 * Wallet binding (SECURITY.md row 49): after a code sent for `wallet_binding`, the identity system
 * binds the wallet's public JWK to the person's account for `kyc.walletBindingTtlSeconds`. The login
 * is not authenticated by this: the wallet then signs `wallet_nonce` and authenticates with `wallet`.
 */
export function bindWallet(
  binder: WalletBinder,
  session: LoginSession,
  input: BindWallet,
): Promise<{ thumbprint: string; expiresAt: number }> {
  if (!input.individualId) throw new InvalidRequest('individual_id is required');
  if (!input.otp) throw new InvalidRequest('otp is required');
  return binder.bindWallet(
    input.individualId,
    [{ factor: 'otp', value: input.otp }],
    input.publicKey,
    transactionRef(session),
  );
}
