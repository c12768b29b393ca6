import { AppError } from '../errors.ts';
import type { KycContext } from './context.ts';
import type { IdentitySystem } from './spi.ts';

/** Refusals that are a failed login (not a malformed request or an outage). */
const LOGIN_FAILURES = new Set(['auth_failed', 'no_attempts_left']);

/** The `logins` metric's result for a refusal: a wrong answer, or a limit (blocked). */
const RESULTS: Record<string, 'failure' | 'blocked'> = {
  auth_failed: 'failure',
  no_attempts_left: 'blocked',
};

/**
 * Wraps an identity system so every login and OTP send is audited (SECURITY.md row 50) and counted
 * in the metrics (`logins` by factor and result, `otpsSent` by purpose when a code actually went
 * out), whichever system (mock, http, a plugin) serves the relying party. People appear only as keyed hashes: the
 * individual-ID hash the lockout uses, and the audit's hash of the account id. The record is
 * written before the result goes back, so it exists before the response does.
 */
export function auditedSystem(system: IdentitySystem, context: KycContext): IdentitySystem {
  const { audit, metrics } = context.services;
  const individualHash = (individualId: string) =>
    typeof individualId === 'string' && individualId
      ? context.identities.hashIndividualId(individualId)
      : undefined;
  return {
    ...system,
    async sendOtp(individualId, channel, transaction, purpose = 'login') {
      const sent = await system.sendOtp(individualId, channel, transaction, purpose);
      // Nothing sent (unknown ID, blocked, no contact): no otp_sent record, as nothing was sent.
      if (sent.dispatched === false) return sent;
      await audit.record({
        type: 'otp_sent',
        transactionId: transaction.transactionId,
        clientId: transaction.clientId,
        individualHash: individualHash(individualId),
        channel,
      });
      metrics.otpsSent.inc({ purpose });
      return sent;
    },
    async authenticate(individualId, challenges, transaction) {
      const factors = Array.isArray(challenges) ? [...new Set(challenges.map((c) => String(c?.factor)))] : [];
      const base = {
        transactionId: transaction.transactionId,
        clientId: transaction.clientId,
        individualHash: individualHash(individualId),
        factors,
      };
      const factor = factors.length ? [...factors].sort().join('+') : 'none';
      try {
        const result = await system.authenticate(individualId, challenges, transaction);
        metrics.logins.inc({ factor, result: 'success' });
        await audit.record({
          type: 'login_succeeded',
          ...base,
          subjectHash: audit.subjectHash(result.accountId),
          factors: result.factors,
        });
        return result;
      } catch (error) {
        if (error instanceof AppError && LOGIN_FAILURES.has(error.code)) {
          metrics.logins.inc({ factor, result: RESULTS[error.code]! });
          await audit.record({ type: 'login_failed', ...base, reason: error.code });
        }
        throw error;
      }
    },
  };
}
