import type { AuditLog } from '../audit/audit.ts';
import type { Clock } from '../clock.ts';
import { NoAttemptsLeft } from '../errors.ts';
import type { Store } from '../store/spi.ts';

export interface LockoutPolicy {
  maxAttemptsPerTransaction: number;
  maxFailuresPerIndividual: number;
  failureWindowSeconds: number;
  blockSeconds: number;
}

/** Transaction counters outlive any login transaction (300 s + 120 s) by a wide margin. */
const TRANSACTION_COUNTER_TTL_SECONDS = 3600;

/**
 * Wrong-answer limits shared by every factor and every identity system (SECURITY.md rows 14, 47).
 *
 * Each verification first *reserves* an attempt with one atomic bounded increment, per transaction
 * and per individual, and only then compares: a burst of parallel guesses, in one transaction or
 * spread over many, can never compare more often than the limits allow, whatever the timing.
 * Per individual, the window's reservations minus its successes are its failures; the bound for a
 * reservation is `maxFailuresPerIndividual + successes`, so people who log in often are never
 * locked out by their own successes. (The storage SPI counters only go up, and windows are aligned
 * buckets of `failureWindowSeconds`, so both counters always cover the same window.) Reaching the
 * individual limit blocks the individual (by its keyed hash) for `blockSeconds` across all
 * transactions; while blocked even correct answers are refused (eSignet: `no_attempts_left`, the
 * individual-ID hash blocked for 600 s).
 */
export class Lockout {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly policy: LockoutPolicy;
  private readonly audit: AuditLog | undefined;

  constructor(store: Store, clock: Clock, policy: LockoutPolicy, audit?: AuditLog) {
    this.store = store;
    this.clock = clock;
    this.policy = policy;
    this.audit = audit;
  }

  private keys(individualHash: string, transactionId: string) {
    const bucket = Math.floor(this.clock.now() / (this.policy.failureWindowSeconds * 1000));
    return {
      transaction: `kyc:attempts:tx:${transactionId}`,
      attempts: `kyc:attempts:id:${individualHash}:${bucket}`,
      successes: `kyc:successes:id:${individualHash}:${bucket}`,
      block: `kyc:blocked:id:${individualHash}`,
    };
  }

  async isBlocked(individualHash: string): Promise<boolean> {
    return (await this.store.counter(this.keys(individualHash, '-').block)) > 0;
  }

  /**
   * Runs `verify` under the limits. `verify` resolves true for a correct answer. Throws
   * NoAttemptsLeft when a limit is reached (before or because of this attempt); returns the result
   * of `verify` otherwise. When `verify` throws (registry down, unreadable record), the attempt is
   * not counted against the individual.
   */
  async attempt(
    individualHash: string,
    transactionId: string,
    verify: () => Promise<boolean>,
  ): Promise<boolean> {
    const { maxAttemptsPerTransaction, maxFailuresPerIndividual, failureWindowSeconds } = this.policy;
    const keys = this.keys(individualHash, transactionId);
    if (await this.isBlocked(individualHash)) throw blocked();
    const inTransaction = await this.store.increment(keys.transaction, {
      ttlSeconds: TRANSACTION_COUNTER_TTL_SECONDS,
      limit: maxAttemptsPerTransaction,
    });
    if (inTransaction > maxAttemptsPerTransaction) {
      throw new NoAttemptsLeft('no attempts left in this login: start again');
    }
    const ttlSeconds = failureWindowSeconds * 2;
    const successes = await this.store.counter(keys.successes);
    const limit = maxFailuresPerIndividual + successes;
    const attempts = await this.store.increment(keys.attempts, { ttlSeconds, limit });
    if (attempts > limit) {
      await this.block(keys.block, individualHash, transactionId);
      throw blocked();
    }
    let ok: boolean;
    try {
      ok = await verify();
    } catch (error) {
      await this.store.increment(keys.successes, { ttlSeconds });
      throw error;
    }
    if (ok) await this.store.increment(keys.successes, { ttlSeconds });
    else if (attempts - (await this.store.counter(keys.successes)) >= maxFailuresPerIndividual) {
      await this.block(keys.block, individualHash, transactionId);
    }
    return ok;
  }

  private async block(key: string, individualHash: string, transactionId: string): Promise<void> {
    if (this.policy.blockSeconds <= 0) return;
    const count = await this.store.increment(key, { ttlSeconds: this.policy.blockSeconds });
    // One record per block: later refusals while blocked only count on the same counter.
    if (count === 1) await this.audit?.record({ type: 'individual_blocked', individualHash, transactionId });
  }
}

const blocked = () =>
  new NoAttemptsLeft('too many failed attempts for this individual: try again in a few minutes');
