import { Router } from '@koa/router';
import { AUDIT_EVENT_TYPES, type AuditEventType, type AuditLog } from '../../audit/audit.ts';
import { InvalidRequest } from '../../errors.ts';

const MAX_LIMIT = 1000;
const MAX_DAYS = 366;

/**
 * `GET /admin/audit?type=&limit=&days=` (mounted under /admin): the audit trail, newest first.
 * Read only: the API offers no way to change or remove a record (SECURITY.md row 50).
 */
export function auditRoutes(audit: AuditLog): Router {
  const router = new Router();
  router.get('/audit', async (ctx) => {
    const type = ctx.query.type;
    if (
      type !== undefined &&
      (typeof type !== 'string' || !AUDIT_EVENT_TYPES.includes(type as AuditEventType))
    ) {
      throw new InvalidRequest(`type must be one of ${AUDIT_EVENT_TYPES.join(', ')}`);
    }
    const limit = intParam(ctx.query.limit, 'limit', 100, MAX_LIMIT);
    const days = intParam(ctx.query.days, 'days', 31, MAX_DAYS);
    const records = await audit.list({ ...(type ? { type: type as AuditEventType } : {}), limit, days });
    ctx.body = {
      records: records.map(({ _id, day: _day, at, ...event }) => ({
        id: _id,
        at: new Date(at).toISOString(),
        ...event,
      })),
    };
  });
  return router;
}

function intParam(value: unknown, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && /^\d{1,7}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 1 && n <= max)) throw new InvalidRequest(`${name} must be an integer from 1 to ${max}`);
  return n;
}
