import type { IssuanceOutcome } from '../issuance.ts';

/** An answer to a credential or deferred credential request, before it is (maybe) encrypted. */
export interface EncodedResponse {
  status: number;
  body: Record<string, unknown>;
}

/** §8.3 / §9.2: a credential not ready yet is 202 with its transaction, in every version. */
export function encodePending(outcome: Extract<IssuanceOutcome, { kind: 'pending' }>): EncodedResponse {
  return { status: 202, body: { transaction_id: outcome.transactionId, interval: outcome.intervalSeconds } };
}
