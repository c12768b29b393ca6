import type { Context, Next } from 'koa';
import { AppError, ServerError, TemporarilyUnavailable } from '../errors.ts';
import { StoreUnavailable } from '../store/spi.ts';
import { ClientClosedRequest } from './body.ts';
import { escapeHtml } from './html.ts';
import { noStore } from './middleware.ts';

/**
 * Renders every error: OAuth-style JSON (`{error, error_description}`) for APIs, an HTML page for
 * UI routes (those that set `ctx.state.ui = true`, or any request whose Accept prefers HTML on a
 * route that is not an API). Unknown errors become `server_error` with the request id and are
 * logged with their stack; the client never sees a stack trace or an internal message.
 */
export function errorHandler() {
  return async function renderErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (caught) {
      if (clientGone(ctx, caught)) {
        // Nobody is left to answer: recorded (access log, metrics) as nginx's 499 "client closed
        // request", not as a server error, and logged below error level.
        ctx.status = CLIENT_CLOSED_REQUEST;
        ctx.state.logger?.info({ reason: (caught as Error).message }, 'client closed request');
        return;
      }
      const error = toAppError(ctx, caught);
      ctx.status = error.status;
      for (const [name, value] of Object.entries(error.headers)) ctx.set(name, value);
      noStore(ctx);
      if (wantsHtml(ctx)) {
        ctx.type = 'text/html; charset=utf-8';
        ctx.body = errorPage(error, String(ctx.state.requestId ?? '-'));
      } else {
        ctx.body = { error: error.code, error_description: error.description, ...error.extra };
      }
    }
  };
}

const CLIENT_CLOSED_REQUEST = 499;

/**
 * The client closed its connection before the answer: our body reader says so, and so does a
 * stream error from reading a request whose socket is gone (Node's "aborted", ECONNRESET).
 */
function clientGone(ctx: Context, caught: unknown): boolean {
  if (caught instanceof ClientClosedRequest) return true;
  const code = (caught as { code?: unknown })?.code;
  return (
    (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE') &&
    !ctx.req.complete &&
    (ctx.req.destroyed || ctx.req.socket?.destroyed === true)
  );
}

function toAppError(ctx: Context, caught: unknown): AppError {
  if (caught instanceof AppError) {
    if (caught.status >= 500) ctx.state.logger?.error({ err: caught, code: caught.code }, 'request failed');
    return caught;
  }
  if (caught instanceof StoreUnavailable) {
    ctx.state.metrics?.storeErrors.inc({ kind: 'unavailable' });
    ctx.state.logger?.error({ err: { name: caught.name, message: caught.message } }, 'store unavailable');
    return new TemporarilyUnavailable('the service is temporarily unavailable, retry shortly', {
      headers: { 'Retry-After': '5' },
    });
  }
  // Errors from Koa and its helpers (ctx.throw, http-errors) carry `status` and `expose`.
  const status = (caught as { status?: unknown })?.status;
  if (
    typeof status === 'number' &&
    status >= 400 &&
    status < 500 &&
    (caught as { expose?: boolean }).expose
  ) {
    return new AppError(status, status === 404 ? 'not_found' : 'invalid_request', (caught as Error).message);
  }
  ctx.state.logger?.error({ err: caught }, 'unhandled error');
  return new ServerError(`an unexpected error occurred (request id ${String(ctx.state.requestId ?? '-')})`);
}

function wantsHtml(ctx: Context): boolean {
  return ctx.state.ui === true;
}

function errorPage(error: AppError, requestId: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Error</title></head>
<body><main><h1>Something went wrong</h1>
<p>${escapeHtml(error.description)}</p>
<p><small>Error code: ${escapeHtml(error.code)} · Request id: ${escapeHtml(requestId)}</small></p>
</main></body></html>`;
}
