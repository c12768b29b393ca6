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
 * and per individual, and only then compares: a burst of parallel guesses can never compare more
 * often than the limits allow, whatever the timing. A success gives the individual's reservation
 * back; a failure keeps it. Reaching the individual limit blocks the individual (by its keyed hash)
 * for `blockSeconds` across all transactions; while blocked, even correct answers are refused
 * (eSignet: `no_attempts_left` and the individual-ID hash blocked for 600 s).
 */
export class Lockout {
  private readonly store: Store;
  private readonly policy: LockoutPolicy;

  constructor(store: Store, policy: LockoutPolicy) {
    this.store = store;
    this.policy = policy;
  }

  private keys(individualHash: string, transactionId: string) {
    return {
      transaction: `kyc:attempts:tx:${transactionId}`,
      individual: `kyc:failures:id:${individualHash}`,
      block: `kyc:blocked:id:${individualHash}`,
    };
  }

  async isBlocked(individualHash: string): Promise<boolean> {
    return (await this.store.counter(this.keys(individualHash, '').block)) > 0;
  }

  /**
   * Runs `verify` under the limits. `verify` resolves true for a correct answer. Throws
   * NoAttemptsLeft when a limit is reached (before or because of this attempt); returns the result
   * of `verify` otherwise.
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
    const failures = await this.store.increment(keys.individual, {
      ttlSeconds: failureWindowSeconds,
      limit: maxFailuresPerIndividual,
    });
    if (failures > maxFailuresPerIndividual) {
      await this.block(keys.block);
      throw blocked();
    }
    let ok: boolean;
    try {
      ok = await verify();
    } catch (error) {
      // Not an answer (registry down, unreadable record): give the individual's reservation back.
      await this.release(keys.individual);
      throw error;
    }
    if (ok) await this.release(keys.individual);
    else if (failures >= maxFailuresPerIndividual) await this.block(keys.block);
    return ok;
  }

  private async release(key: string): Promise<void> {
    await this.store.increment(key, { by: -1, ttlSeconds: this.policy.failureWindowSeconds });
  }

  private async block(key: string): Promise<void> {
    if (this.policy.blockSeconds > 0)
      await this.store.increment(key, { ttlSeconds: this.policy.blockSeconds });
  }
}

const blocked = () =>
  new NoAttemptsLeft('too many failed attempts for this individual: try again in a few minutes');
