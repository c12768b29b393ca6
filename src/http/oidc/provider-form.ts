import type { Context } from 'koa';
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
