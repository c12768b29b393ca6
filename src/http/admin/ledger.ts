import { Router } from '@koa/router';
import type { Context } from 'koa';
import type { AuditLog } from '../../audit/audit.ts';
import type { StatusService } from '../../credentials/status/service.ts';
import { InvalidRequest, NotFound } from '../../errors.ts';
import type { Ledger } from '../../vci/ledger.ts';
import { changeCredentialStatus } from '../../vci/status-change.ts';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

interface LedgerFilter {
  configurationId: string | undefined;
  notificationId: string | undefined;
}
interface Position {
  /** Records before the next page, in the store's insertion order. */
  offset: number;
  /** The last record of the previous page: the position is refused when it is not there any more. */
  lastId: string;
}

function limitParam(value: unknown): number {
  if (value === undefined) return DEFAULT_LIMIT;
  const n = typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 1 && n <= MAX_LIMIT))
    throw new InvalidRequest(`limit must be an integer from 1 to ${MAX_LIMIT}`);
  return n;
}

function stringParam(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 200)
    throw new InvalidRequest(`${name} must be given once, 1 to 200 characters`);
  return value;
}

/**
 * The cursor is opaque to clients: base64url JSON of the position and the filters it belongs to
 * (a cursor used with other filters would skip or repeat records, so it is refused). It grants
 * nothing: the admin token already reads every record.
 */
function writeCursor(position: Position, filter: LedgerFilter): string {
  const body = {
    o: position.offset,
    l: position.lastId,
    c: filter.configurationId ?? null,
    n: filter.notificationId ?? null,
  };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

function readCursor(value: unknown, filter: LedgerFilter): Position {
  let body: { o?: unknown; l?: unknown; c?: unknown; n?: unknown } | undefined;
  if (typeof value === 'string' && value.length <= 512 && /^[A-Za-z0-9_-]+$/.test(value)) {
    try {
      body = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    } catch {
      body = undefined;
    }
  }
  if (
    !body ||
    typeof body !== 'object' ||
    !Number.isSafeInteger(body.o) ||
    (body.o as number) < 1 ||
    typeof body.l !== 'string'
  ) {
    throw new InvalidRequest('cursor must be a next_cursor value from this API, unchanged');
  }
  if (body.c !== (filter.configurationId ?? null) || body.n !== (filter.notificationId ?? null)) {
    throw new InvalidRequest('cursor was issued for other configuration_id or notification_id filters');
  }
  return { offset: body.o as number, lastId: body.l };
}

/**
 * The issuance ledger for operators (mounted under /admin): list and read records (no claims are
 * ever in them), and revoke, suspend or reinstate a credential through its status entries.
 * `GET /ledger?limit=&cursor=&configuration_id=&notification_id=` pages in issue order: `limit`
 * 1 to 1,000 (default 100), `next_cursor` in every page but the last (docs/issuing-walkthrough.md).
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
  router.get('/', listPage(ledger));
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
    ctx.body = await changeCredentialStatus({ ledger, status, audit }, ctx.params.id!, action);
  });
  return router;
}

/** One page of the ledger in issue order, with `next_cursor` bound to the filters. */
function listPage(ledger: Ledger) {
  return async (ctx: Context): Promise<void> => {
    const limit = limitParam(ctx.query.limit);
    const filter = {
      configurationId: stringParam(ctx.query.configuration_id, 'configuration_id'),
      notificationId: stringParam(ctx.query.notification_id, 'notification_id'),
    };
    const position = ctx.query.cursor === undefined ? undefined : readCursor(ctx.query.cursor, filter);
    const offset = position?.offset ?? 0;
    // The store lists in insertion order and ledger records are never deleted, so a position in
    // that order is stable: records issued meanwhile come after it. One more than the page says
    // whether there is a next one.
    const upTo = await ledger.list(filter, offset + limit + 1);
    if (position && upTo[offset - 1]?._id !== position.lastId) {
      throw new InvalidRequest('cursor: no longer matches the ledger; list again from the first page');
    }
    const records = upTo.slice(offset, offset + limit);
    const last = records.at(-1);
    ctx.body = {
      records,
      ...(upTo.length > offset + limit && last
        ? { next_cursor: writeCursor({ offset: offset + limit, lastId: last._id }, filter) }
        : {}),
    };
  };
}
