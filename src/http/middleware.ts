import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.ts';

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;
/**
 * Path segments that are bearer secrets: the id of a credential_offer_uri unseals an offer holding a
 * pre-authorized code (OpenID4VCI 1.0 §4.1.3; SECURITY.md rows 22, 39). Logged as `[redacted]`.
 */
const SECRET_PATH_SEGMENT = /(\/credential-offer\/)[^/]*/i;
const loggedPath = (path: string) => path.replace(SECRET_PATH_SEGMENT, '$1[redacted]');

/**
 * Request id (taken from a well-formed X-Request-Id, else generated), a per-request child logger,
 * one structured access log line (method, route, status, duration: no bodies, no query strings,
 * which may carry codes), and request metrics labelled by the matched route, not the raw path.
 */
export function observe(logger: Logger, metrics: Metrics) {
  return async function observeRequest(ctx: Context, next: Next): Promise<void> {
    const started = process.hrtime.bigint();
    const offered = ctx.req.headers['x-request-id'];
    const requestId = typeof offered === 'string' && REQUEST_ID.test(offered) ? offered : randomUUID();
    // Koa's fresh `{}`, replaced before any other middleware sees it: one shape for every request
    // (issue 16: the per-request defineProperty cost ~1% of a credential request's CPU).
    ctx.state = new RequestState(logger, requestId, metrics);
    ctx.res.setHeader('X-Request-Id', requestId);
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route =
        (ctx._matchedRoute as string | undefined) ?? (ctx.state.route as string | undefined) ?? 'unmatched';
      metrics.requests.inc(ctx.method, route, String(ctx.status));
      metrics.latencySeconds.observe(ctx.method, route, seconds);
      if (logger.isLevelEnabled('info')) {
        ctx.state.logger.info(
          {
            method: ctx.method,
            route,
            path: loggedPath(ctx.path),
            status: ctx.status,
            ms: Math.round(seconds * 1e4) / 10,
          },
          'request',
        );
      }
    }
  };
}

/** `ctx.state` as this service fills it first: the child logger is made on first use (most requests log nothing but the access line). */
class RequestState {
  readonly #logger: Logger;
  #child: Logger | undefined;
  requestId: string;
  metrics: Metrics;
  [key: string]: unknown;

  constructor(logger: Logger, requestId: string, metrics: Metrics) {
    this.#logger = logger;
    this.requestId = requestId;
    this.metrics = metrics;
  }

  get logger(): Logger {
    this.#child ??= this.#logger.child({ requestId: this.requestId });
    return this.#child;
  }
}

/**
 * Security headers on every response. UI pages can tighten the CSP further (nonces for their own
 * inline styles); nothing here allows framing or third-party origins.
 */
export function securityHeaders({ https }: { https: boolean }) {
  const headers: [string, string][] = [
    [
      'Content-Security-Policy',
      "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ],
    ['X-Frame-Options', 'DENY'],
    ['X-Content-Type-Options', 'nosniff'],
    ['Referrer-Policy', 'no-referrer'],
    ['Cross-Origin-Opener-Policy', 'same-origin'],
  ];
  if (https) headers.push(['Strict-Transport-Security', 'max-age=31536000; includeSubDomains']);
  return async function setSecurityHeaders(ctx: Context, next: Next): Promise<void> {
    // Straight onto the response (nothing is sent yet): Koa's ctx.set adds a delegate, a
    // headerSent check and a coercion per header, ~1% of a credential request's CPU (issue 16).
    const res = ctx.res;
    for (const [name, value] of headers) res.setHeader(name, value);
    await next();
  };
}

/** For responses that carry tokens or personal data (RFC 6749 §5.1, RFC 6750 §5.3). */
export function noStore(ctx: Context): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
}

/**
 * For public documents verifiers and wallets fetch (keys, contexts, status lists, the IACA):
 * cacheable by anyone for `maxAgeSeconds` and readable cross-origin (browser-based verifiers).
 */
export function publicCacheable(ctx: Context, maxAgeSeconds: number): void {
  ctx.set('Cache-Control', `public, max-age=${maxAgeSeconds}`);
  ctx.set('Access-Control-Allow-Origin', '*');
}

/**
 * CORS for browser wallets on the OpenID4VCI nonce, credential, deferred and notification endpoints
 * (Fetch standard, CORS protocol: https://fetch.spec.whatwg.org/#http-cors-protocol). Same policy as
 * the issuer metadata: any origin, never credentials mode; access tokens travel in Authorization and DPoP
 * headers, which a page can only send on purpose, so no cookie makes a cross-site request act for
 * anyone. The answer's headers a wallet needs (RFC 6750 §3 and RFC 9449 §8 challenges) are exposed.
 */
const CORS_ALLOW_HEADERS = 'Authorization, DPoP, Content-Type';
const CORS_EXPOSE_HEADERS = 'WWW-Authenticate, DPoP-Nonce, Retry-After';
const CORS_MAX_AGE_SECONDS = 600;

/** Set before the handler runs, so error answers (rendered upstream) keep them too. */
export async function walletCors(ctx: Context, next: Next): Promise<void> {
  ctx.set('Access-Control-Allow-Origin', '*');
  ctx.set('Access-Control-Expose-Headers', CORS_EXPOSE_HEADERS);
  await next();
}

/** The preflight (and a plain OPTIONS): POST only, with the headers a wallet sends. */
export function answerWalletPreflight(ctx: Context): void {
  ctx.set('Access-Control-Allow-Origin', '*');
  ctx.set('Access-Control-Allow-Methods', 'POST');
  ctx.set('Access-Control-Allow-Headers', CORS_ALLOW_HEADERS);
  ctx.set('Access-Control-Max-Age', String(CORS_MAX_AGE_SECONDS));
  ctx.set('Allow', 'POST, OPTIONS');
  ctx.status = 204;
}
