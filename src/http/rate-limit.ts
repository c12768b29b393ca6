import type { Context, Next } from 'koa';
import type { Clock } from '../clock.ts';
import type { Config, RateLimitRule } from '../config/defaults.ts';
import { TooManyRequests } from '../errors.ts';
import type { Store } from '../store/spi.ts';
import { esignetRoutes } from './oidc/esignet-routes.ts';

/**
 * SECURITY row 54 (rate-limits-across-processes): one middleware for every limited route. Each
 * request that matches a rule (method + path relative to the public URL's path) adds one to a
 * counter in the store, keyed by rule, client IP and fixed window, with one atomic `increment`, so
 * instances sharing a database share the limit. Over it: 429 `too_many_requests` (RFC 6585 §4)
 * with `Retry-After` = seconds left in the window (RFC 9110 §10.2.3); an HTML page on UI routes.
 *
 * Cost: requests whose method no rule names pass after one Map lookup; otherwise one exact-path
 * lookup, then the (few) patterned paths; only a match touches the store. With
 * `rateLimits.enabled` false the app does not mount it.
 */

interface Target {
  readonly rule: string;
  readonly limit: number;
  readonly windowMs: number;
  /** A page route (login pages): errors render as HTML. */
  readonly ui: boolean;
}

interface MethodTable {
  readonly exact: Map<string, Target>;
  readonly patterns: { readonly regex: RegExp; readonly target: Target }[];
}

export function rateLimit(services: { config: Config; store: Store; clock: Clock }) {
  const { config, store, clock } = services;
  const basePath = new URL(config.resolved.publicUrl).pathname.replace(/\/+$/, '');
  const tables = compile(config.rateLimits.rules);
  const trustProxy = config.http.trustProxy;
  const esignet = esignetRoutes(config, basePath);

  return async function limitRate(ctx: Context, next: Next): Promise<void> {
    const table = tables.get(ctx.method);
    if (!table) return next();
    const path = ctx.path;
    // eSignet's paths count as the provider routes they serve (one limit for both addresses).
    const alias = esignet.get(path)?.route;
    if (!alias && basePath && !path.startsWith(`${basePath}/`)) return next();
    const relative = alias ?? (basePath ? path.slice(basePath.length) : path);
    const target = table.exact.get(relative) ?? table.patterns.find((p) => p.regex.test(relative))?.target;
    if (!target) return next();

    const now = clock.now();
    const window = Math.floor(now / target.windowMs);
    const leftMs = (window + 1) * target.windowMs - now;
    const key = `ratelimit:${target.rule}:${clientAddress(ctx, trustProxy)}:${window}`;
    const count = await store.increment(key, {
      ttlSeconds: Math.max(1, Math.ceil(leftMs / 1000)),
      limit: target.limit,
    });
    if (count > target.limit) {
      if (target.ui) ctx.state.ui = true;
      const retryAfter = Math.max(1, Math.ceil(leftMs / 1000));
      throw new TooManyRequests(`too many requests: try again in ${retryAfter} seconds`, {
        headers: { 'Retry-After': String(retryAfter) },
      });
    }
    return next();
  };
}

function compile(rules: Record<string, RateLimitRule>): Map<string, MethodTable> {
  const tables = new Map<string, MethodTable>();
  for (const [name, rule] of Object.entries(rules)) {
    if (rule.limit <= 0) continue;
    let table = tables.get(rule.method);
    if (!table) {
      table = { exact: new Map(), patterns: [] };
      tables.set(rule.method, table);
      if (rule.method === 'GET') tables.set('HEAD', table);
    }
    for (const path of rule.paths) {
      const target: Target = {
        rule: name,
        limit: rule.limit,
        windowMs: rule.windowSeconds * 1000,
        ui: path.startsWith('/interaction/') && !/\/api(\/|$)/.test(path),
      };
      if (!path.includes('/:')) {
        table.exact.set(path, target);
        continue;
      }
      // Paths were checked at load (segments of [A-Za-z0-9._~-] or :name): escape the dots only.
      const source = path
        .split('/')
        .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replaceAll('.', '\\.')))
        .join('/');
      table.patterns.push({ regex: new RegExp(`^${source}$`), target });
    }
  }
  return tables;
}

/**
 * The address requests are counted by. Without proxy trust, Koa's `ctx.ip` is the socket's address
 * and X-Forwarded-For is ignored. With it, the nearest proxy's entry (the last one) is taken rather
 * than Koa's first entry, which the client itself can write. IPv4-mapped IPv6 counts as IPv4; other
 * IPv6 addresses count per /64, the smallest prefix a single subscriber usually gets.
 */
export function clientAddress(ctx: Pick<Context, 'ip' | 'ips'>, trustProxy: boolean): string {
  const raw = (trustProxy ? ctx.ips.at(-1) : undefined) ?? ctx.ip ?? '';
  const ip = raw.toLowerCase();
  if (ip.startsWith('::ffff:') && ip.includes('.')) return ip.slice(7);
  if (!ip.includes(':')) return ip || '-';
  return `${ipv6Groups(ip).slice(0, 4).join(':')}::/64`;
}

function ipv6Groups(ip: string): string[] {
  const [head = '', tail] = ip.split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array(Math.max(0, 8 - left.length - right.length)).fill('0');
  return [...left, ...fill, ...right].map((g) => g.replace(/^0+(?=.)/, ''));
}
