import { Router } from '@koa/router';
import { InvalidRequest, NotFound } from '../../errors.ts';
import { readOutbox } from '../../kyc/notifiers/outbox.ts';
import type { Services } from '../../services.ts';

/**
 * GET /admin/outbox: messages the outbox notifier kept (one-time codes, tx_codes), newest first,
 * optionally only those sent `?to=<address or phone>`. Exists only where the outbox is enabled
 * (demo mode or `kyc.notify.outboxEnabled`); it is the one place such codes can be read.
 */
export function outboxAdminRoutes(services: Services, enabled: boolean): Router {
  const router = new Router();
  router.get('/outbox', async (ctx) => {
    if (!enabled) throw new NotFound('the outbox is disabled (demo mode or kyc.notify.outboxEnabled)');
    const to = ctx.query.to;
    if (to !== undefined && (typeof to !== 'string' || to.length > 254)) {
      throw new InvalidRequest('to: must be one address or phone number');
    }
    const limit = Number(ctx.query.limit ?? 50);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      throw new InvalidRequest('limit: must be 1 to 500');
    const messages = await readOutbox(services.store, { ...(to ? { to } : {}), limit });
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      messages: messages.map((m) => ({
        id: m._id,
        channel: m.channel,
        to: m.to,
        subject: m.subject,
        text: m.text,
        purpose: m.purpose,
        created_at: new Date(m.createdAt).toISOString(),
      })),
    };
  });
  return router;
}
