import { randomInt } from 'node:crypto';
import type { AuditLog } from '../audit/audit.ts';
import type { Clock } from '../clock.ts';
import { NoAttemptsLeft, TooManyRequests } from '../errors.ts';
import type { Store, StoredDoc } from '../store/spi.ts';
import { hmac, safeEqual, sha256 } from './crypto.ts';
import type { Lockout } from './lockout.ts';
import type { OtpPurpose } from './spi.ts';

export interface OtpPolicy {
  length: number;
  ttlSeconds: number;
  maxSendsPerTransaction: number;
  maxSendsPerIndividual: number;
  sendWindowSeconds: number;
  resendCooldownSeconds: number;
}

interface OtpDoc extends StoredDoc {
  individualHash: string;
  purpose: OtpPurpose;
  codeHash: string;
  sentAt: number;
  expiresAt: number;
}

export interface IssuedOtp {
  /** The code itself: hand it to the notifier and forget it. Never log or store it. */
  readonly code: string;
  readonly expiresInSeconds: number;
  readonly resendAfterSeconds: number;
  readonly sendsLeft: number;
}

/** A one-time code of `length` digits from the CSPRNG (uniform: randomInt rejects biased draws). */
export function generateOtp(length: number): string {
  return randomInt(0, 10 ** length)
    .toString()
    .padStart(length, '0');
}

/**
 * One-time codes shared by identity systems (SECURITY.md row 16): CSPRNG digits, stored only as an
 * HMAC bound to the transaction, the individual and the purpose (a login code never binds a
 * wallet key, and the reverse), single use (consume-once), expiring, compared in constant time. Sending is limited per transaction and per individual, with a resend cooldown
 * (row 15). Wrong entries are limited by the shared Lockout (row 14).
 */
export class OtpService {
  private readonly codes;
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly key: Buffer;
  private readonly policy: OtpPolicy;
  private readonly lockout: Lockout;
  private readonly audit: AuditLog | undefined;

  constructor(deps: {
    store: Store;
    clock: Clock;
    key: Buffer;
    policy: OtpPolicy;
    lockout: Lockout;
    audit?: AuditLog;
  }) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.key = deps.key;
    this.policy = deps.policy;
    this.lockout = deps.lockout;
    this.audit = deps.audit;
    this.codes = deps.store.collection<OtpDoc>({ name: 'otps' });
  }

  private id(transactionId: string, purpose: OtpPurpose): string {
    return sha256(`otp|${purpose}|${transactionId}`);
  }

  private codeHash(transactionId: string, individualHash: string, purpose: OtpPurpose, code: string): string {
    return hmac(this.key, `${transactionId}|${individualHash}|${purpose}|${code}`);
  }

  /** Seconds until another code may be sent in this transaction (0: now). */
  async resendAfterSeconds(transactionId: string): Promise<number> {
    const cooldownMs = this.policy.resendCooldownSeconds * 1000;
    let next = 0;
    for (const purpose of PURPOSES) {
      const doc = await this.codes.get(this.id(transactionId, purpose));
      if (doc) next = Math.max(next, doc.sentAt + cooldownMs);
    }
    return Math.max(0, Math.ceil((next - this.clock.now()) / 1000));
  }

  /**
   * Checks and counts one send against the limits (resend cooldown, sends per transaction and per
   * individual); throws when a limit is reached. Returns the sends left. Identity systems that send
   * codes themselves (http) call it too. A blocked individual is not refused here: the answer
   * would tell that the ID is being guessed at, and blocked unknown and known IDs must look alike
   * (SECURITY.md row 47); the block is enforced where codes are checked (Lockout.attempt), and
   * `isBlocked` lets a system skip sending a code that could not be used.
   */
  async reserveSend(individualHash: string, transactionId: string): Promise<number> {
    const { policy } = this;
    if (policy.resendCooldownSeconds > 0) {
      const recent = await this.store.increment(`kyc:otp:cooldown:${transactionId}`, {
        ttlSeconds: policy.resendCooldownSeconds,
        limit: 1,
      });
      if (recent > 1) {
        const wait = Math.max(1, await this.resendAfterSeconds(transactionId));
        throw new TooManyRequests(`wait ${wait} seconds before asking for another code`, {
          headers: { 'Retry-After': String(wait) },
          extra: { resend_after_seconds: wait },
        });
      }
    }
    const sends = await this.store.increment(`kyc:otp:sends:tx:${transactionId}`, {
      ttlSeconds: 3600,
      limit: policy.maxSendsPerTransaction,
    });
    if (sends > policy.maxSendsPerTransaction) {
      throw new NoAttemptsLeft('no more codes can be sent in this login: start again');
    }
    const perIndividual = await this.store.increment(`kyc:otp:sends:id:${individualHash}`, {
      ttlSeconds: policy.sendWindowSeconds,
      limit: policy.maxSendsPerIndividual,
    });
    if (perIndividual > policy.maxSendsPerIndividual) {
      throw new TooManyRequests('too many codes were sent to this individual: try again later', {
        headers: { 'Retry-After': String(policy.sendWindowSeconds) },
      });
    }
    return policy.maxSendsPerTransaction - sends;
  }

  /** Whether the individual is blocked (too many failures): a code sent now could not be used. */
  isBlocked(individualHash: string): Promise<boolean> {
    return this.lockout.isBlocked(individualHash);
  }

  /**
   * Creates (or replaces) the transaction's code for `purpose` after checking the send limits. The
   * caller sends it; if sending fails it calls `discard`.
   */
  async issue(individualHash: string, transactionId: string, purpose: OtpPurpose): Promise<IssuedOtp> {
    const { policy } = this;
    const sendsLeft = await this.reserveSend(individualHash, transactionId);
    const code = generateOtp(policy.length);
    const now = this.clock.now();
    await this.codes.put({
      _id: this.id(transactionId, purpose),
      individualHash,
      purpose,
      codeHash: this.codeHash(transactionId, individualHash, purpose, code),
      sentAt: now,
      expiresAt: now + policy.ttlSeconds * 1000,
    });
    return {
      code,
      expiresInSeconds: policy.ttlSeconds,
      resendAfterSeconds: policy.resendCooldownSeconds,
      sendsLeft,
    };
  }

  /** Forgets the transaction's code for `purpose` (its delivery failed). */
  async discard(transactionId: string, purpose: OtpPurpose): Promise<void> {
    await this.codes.delete(this.id(transactionId, purpose));
  }

  /**
   * Checks a code without the attempt limits (callers wrap it in Lockout.attempt). True only for the
   * live, unused code of this transaction, this individual and this purpose; a correct code works once.
   */
  async check(
    individualHash: string,
    transactionId: string,
    code: string,
    purpose: OtpPurpose,
  ): Promise<boolean> {
    const id = this.id(transactionId, purpose);
    const doc = await this.codes.get(id);
    const presented = this.codeHash(transactionId, individualHash, purpose, code);
    const live = doc !== undefined && doc.expiresAt > this.clock.now() && doc['consumedAt'] === undefined;
    const matches =
      safeEqual(presented, doc?.codeHash ?? '') &&
      live &&
      doc?.individualHash === individualHash &&
      doc?.purpose === purpose;
    const ok =
      matches && (await this.codes.consume(id, { codeHash: presented, individualHash })) !== undefined;
    // Wrong, expired, already used or another person's code: recorded without the code itself.
    if (!ok) await this.audit?.record({ type: 'otp_failed', transactionId, individualHash });
    return ok;
  }

  /** check() under the attempt limits: the entry point when OTP is the only factor. */
  verify(individualHash: string, transactionId: string, code: string, purpose: OtpPurpose): Promise<boolean> {
    return this.lockout.attempt(individualHash, transactionId, () =>
      this.check(individualHash, transactionId, code, purpose),
    );
  }
}

const PURPOSES: readonly OtpPurpose[] = ['login', 'wallet_binding'];
