import type { AuditLog } from '../audit/audit.ts';
import type { ConsentRecord, Consents } from './consents.ts';
import type { GrantRecords } from './grant-records.ts';

/**
 * Revokes a consent: every grant the person gave that client (with its tokens), then the remembered
 * consent; audited as `consent_revoked` (the admin API and the issuer console).
 */
export async function revokeConsent(
  deps: {
    grants: GrantRecords;
    revokeGrant(grantId: string): Promise<void>;
    audit: AuditLog;
    consents: Consents;
  },
  record: ConsentRecord,
): Promise<void> {
  const grants = await deps.grants.forConsent(record.clientId, record.subject);
  for (const grant of grants) await deps.revokeGrant(grant._id);
  await deps.consents.delete(record._id);
  await deps.audit.record({
    type: 'consent_revoked',
    clientId: record.clientId,
    subjectHash: deps.audit.subjectHash(record.accountId),
    recordId: record._id,
    claims: record.acceptedClaims,
    count: grants.length,
  });
}
