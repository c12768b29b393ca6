import type { AuditLog } from '../audit/audit.ts';
import type { StatusService } from '../credentials/status/service.ts';
import { InvalidRequest, NotFound } from '../errors.ts';
import type { Ledger } from './ledger.ts';

export type StatusAction = 'revoke' | 'suspend' | 'reinstate';

export const STATUS_ACTIONS: readonly StatusAction[] = ['revoke', 'suspend', 'reinstate'];

const AUDITED = {
  revoke: 'credential_revoked',
  suspend: 'credential_suspended',
  reinstate: 'credential_reinstated',
} as const;

/**
 * Revokes, suspends or reinstates one issued credential through its status entries, keeps the
 * ledger's status in step and records the audit event (with `reason` when given: a code, never
 * free text). The admin API and the console both change status through here.
 */
export async function changeCredentialStatus(
  deps: { ledger: Ledger; status: StatusService; audit: AuditLog },
  id: string,
  action: StatusAction,
  reason?: string,
): Promise<{ id: string; status: string; changed: number }> {
  const { ledger, status, audit } = deps;
  const record = await ledger.get(id);
  if (!record) throw new NotFound('no such ledger record');
  if (record.statusEntries.length === 0) throw new InvalidRequest('this credential carries no status entry');
  const changed = await status[action](record);
  const now = await status.statusOf(record);
  await ledger.setStatus(record._id, now === 'valid' ? 'issued' : now);
  await audit.record({
    type: AUDITED[action],
    ...(record.clientId ? { clientId: record.clientId } : {}),
    grantHash: record.grantHash,
    configurationIds: [record.configurationId],
    ledgerIds: [record._id],
    count: changed,
    ...(reason ? { reason } : {}),
  });
  return { id: record._id, status: now, changed };
}
