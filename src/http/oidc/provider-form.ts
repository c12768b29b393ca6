import type { Context } from 'koa';
import type { ClientRegistry } from '../../oidc/clients.ts';
import { dropNonceWithoutOpenid } from '../../oidc/leniencies.ts';
import { ROUTES } from '../../oidc/provider.ts';
import { readRaw } from '../body.ts';

/** oidc-provider's own body limit for the token and PAR endpoints. */
export const PROVIDER_BODY_LIMIT = 56 * 1024;

/**
 * Reads a form body once and leaves it on `req.body`, where oidc-provider's body parser takes it
 * when the stream is already consumed. Later callers get the same text.
 */
export async function readProviderForm(ctx: Context): Promise<URLSearchParams> {
  const req = ctx.req as { body?: string };
  req.body ??= (await readRaw(ctx, PROVIDER_BODY_LIMIT)).toString('utf8');
  return new URLSearchParams(req.body);
}

/**
 * Replaces the form the provider will read (after readProviderForm). The provider reads the body
 * from the stream, where receiveBody (src/http/body.ts) put it back unread: that buffered copy is
 * taken out and the new form put back in its place, with its length.
 */
export function setProviderForm(ctx: Context, form: URLSearchParams): void {
  const text = form.toString();
  const req = ctx.req as typeof ctx.req & { body?: string };
  req.body = text;
  if (req.readable) {
    while (req.read() !== null) {}
    req.unshift(Buffer.from(text));
  }
  req.headers['content-length'] = String(Buffer.byteLength(text));
}

/**
 * Per-client leniencies on the authorization request (src/oidc/leniencies.ts), at the authorization
 * endpoint (query) and PAR (form), before the provider sees the request.
 */
export async function applyAuthorizationLeniencies(
  ctx: Context,
  relative: string,
  clients: ClientRegistry,
): Promise<void> {
  if (relative === ROUTES.authorization && ctx.method === 'GET') {
    const params = new URLSearchParams(ctx.querystring);
    if (await dropNonceWithoutOpenid(params, clients)) ctx.querystring = params.toString();
  } else if (
    relative === ROUTES.pushed_authorization_request &&
    ctx.method === 'POST' &&
    ctx.request.type === 'application/x-www-form-urlencoded'
  ) {
    const form = await readProviderForm(ctx);
    if (await dropNonceWithoutOpenid(form, clients)) setProviderForm(ctx, form);
  }
}
