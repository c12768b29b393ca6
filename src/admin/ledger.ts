import { Router } from '@koa/router';
import type { AuditLog } from '../audit/audit.ts';
import type { StatusService } from '../credentials/status/service.ts';
import { InvalidRequest, NotFound } from '../errors.ts';
import type { Ledger } from '../vci/ledger.ts';

const AUDITED = {
  revoke: 'credential_revoked',
  suspend: 'credential_suspended',
  reinstate: 'credential_reinstated',
} as const;

/**
 * The issuance ledger for operators (mounted under /admin): list and read records (no claims are
 * ever in them), and revoke, suspend or reinstate a credential through its status entries.
 */
export function ledgerRoutes({
  ledger,
  status,
  audit,
}: {
  ledger: Ledger;
  status: StatusService;
  audit: AuditLog;
}): Router {
  const router = new Router({ prefix: '/ledger' });
  router.get('/', async (ctx) => {
    const limit = Math.min(Number(ctx.query.limit ?? 100) || 100, 1000);
    const configurationId =
      typeof ctx.query.configuration_id === 'string' ? ctx.query.configuration_id : undefined;
    const notificationId =
      typeof ctx.query.notification_id === 'string' ? ctx.query.notification_id : undefined;
    ctx.body = { records: await ledger.list({ configurationId, notificationId }, limit) };
  });
  router.get('/:id', async (ctx) => {
    const record = await ledger.get(ctx.params.id!);
    if (!record) throw new NotFound('no such ledger record');
    ctx.body = { ...record, current_status: await status.statusOf(record) };
  });
  router.post('/:id/:action', async (ctx) => {
    const action = ctx.params.action;
    if (action !== 'revoke' && action !== 'suspend' && action !== 'reinstate') {
      throw new InvalidRequest('action must be revoke, suspend or reinstate');
    }
    const record = await ledger.get(ctx.params.id!);
    if (!record) throw new NotFound('no such ledger record');
    if (record.statusEntries.length === 0)
      throw new InvalidRequest('this credential carries no status entry');
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
    });
    ctx.body = { id: record._id, status: now, changed };
  });
  return router;
}
