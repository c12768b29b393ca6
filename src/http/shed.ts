import type { Context, Next } from 'koa';
import { TemporarilyUnavailable } from '../errors.ts';
import type { Metrics } from './metrics.ts';

/** Probes and scrapes still answer when the service sheds load (they stay at the host root). */
const EXEMPT = (path: string): boolean => path.startsWith('/health/') || path === '/metrics';

/**
 * SECURITY.md rows 55 and 60: at most `maxInFlight` requests are handled at once. Past that, a
 * request is answered at once with 503 `temporarily_unavailable` and `Retry-After: 1` (RFC 9110
 * §15.6.4, §10.2.3) instead of joining an unbounded queue of work that would answer too late and
 * grow memory; the service is back to normal as soon as the requests it holds are done. A request
 * counts from when its body is in (`receiveBody` runs first: a slow sender holds no place) until
 * its handler has finished (the response body is then being written). 0 turns it off (the app
 * then leaves this middleware out).
 */
export function shedLoad({ maxInFlight, metrics }: { maxInFlight: number; metrics: Metrics }) {
  let inFlight = 0;
  return async function shed(ctx: Context, next: Next): Promise<void> {
    if (EXEMPT(ctx.path)) return next();
    if (inFlight >= maxInFlight) {
      metrics.shed.inc();
      // Labelled as shed in the request metrics and the access log: no route ran.
      ctx.state.route = 'shed';
      // Browsers on the login pages get the HTML error page, like the other errors there.
      if (ctx.accepts('json', 'html') === 'html') ctx.state.ui = true;
      throw new TemporarilyUnavailable('the service is at capacity, retry shortly', {
        headers: { 'Retry-After': '1' },
      });
    }
    inFlight++;
    try {
      await next();
    } finally {
      inFlight--;
    }
  };
}
