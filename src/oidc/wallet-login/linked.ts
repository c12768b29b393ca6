import { createHash } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import { AccessDenied, AppError } from '../../errors.ts';
import type { AuthResult } from '../../kyc/spi.ts';
import { recordSummaries } from '../../kyc/verification.ts';
import { poolRandomBytes, randomId } from '../../random.ts';
import type { Store, StoredDoc } from '../../store/spi.ts';
import { satisfiedAcr } from '../claims.ts';
import { acrRules, claimSet, factorsFor, systemFor, transactionRef } from '../interaction/policy.ts';
import type { LoginDeps, LoginSession } from '../interaction/session.ts';
import { checkOfferedPerson } from '../interaction/steps.ts';
import type { WalletLoginTarget } from './requests.ts';

/**
 * eSignet's linked-wallet login in the pages (eSignet `LinkedAuthorizationController`,
 * `/linked-authorization/*`): the login page shows a QR code carrying a one-time link code; the
 * wallet sends the code (`link-transaction`) and gets the linked transaction, then signs this
 * service's wallet challenge with the key it bound after a one-time code (the JSON API's
 * `bind-wallet`, src/kyc/wallet.ts) and sends it (`authenticate`, factor `WLA`); the page, polling,
 * moves on to consent by itself. Consent is given in the browser, not in the wallet.
 *
 * Link codes: 15 letters and digits from a CSPRNG (eSignet draws them with ThreadLocalRandom), kept
 * as their SHA-256 only, single use (the first `link-transaction` takes it), expiring after 60 s
 * (eSignet `mosip.esignet.link-code-expire-in-secs=60`). A linked transaction lives 300 s (eSignet's
 * `linked` cache) and takes one `authenticate` answer: accepted or refused, a second one is refused.
 */

/** eSignet `mosip.esignet.link-code-expire-in-secs` default. */
export const LINK_CODE_TTL_SECONDS = 60;
/** eSignet's `linked` cache TTL: how long the wallet has to authenticate after linking. */
export const LINKED_TTL_SECONDS = 300;
/** eSignet `mosip.esignet.link-code-length` default. */
const LINK_CODE_LENGTH = 15;
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** eSignet's default `wallet.deep-link-uri` (application-default.properties: Inji's `wla-auth`). */
export const DEEP_LINK = 'io.mosip.residentapp.inji://wla-auth';
/** eSignet `LinkedKycAuthRequest.challengeList` size bounds and WLA format (`jwt`). */
const MAX_CHALLENGES = 5;
const MAX_CHALLENGE_CHARS = 2000;

interface LinkDoc extends StoredDoc {
  /** SHA-256 of the link code (the code itself is never stored). */
  _id: string;
  uid: string;
  login: WalletLoginTarget;
  /** What `link-transaction` tells the wallet about the sign-in (eSignet LinkTransactionResponseV2). */
  client: { names: Record<string, string>; logoUrl: string | null };
  essentialClaims: string[];
  voluntaryClaims: string[];
  authorizeScopes: string[];
  createdAt: number;
  /** 0 until a wallet sent the code (compare-and-set: linked once). */
  linkedAt: number;
  linkTransactionId?: string;
  /** 0 until the wallet's `authenticate` was answered (compare-and-set: answered once). */
  answeredAt: number;
  /** `verified`, or why the wallet was refused (a page state). */
  outcome?: string;
}

interface LinkedDoc extends StoredDoc {
  /** The linkTransactionId. */
  _id: string;
  codeHash: string;
}

export interface NewLinkCode {
  /** The page's handle on the code (its SHA-256), for the status polling. */
  readonly ref: string;
  readonly linkCode: string;
  readonly expiresAt: number;
  /** eSignet's QR content: `io.mosip.residentapp.inji://wla-auth?linkCode=…&linkExpireDateTime=…`. */
  readonly deepLink: string;
}

/** eSignet's error answer: `errors: [{ errorCode, errorMessage }]` (ResponseWrapper). */
export class LinkedRefused extends AppError {}

const refused = (status: number, code: string, message: string) => new LinkedRefused(status, code, message);
const hashOf = (code: string) => createHash('sha256').update(code).digest('base64url');

export class LinkCodes {
  readonly #codes;
  readonly #linked;
  readonly #clock: Clock;

  constructor(deps: { store: Store; clock: Clock }) {
    this.#codes = deps.store.collection<LinkDoc>({ name: 'wallet_link_codes' });
    this.#linked = deps.store.collection<LinkedDoc>({ name: 'wallet_linked_transactions' });
    this.#clock = deps.clock;
  }

  async create(
    uid: string,
    fields: Pick<LinkDoc, 'login' | 'client' | 'essentialClaims' | 'voluntaryClaims' | 'authorizeScopes'>,
  ): Promise<NewLinkCode> {
    const now = this.#clock.now();
    const linkCode = newLinkCode();
    const expiresAt = now + LINK_CODE_TTL_SECONDS * 1000;
    const ref = hashOf(linkCode);
    await this.#codes.insert({
      _id: ref,
      uid,
      ...fields,
      createdAt: now,
      linkedAt: 0,
      answeredAt: 0,
      expiresAt,
    });
    const query = new URLSearchParams({ linkCode, linkExpireDateTime: new Date(expiresAt).toISOString() });
    return { ref, linkCode, expiresAt, deepLink: `${DEEP_LINK}?${query}` };
  }

  /** The live code record by its ref, or undefined. */
  async byRef(ref: unknown): Promise<LinkDoc | undefined> {
    if (typeof ref !== 'string' || ref.length > 64) return undefined;
    const doc = await this.#codes.get(ref);
    return doc && (doc.expiresAt ?? 0) > this.#clock.now() ? doc : undefined;
  }

  /** `link-transaction`: takes the code once; the record then lives as long as the linked transaction. */
  async link(linkCode: unknown): Promise<LinkDoc> {
    if (typeof linkCode !== 'string' || linkCode.length !== LINK_CODE_LENGTH)
      throw refused(400, 'invalid_link_code', 'the link code is unknown, has expired or was already used');
    const doc = await this.byRef(hashOf(linkCode));
    const now = this.#clock.now();
    const linkTransactionId = randomId(24);
    const expiresAt = now + LINKED_TTL_SECONDS * 1000;
    const taken =
      doc &&
      (await this.#codes.update(doc._id, { linkedAt: 0 }, { linkedAt: now, linkTransactionId, expiresAt }));
    if (!taken)
      throw refused(400, 'invalid_link_code', 'the link code is unknown, has expired or was already used');
    await this.#linked.insert({ _id: linkTransactionId, codeHash: taken._id, expiresAt });
    return taken;
  }

  /** The linked, unanswered record of `linkedTransactionId`, or undefined. */
  async linked(linkedTransactionId: unknown): Promise<LinkDoc | undefined> {
    if (typeof linkedTransactionId !== 'string' || linkedTransactionId.length > 64) return undefined;
    const linked = await this.#linked.get(linkedTransactionId);
    if (!linked || (linked.expiresAt ?? 0) <= this.#clock.now()) return undefined;
    const doc = await this.byRef(linked.codeHash);
    return doc && !doc.answeredAt ? doc : undefined;
  }

  /** The one conditional write that makes `authenticate` single use. */
  answer(ref: string, outcome: string): Promise<LinkDoc | undefined> {
    return this.#codes.update(ref, { answeredAt: 0 }, { answeredAt: this.#clock.now(), outcome });
  }
}

/** 15 letters and digits, uniformly drawn (rejection sampling over CSPRNG bytes). */
function newLinkCode(): string {
  let code = '';
  while (code.length < LINK_CODE_LENGTH) {
    for (const byte of poolRandomBytes(LINK_CODE_LENGTH)) {
      // 248 = 4 × 62: bytes above it would favour the first letters.
      if (byte < 248 && code.length < LINK_CODE_LENGTH) code += ALPHANUMERIC[byte % ALPHANUMERIC.length];
    }
  }
  return code;
}

/** The ACR a linked-wallet login satisfies here, or undefined when this login may not use one. */
export function linkedWalletAcr(deps: LoginDeps, session: LoginSession): string | undefined {
  const system = systemFor(deps, session);
  if (!system.walletNonce || !factorsFor(deps, session, system).includes('wallet')) return undefined;
  return satisfiedAcr(acrRules(deps, session), ['wallet']);
}

/** A new link code for this login (each page load and each "new code" is a new one). */
export async function newLinkCodeFor(
  deps: LoginDeps,
  codes: LinkCodes,
  session: LoginSession,
): Promise<NewLinkCode | undefined> {
  const acr = linkedWalletAcr(deps, session);
  if (!acr) return undefined;
  const system = systemFor(deps, session);
  const set = claimSet(deps, session);
  const issuerState = session.params.issuer_state;
  const { client } = session;
  return codes.create(session.uid, {
    login: {
      system: system.name,
      transaction: transactionRef(session),
      acr,
      ...(typeof issuerState === 'string' && issuerState !== '' ? { issuerState } : {}),
    },
    client: {
      names: { '@none': client.clientName ?? client.clientId, ...(client.meta.client_names ?? {}) },
      logoUrl: client.meta.logo_uri ?? null,
    },
    essentialClaims: set.essential,
    voluntaryClaims: set.voluntary,
    authorizeScopes: set.scopes,
  });
}

/**
 * `link-transaction` (eSignet LinkTransactionResponseV2: linkTransactionId, clientName, logoUrl,
 * authFactors, essentialClaims, voluntaryClaims, authorizeScopes, credentialScopes, configs), plus
 * `walletNonce`: the nonce this service's wallet challenge signs (eSignet's WLA JWT has none).
 */
export async function linkTransaction(deps: LoginDeps, codes: LinkCodes, linkCode: unknown) {
  const doc = await codes.link(linkCode);
  const system = deps.state.identitySystems.get(doc.login.system);
  const tx = await deps.transactions.open(doc.uid, doc.login.transaction.clientId);
  if (tx.auth || deps.transactions.expired(tx) || !system.walletNonce)
    throw refused(400, 'invalid_transaction', 'the sign-in this link code belongs to is over');
  return {
    linkTransactionId: doc.linkTransactionId,
    clientName: doc.client.names,
    logoUrl: doc.client.logoUrl,
    authFactors: [[{ type: 'WLA', count: 0, subTypes: null }]],
    essentialClaims: doc.essentialClaims,
    voluntaryClaims: doc.voluntaryClaims,
    authorizeScopes: doc.authorizeScopes,
    credentialScopes: [],
    configs: {},
    walletNonce: system.walletNonce(doc.login.transaction),
  };
}

export interface LinkedAuthenticate {
  readonly linkedTransactionId?: unknown;
  readonly individualId?: unknown;
  readonly challengeList?: unknown;
}

/**
 * `authenticate` (eSignet LinkedKycAuthRequest `{linkedTransactionId, individualId, challengeList}`
 * with one `{authFactorType: "WLA", format: "jwt", challenge}`): the identity system checks the
 * challenge against the key bound to that person (a key never bound, bound to someone else, or
 * expired is refused); the login transaction is then authenticated with acr linked-wallet.
 * Input is checked before anything is written; the transaction takes one answer.
 */
export async function linkedAuthenticate(
  deps: LoginDeps,
  codes: LinkCodes,
  input: LinkedAuthenticate,
): Promise<{ linkedTransactionId: string; consentAction: 'NOCAPTURE' }> {
  const { individualId, challengeList } = input;
  if (typeof individualId !== 'string' || individualId === '' || individualId.length > 64)
    throw refused(400, 'invalid_identifier', 'individualId is required');
  if (!Array.isArray(challengeList) || challengeList.length < 1 || challengeList.length > MAX_CHALLENGES)
    throw refused(400, 'invalid_no_of_challenges', 'challengeList must hold 1 to 5 challenges');
  const wla = challengeList.filter(
    (c): c is { challenge: unknown } =>
      !!c && typeof c === 'object' && (c as { authFactorType?: unknown }).authFactorType === 'WLA',
  );
  if (wla.length !== 1 || challengeList.length !== 1)
    throw refused(400, 'invalid_auth_factor_type', 'exactly one WLA challenge is accepted here');
  const [only] = wla as [{ challenge: unknown; format?: unknown }];
  if (only.format !== 'jwt')
    throw refused(400, 'invalid_challenge_format', 'the WLA challenge format is jwt');
  if (
    typeof only.challenge !== 'string' ||
    only.challenge === '' ||
    only.challenge.length > MAX_CHALLENGE_CHARS
  )
    throw refused(400, 'invalid_challenge', 'the WLA challenge must be a JWT');
  const doc = await codes.linked(input.linkedTransactionId);
  if (!doc)
    throw refused(400, 'invalid_transaction', 'the linked transaction is unknown, over or already answered');
  const { login } = doc;
  const tx = await deps.transactions.open(doc.uid, login.transaction.clientId);
  if (tx.auth || deps.transactions.expired(tx))
    throw refused(400, 'invalid_transaction', 'the sign-in this link belongs to is over');

  const system = deps.state.identitySystems.get(login.system);
  let auth: AuthResult | undefined;
  let failure: AppError | undefined;
  let outcome = 'verified';
  try {
    auth = await system.authenticate(
      individualId,
      [{ factor: 'wallet', value: only.challenge }],
      login.transaction,
    );
    await checkOfferedPerson(deps, login.issuerState, login.system, auth.accountId);
  } catch (error) {
    if (!(error instanceof AppError) || error.status >= 500) throw error;
    outcome = error instanceof AccessDenied ? 'offer_other_person' : 'not_linked_key';
    failure =
      error instanceof AccessDenied
        ? refused(403, 'access_denied', error.description)
        : refused(401, 'auth_failed', 'the wallet challenge was not accepted');
  }
  if (!(await codes.answer(doc._id, outcome)))
    throw refused(400, 'invalid_transaction', 'the linked transaction was already answered');
  if (failure || !auth) throw failure;
  const done = await deps.transactions.authenticated(doc.uid, {
    subject: auth.subject,
    accountId: auth.accountId,
    identitySystem: login.system,
    factors: ['wallet'],
    acr: login.acr,
    ...(auth.verifications?.length ? { verifications: recordSummaries(auth.verifications) } : {}),
    kycToken: auth.kycToken,
  });
  if (!done) throw refused(400, 'invalid_transaction', 'the sign-in this link belongs to is over');
  await deps.audit.record({
    type: 'login_succeeded',
    transactionId: doc.uid,
    clientId: login.transaction.clientId,
    subjectHash: deps.audit.subjectHash(auth.accountId),
    factors: ['wallet'],
  });
  return { linkedTransactionId: String(input.linkedTransactionId), consentAction: 'NOCAPTURE' };
}

export type LinkState =
  | { state: 'waiting'; expiresAt: number }
  | { state: 'linked'; expiresAt: number }
  | { state: 'expired' }
  | { state: 'verified' }
  | { state: 'refused'; reason: string };

/** What the waiting page shows for its link code. */
export async function linkState(codes: LinkCodes, uid: string, ref: unknown): Promise<LinkState> {
  const doc = await codes.byRef(ref);
  if (!doc || doc.uid !== uid) return { state: 'expired' };
  if (!doc.linkedAt) return { state: 'waiting', expiresAt: doc.expiresAt ?? 0 };
  if (!doc.answeredAt) return { state: 'linked', expiresAt: doc.expiresAt ?? 0 };
  return doc.outcome === 'verified'
    ? { state: 'verified' }
    : { state: 'refused', reason: doc.outcome ?? 'invalid' };
}
