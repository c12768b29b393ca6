import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { NotFound, Unauthorized } from '../../errors.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Guards /admin: disabled (404) unless an admin token is configured; otherwise requires
 * `Authorization: Bearer <token>`, compared in constant time over SHA-256 digests.
 */
export function requireAdmin(token: string) {
  const expected = token ? digest(token) : undefined;
  return async function adminAuth(ctx: Context, next: Next): Promise<void> {
    if (!expected) throw new NotFound('the admin API is disabled: no admin credential is configured');
    const [scheme, presented] = ctx.get('Authorization').split(' ');
    if (scheme?.toLowerCase() !== 'bearer' || !presented || !timingSafeEqual(digest(presented), expected)) {
      throw new Unauthorized('a valid admin bearer token is required', {
        headers: { 'WWW-Authenticate': 'Bearer realm="admin"' },
      });
    }
    ctx.set('Cache-Control', 'no-store');
    await next();
  };
}
