import { createHash } from 'node:crypto';
import { AccessDenied, AppError } from '../../errors.ts';
import type { AuthResult } from '../../kyc/spi.ts';
import { recordSummaries } from '../../kyc/verification.ts';
import type { Ledger } from '../../vci/ledger.ts';
import { satisfiedAcr } from '../claims.ts';
import { acrRules, factorsFor, systemFor, transactionRef } from '../interaction/policy.ts';
import type { LoginDeps, LoginSession } from '../interaction/session.ts';
import { checkOfferedPerson } from '../interaction/steps.ts';
import {
  type PresentationChecks,
  PresentationRefused,
  type VerifiedPresentation,
  verifySdJwtPresentation,
} from './presentation.ts';
import {
  DCQL_CREDENTIAL_ID,
  type SignedRequest,
  type WalletLoginTarget,
  type WalletRequests,
} from './requests.ts';

/**
 * The `vp` login step (log in with a wallet, OpenID4VP 1.0): the page asks for a request bound to
 * its login transaction, the wallet fetches it and posts its presentation to the response endpoint,
 * which verifies it, lets the identity system find the account, and authenticates the transaction.
 * The page, polling, then moves on to consent. Nothing of the presentation is kept but its hash.
 */

export interface WalletLogin {
  readonly requests: WalletRequests;
  readonly checks: PresentationChecks;
  /** Whom the presented credential was issued to (the issuance ledger's HMAC, src/vci/ledger.ts). */
  readonly ledger: Pick<Ledger, 'issuedTo'>;
}

/** OpenID4VP error answer of the response endpoint (400, `{error, error_description}`). */
export class WalletResponseRefused extends AppError {
  constructor(refused: PresentationRefused) {
    super(400, refused.code, refused.message);
  }
}

/** The ACR a wallet presentation satisfies here, or undefined when this login may not use one. */
export function walletAcr(deps: LoginDeps, session: LoginSession): string | undefined {
  const system = systemFor(deps, session);
  if (!system.authenticateHolder || !factorsFor(deps, session, system).includes('vp')) return undefined;
  return satisfiedAcr(acrRules(deps, session), ['vp']);
}

/** A new request for this login (each QR code, and each "new code", is a new one). */
export async function newWalletRequest(
  deps: LoginDeps,
  wallet: WalletLogin,
  session: LoginSession,
): Promise<SignedRequest | undefined> {
  const acr = walletAcr(deps, session);
  // No identity credential to ask for (its configuration retired): no wallet login.
  if (!acr || wallet.requests.policy.vcts().length === 0) return undefined;
  const system = systemFor(deps, session);
  const issuerState = session.params.issuer_state;
  return wallet.requests.create(session.uid, {
    system: system.name,
    transaction: transactionRef(session),
    acr,
    ...(typeof issuerState === 'string' && issuerState !== '' ? { issuerState } : {}),
  });
}

export type WalletState =
  | { state: 'waiting'; expiresAt: number }
  | { state: 'expired' }
  | { state: 'verified' }
  | { state: 'refused'; reason: string };

/** What the waiting page shows for its request. */
export async function walletState(
  wallet: WalletLogin,
  uid: string,
  requestId: unknown,
): Promise<WalletState> {
  const request = await wallet.requests.get(requestId);
  if (!request || request.uid !== uid) return { state: 'expired' };
  if (!request.answeredAt) return { state: 'waiting', expiresAt: request.expiresAt ?? 0 };
  return request.outcome === 'verified'
    ? { state: 'verified' }
    : { state: 'refused', reason: request.outcome ?? 'invalid' };
}

const refused = (code: PresentationRefused['code'], reason: string, description: string) =>
  new WalletResponseRefused(new PresentationRefused(code, reason, description));

/**
 * The response endpoint's work (OpenID4VP 1.0 §8.2, `direct_post`): `state` names the request,
 * `vp_token` is the DCQL answer `{ "identity": ["<SD-JWT VC presentation>"] }`. Everything that can
 * refuse without a side effect runs first; then one conditional write answers the request (a
 * second answer, the same presentation replayed or another one, is refused), and the login
 * transaction is authenticated.
 */
export async function receivePresentation(
  deps: LoginDeps,
  wallet: WalletLogin,
  form: { state?: string; vp_token?: string },
): Promise<void> {
  const request = await wallet.requests.get(form.state);
  if (!request) throw refused('invalid_request', 'expired', 'the request is unknown or has expired');
  const vpToken = form.vp_token ?? '';
  const hash = createHash('sha256').update(vpToken).digest('base64url');
  if (request.answeredAt) {
    throw refused(
      'invalid_request',
      'replayed',
      request.presentationHash === hash
        ? 'this presentation was already received'
        : 'this request was already answered',
    );
  }
  const presentation = parseVpToken(vpToken);
  const { login } = request;
  const tx = await deps.transactions.open(request.uid, login.transaction.clientId);
  if (tx.auth || deps.transactions.expired(tx))
    throw refused('invalid_request', 'expired', 'the sign-in this request belongs to is over');
  const audience = await wallet.requests.clientId();
  let outcome = 'verified';
  let failure: WalletResponseRefused | undefined;
  let auth: AuthResult | undefined;
  try {
    const verified = await verifySdJwtPresentation(wallet.checks, presentation, {
      nonce: request.nonce,
      audience,
    });
    const system = deps.state.identitySystems.get(login.system);
    if (!system.authenticateHolder)
      throw new PresentationRefused('access_denied', 'not_linked', 'no wallet login here');
    try {
      auth = await system.authenticateHolder(verified.holderJwk, login.transaction);
    } catch (error) {
      if (!(error instanceof AppError) || error.status >= 500) throw error;
      throw new PresentationRefused(
        'access_denied',
        'not_linked',
        'the credential is not linked to an account for signing in',
      );
    }
    await checkPerson(deps, wallet, login, verified, auth);
  } catch (error) {
    if (!(error instanceof PresentationRefused)) throw error;
    outcome = error.reason;
    failure = new WalletResponseRefused(error);
  }
  // A presentation made for another request leaves this one open for its own wallet.
  if (failure && outcome === 'other_request') throw failure;
  if (!(await wallet.requests.answer(request._id, hash, outcome)))
    throw refused('invalid_request', 'replayed', 'this request was already answered');
  if (failure || !auth) throw failure;
  const done = await deps.transactions.authenticated(request.uid, {
    subject: auth.subject,
    accountId: auth.accountId,
    identitySystem: login.system,
    factors: ['vp'],
    acr: login.acr,
    ...(auth.verifications?.length ? { verifications: recordSummaries(auth.verifications) } : {}),
    kycToken: auth.kycToken,
  });
  if (!done) throw refused('invalid_request', 'expired', 'the sign-in this request belongs to is over');
  await deps.audit.record({
    type: 'login_succeeded',
    transactionId: request.uid,
    clientId: login.transaction.clientId,
    subjectHash: deps.audit.subjectHash(auth.accountId),
    factors: ['vp'],
  });
}

/**
 * The person behind the holder key must be the person the credential was issued to (the ledger's
 * HMAC of the account, looked up by the credential's status list entry; a credential the ledger
 * cannot place is refused), and, when the login came through a credential offer made for one
 * person, that person (checkOfferedPerson, as for every other factor).
 */
async function checkPerson(
  deps: LoginDeps,
  wallet: WalletLogin,
  login: WalletLoginTarget,
  verified: VerifiedPresentation,
  auth: AuthResult,
): Promise<void> {
  const account = { identitySystem: login.system, accountId: auth.accountId };
  const issuedTo = verified.statusEntry
    ? await wallet.ledger.issuedTo(verified.statusEntry, account)
    : undefined;
  if (issuedTo !== true)
    throw new PresentationRefused(
      'access_denied',
      'not_yours',
      issuedTo === false
        ? 'the credential was issued to another person'
        : 'the credential is not one this service can attribute to a person',
    );
  try {
    await checkOfferedPerson(deps, login.issuerState, login.system, auth.accountId);
  } catch (error) {
    if (error instanceof AccessDenied)
      throw new PresentationRefused('access_denied', 'offer_other_person', error.message);
    if (error instanceof AppError && error.status < 500)
      throw new PresentationRefused('invalid_request', 'expired', error.message);
    throw error;
  }
}

function parseVpToken(vpToken: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(vpToken);
  } catch {
    throw refused('invalid_request', 'invalid', 'vp_token must be a JSON object (DCQL response)');
  }
  const answer = (parsed as Record<string, unknown> | null)?.[DCQL_CREDENTIAL_ID];
  if (!Array.isArray(answer) || answer.length !== 1 || typeof answer[0] !== 'string')
    throw refused(
      'invalid_request',
      'invalid',
      `vp_token must hold one presentation for "${DCQL_CREDENTIAL_ID}"`,
    );
  return answer[0];
}
