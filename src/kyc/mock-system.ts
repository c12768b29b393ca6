import { randomBytes } from 'node:crypto';
import { AuthFailed, InvalidRequest, InvalidTransaction, NotFound } from '../errors.ts';
import { selectClaims } from './claims.ts';
import type { KycContext } from './context.ts';
import { hashSecret, pairwiseSubject, verifySecret } from './crypto.ts';
import type { Identity, IdentityDoc } from './identity-store.ts';
import { kbiMatches, parseKbiAnswers } from './kbi.ts';
import { decoyDestination, maskDestination } from './mask.ts';
import type {
  AuthResult,
  Challenge,
  Factor,
  IdentitySystem,
  IndividualId,
  KycResult,
  OtpChannel,
  OtpPurpose,
  OtpSent,
  PersonMessage,
  TransactionRef,
} from './spi.ts';
import { parseVerificationRecords, recordSummaries, recordsCovering } from './verification.ts';
import { checkWalletKey } from './wallet.ts';

const FACTORS: readonly Factor[] = ['otp', 'pin', 'password', 'kbi', 'biometric', 'wallet', 'vp'];
const CHANNELS: readonly OtpChannel[] = ['sms', 'email'];
const MAX_CHALLENGES = 5;

/** The same answer for an unknown individual and a wrong secret (no enumeration through login). */
const authFailed = () =>
  new AuthFailed('authentication failed: check the individual ID and what you entered, then try again');

/** What the person reads with a code: what it is for, in plain words (wallet binding above all). */
function codeMessage(purpose: OtpPurpose, code: string, minutes: number) {
  return purpose === 'wallet_binding'
    ? {
        subject: 'Code to link a wallet to your identity',
        text:
          `Someone asked to link a digital wallet to your identity. With this wallet they could sign in as you ` +
          `without a code. If that was you, your code is ${code}; it expires in ${minutes} minutes. ` +
          'If it was not you, do not share this code with anyone.',
      }
    : {
        subject: 'Your sign-in code',
        text: `Your one-time sign-in code is ${code}. It expires in ${minutes} minutes. Never share it with anyone.`,
      };
}

export const contactFor = (claims: Record<string, unknown>, channel: OtpChannel): string | undefined => {
  const value = claims[channel === 'email' ? 'email' : 'phone_number'];
  return typeof value === 'string' && value ? value : undefined;
};

/**
 * The mock identity system: identities kept in our own store (collection `identities`, sealed),
 * every factor, wallet binding included. Good enough to run the whole product without a registry, and the
 * reference for what an identity system must do.
 */
export function createMockSystem(name: string, context: KycContext): IdentitySystem {
  const { identities, lockout, otp, tokens, biometric, wallets, notifications, services } = context;
  const { config } = services;
  // Verified against when the individual or the factor's secret is unknown, so that path costs
  // one scrypt like the real one (SECURITY.md row 47).
  const dummyHash = hashSecret(randomBytes(16).toString('base64url'), config.kyc.scryptCost);

  async function verifyChallenge(
    challenge: Challenge,
    individualId: string,
    individualHash: string,
    doc: IdentityDoc | undefined,
    transaction: TransactionRef,
    otpPurpose: OtpPurpose = 'login',
  ): Promise<boolean> {
    const { value } = challenge;
    switch (challenge.factor) {
      case 'otp':
        return typeof value === 'string' && /^\d{4,10}$/.test(value)
          ? otp.check(individualHash, transaction.transactionId, value, otpPurpose)
          : false;
      case 'pin':
      case 'password': {
        const stored = challenge.factor === 'pin' ? doc?.pinHash : doc?.passwordHash;
        const valid = typeof value === 'string' && value.length > 0 && value.length <= 128;
        const matches = await verifySecret(valid ? value : '', stored ?? (await dummyHash));
        return valid && stored !== undefined && matches;
      }
      case 'kbi': {
        const answers = parseKbiAnswers(value);
        return Boolean(
          doc && answers && kbiMatches(answers, identities.open(doc).claims, config.kyc.kbiFields),
        );
      }
      case 'biometric':
        return biometric.verify(value, individualId, transaction);
      case 'wallet':
        return wallets.verify(value, doc?._id, transaction.transactionId);
      default:
        return false;
    }
  }

  /** The identity's verification records (validated when stored: admin API and demo seed). */
  function verificationsOf(identity: Identity) {
    return parseVerificationRecords(identity.verification, Object.keys(identity.claims));
  }

  async function claimsOf(
    identity: Identity | undefined,
    accepted: readonly string[],
    locales: readonly string[],
  ) {
    if (!identity) throw new InvalidTransaction('the account no longer exists in the identity system');
    if (identity.pending) return { claims: {}, pending: true } satisfies KycResult;
    const claims = selectClaims(identity.claims, accepted, locales, config.kyc.defaultClaimsLocale);
    const verifications = recordsCovering(verificationsOf(identity), Object.keys(claims));
    return { claims, ...(verifications.length > 0 ? { verifications } : {}) } satisfies KycResult;
  }

  /**
   * After a binding: tells the person, on their phone or else their e-mail, that a wallet now signs
   * in as them. A failed notice does not undo the binding (logged without personal data).
   */
  async function tellBound(claims: Record<string, unknown>, expiresAt: number): Promise<void> {
    const channel = (['sms', 'email'] as const).find((c) => contactFor(claims, c));
    if (!channel) return;
    try {
      await notifications.deliver({
        channel,
        to: contactFor(claims, channel)!,
        subject: 'A wallet was linked to your identity',
        text:
          'A digital wallet was just linked to your identity. It can sign in as you until ' +
          `${new Date(expiresAt).toISOString().slice(0, 10)}. If this was not you, contact us at once.`,
        purpose: 'wallet_bound',
      });
    } catch (error) {
      services.logger.warn({ reason: (error as Error).name }, 'wallet binding notice not delivered');
    }
  }

  /** A successful authentication: a KYC token for these factors, the pairwise subject, record summaries. */
  async function authenticated(
    identity: Identity,
    transaction: TransactionRef,
    factors: Factor[],
  ): Promise<AuthResult> {
    const { accountId } = identity;
    const verifications = recordSummaries(verificationsOf(identity));
    return {
      kycToken: await tokens.issue({ accountId, clientId: transaction.clientId, system: name, factors }),
      accountId,
      subject: pairwiseSubject(
        transaction.sectorIdentifier ?? transaction.clientId,
        accountId,
        context.subjectSalt,
      ),
      factors,
      ...(verifications.length > 0 ? { verifications } : {}),
    };
  }

  async function resolvePerson(who: string): Promise<Identity | undefined> {
    return (await identities.get(who)) ?? (await identities.byIndividualId(who));
  }

  return {
    name,
    supportedFactors: () => FACTORS,
    otpChannels: () => CHANNELS,
    kbiFields: () => config.kyc.kbiFields,
    walletNonce: (transaction) => wallets.nonceFor(transaction.transactionId),

    async authenticateHolder(holderJwk, transaction): Promise<AuthResult> {
      const accountId = await wallets.accountForKey(holderJwk);
      if (!accountId) throw new AuthFailed('the credential is not linked to an account for signing in');
      const identity = await identities.get(accountId);
      if (!identity) throw new AuthFailed('the credential is not linked to an account for signing in');
      return authenticated(identity, transaction, ['vp']);
    },

    async bindWallet(individualId, challenges, publicKeyJwk, transaction) {
      if (typeof individualId !== 'string' || !individualId.trim() || individualId.length > 64) {
        throw new InvalidRequest('individual ID is missing or too long');
      }
      const [challenge, ...rest] = Array.isArray(challenges) ? challenges : [];
      if (challenge?.factor !== 'otp' || rest.length > 0) {
        throw new InvalidRequest('wallet binding needs exactly one challenge: the one-time code');
      }
      // The key is checked before the code is spent on it.
      await checkWalletKey(publicKeyJwk);
      const individualHash = identities.hashIndividualId(individualId);
      const doc = await identities.findDoc(individualId);
      const ok = await lockout.attempt(individualHash, transaction.transactionId, async () => {
        const matches = await verifyChallenge(
          challenge,
          individualId,
          individualHash,
          doc,
          transaction,
          'wallet_binding',
        );
        return doc !== undefined && matches;
      });
      if (!ok || !doc) throw authFailed();
      const bound = await wallets.bind(doc._id, publicKeyJwk);
      await tellBound(identities.open(doc).claims, bound.expiresAt);
      return bound;
    },

    /**
     * Known and unknown IDs take the same steps (SECURITY.md row 47): the send limits count, and a
     * code is created and stored, for both. Only a person with a contact on the channel, and not
     * blocked, is sent it; anyone else gets a decoy destination and nothing is sent.
     */
    async sendOtp(
      individualId: IndividualId,
      channel: OtpChannel,
      transaction: TransactionRef,
      purpose: OtpPurpose = 'login',
    ): Promise<OtpSent> {
      if (!CHANNELS.includes(channel)) throw new InvalidRequest('channel must be sms or email');
      if (typeof individualId !== 'string' || !individualId.trim() || individualId.length > 64) {
        throw new InvalidRequest('individual ID is missing or too long');
      }
      const individualHash = identities.hashIndividualId(individualId);
      const doc = await identities.findDoc(individualId);
      const issued = await otp.issue(individualHash, transaction.transactionId, purpose);
      const to = doc ? contactFor(identities.open(doc).claims, channel) : undefined;
      const blocked = await otp.isBlocked(individualHash);
      const answer = {
        maskedTo: to
          ? maskDestination(channel, to)
          : decoyDestination(context.decoyKey, channel, individualId),
        resendAfterSeconds: issued.resendAfterSeconds,
        expiresInSeconds: issued.expiresInSeconds,
        sendsLeft: issued.sendsLeft,
      };
      if (!to || blocked) return { ...answer, dispatched: false };
      try {
        await notifications.deliver({
          channel,
          to,
          ...codeMessage(purpose, issued.code, Math.ceil(issued.expiresInSeconds / 60)),
          purpose: purpose === 'login' ? 'otp' : purpose,
        });
      } catch (error) {
        await otp.discard(transaction.transactionId, purpose);
        throw error;
      }
      return { ...answer, dispatched: true };
    },

    async authenticate(
      individualId: IndividualId,
      challenges: readonly Challenge[],
      transaction: TransactionRef,
    ): Promise<AuthResult> {
      if (typeof individualId !== 'string' || !individualId.trim() || individualId.length > 64) {
        throw new InvalidRequest('individual ID is missing or too long');
      }
      if (!Array.isArray(challenges) || challenges.length === 0 || challenges.length > MAX_CHALLENGES) {
        throw new InvalidRequest(`between 1 and ${MAX_CHALLENGES} challenges are required`);
      }
      for (const challenge of challenges) {
        if (!FACTORS.includes(challenge.factor))
          throw new InvalidRequest(`unsupported factor ${challenge.factor}`);
      }
      const individualHash = identities.hashIndividualId(individualId);
      const doc = await identities.findDoc(individualId);
      const ok = await lockout.attempt(individualHash, transaction.transactionId, async () => {
        // Every challenge is checked (no early exit), so the time does not tell which one failed.
        const results = await Promise.all(
          challenges.map((c) => verifyChallenge(c, individualId, individualHash, doc, transaction)),
        );
        return doc !== undefined && results.every(Boolean);
      });
      if (!ok || !doc) throw authFailed();
      return authenticated(identities.open(doc), transaction, [...new Set(challenges.map((c) => c.factor))]);
    },

    async exchangeKyc(
      kycToken,
      acceptedClaims,
      claimsLocales,
      options: { clientId?: string } = {},
    ): Promise<KycResult> {
      const binding = await tokens.resolve(kycToken, options.clientId);
      return claimsOf(await identities.get(binding.accountId), acceptedClaims, claimsLocales);
    },

    async claimsForAccount(accountId, acceptedClaims, claimsLocales): Promise<KycResult> {
      return claimsOf(await identities.get(accountId), acceptedClaims, claimsLocales);
    },

    async accountFor(individualId: IndividualId): Promise<string | undefined> {
      return (await identities.findDoc(individualId))?._id;
    },

    /**
     * The mock knows no partner-specific tokens of its own: it maps a subject that is one of its
     * account ids (an authorization server in front of the same registry that uses them as `sub`).
     */
    async resolveExternalSubject({ subject }): Promise<string | undefined> {
      try {
        await identities.get(subject);
        return subject;
      } catch {
        return undefined;
      }
    },

    async sendMessage(who: string, message: PersonMessage): Promise<{ maskedTo: string }> {
      const person = await resolvePerson(who);
      if (!person) throw new NotFound('no such person in the identity system');
      const preferred: OtpChannel[] = message.channel === 'sms' ? ['sms', 'email'] : ['email', 'sms'];
      const channel = preferred.find((c) => contactFor(person.claims, c));
      if (!channel) throw new InvalidRequest('the person has no registered e-mail address or phone number');
      const to = contactFor(person.claims, channel)!;
      await notifications.deliver({
        channel,
        to,
        subject: message.subject,
        text: message.text,
        purpose: message.purpose ?? 'notice',
      });
      return { maskedTo: maskDestination(channel, to) };
    },
  };
}
