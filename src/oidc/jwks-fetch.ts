import { type LookupAddress, lookup } from 'node:dns';
import { lookup as lookupAll } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { Config } from '../config/defaults.ts';

/**
 * Outgoing requests of oidc-provider (its `fetch` option): in practice the `jwks_uri` of
 * private_key_jwt clients (SECURITY row 44, client-jwks-cache). oidc-provider itself keeps the
 * fetched set per client, fetches once for concurrent requests (one in-flight promise per client
 * key store), rejects private and symmetric keys in it, and refetches for an unknown `kid` only once
 * the set is stale: `freshUntil = max(now + 60 s, Expires, now + max-age)` (lib/models/client.js).
 * What it leaves to us, done here:
 *
 * - SSRF: hosts that are or resolve to special-use addresses are refused unless allowlisted; the
 *   check runs inside the connection's DNS lookup, so a name cannot resolve to a public address for
 *   the check and a private one for the connection. No redirects are followed.
 * - a whole-request timeout and a response size cap;
 * - `max-age`/`Expires` clamped to [minCacheSeconds, maxCacheSeconds] (oidc-provider has no upper
 *   bound: a year-long max-age would pin a stale set, and a failed fetch's freshness too);
 * - one request per URL at a time across the provider's client instances (oidc-provider may build two
 *   instances of a new client under concurrency, each with its own key store).
 *
 * Failures throw; oidc-provider turns them into `invalid_client` at the endpoint.
 */

type Policy = Config['oidc']['jwksUriPolicy'];
/** A response read in full, so every waiter of a shared request gets its own copy. */
interface Fetched {
  status: number;
  headers: Headers;
  body: Buffer | null;
}

export class JwksUriRefused extends Error {
  override name = 'JwksUriRefused';
}

/** Special-use ranges (IANA IPv4/IPv6 special-purpose registries) a client's URL must not reach. */
const SPECIAL_USE = (() => {
  const list = new BlockList();
  const v4: [string, number][] = [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.0.2.0', 24],
    ['192.88.99.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['198.51.100.0', 24],
    ['203.0.113.0', 24],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
  ];
  const v6: [string, number][] = [
    ['::', 128],
    ['::1', 128],
    ['64:ff9b::', 96],
    ['64:ff9b:1::', 48],
    ['100::', 64],
    ['2001::', 23],
    ['2001:db8::', 32],
    ['2002::', 16],
    ['fc00::', 7],
    ['fe80::', 10],
    ['fec0::', 10],
    ['ff00::', 8],
  ];
  for (const [net, prefix] of v4) list.addSubnet(net, prefix, 'ipv4');
  for (const [net, prefix] of v6) list.addSubnet(net, prefix, 'ipv6');
  return list;
})();

/** True for loopback, private, link-local, unique-local and other special-use addresses (IPv4-mapped too). */
export function isSpecialUseAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  const mapped = family === 6 ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] : undefined;
  if (mapped) return SPECIAL_USE.check(mapped, 'ipv4');
  return SPECIAL_USE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

export interface JwksFetcher {
  /** oidc-provider's `fetch` option. */
  fetch(url: string, options: RequestInit): Promise<Response>;
  /**
   * Registration-time check of a `jwks_uri`: throws JwksUriRefused when its host is, or resolves to,
   * a special-use address and is not allowlisted. A name that does not resolve now is accepted (the
   * fetch checks again).
   */
  checkUri(uri: unknown): Promise<void>;
  /**
   * Any GET or POST under the same policy (SSRF guard, timeout, size cap, no redirects), read in
   * full: the external authorization servers' userinfo and introspection endpoints (src/vci/external-as).
   */
  request(
    url: string,
    init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string },
  ): Promise<{ status: number; contentType: string; body: Buffer }>;
}

export function createJwksFetcher(policy: Policy, clock: Clock, logger: Logger): JwksFetcher {
  const allowed = (host: string) => !policy.blockPrivateAddresses || policy.allowedHosts.includes(host);
  const inflight = new Map<string, Promise<Fetched>>();
  /** Failed fetches by URL, answered again until `until` without a request (see `remember`). */
  const failures = new Map<string, { until: number; outcome: Fetched | Error }>();

  /**
   * oidc-provider parses the body before it records freshness, so a body that is not JSON (or a
   * network error) would make every request for the client fetch again: failures are kept here for
   * minCacheSeconds instead, whatever the response's own cache headers say.
   */
  function remember(key: string, outcome: Fetched | Error): void {
    const now = clock.now();
    for (const [url, failure] of failures) if (failure.until <= now) failures.delete(url);
    if (failures.size >= MAX_REMEMBERED_FAILURES) failures.delete(failures.keys().next().value!);
    failures.set(key, { until: now + policy.minCacheSeconds * 1000, outcome });
  }

  /** DNS lookup for the connection itself: refuses special-use answers (no rebinding window). */
  const guardedLookup = (
    hostname: string,
    options: { all?: boolean; family?: number | string },
    callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    lookup(hostname, { ...options, all: true } as { all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      const refused = addresses.find((a) => isSpecialUseAddress(a.address));
      if (refused) return callback(new JwksUriRefused(`${hostname} resolves to a special-use address`), '');
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };

  /** One request for the URL, or the failure remembered for it. */
  async function fetchOnce(url: URL, key: string, headers: Headers): Promise<Fetched> {
    const failed = failures.get(key);
    if (failed && failed.until > clock.now()) {
      if (failed.outcome instanceof Error) throw failed.outcome;
      return failed.outcome;
    }
    let fetched: Fetched;
    try {
      fetched = await load(url, headers);
    } catch (error) {
      const { name, message } = error as Error;
      logger.warn({ host: url.host, err: { name, message } }, 'client jwks_uri fetch failed');
      remember(key, error as Error);
      throw error;
    }
    if (!isJwks(fetched)) {
      logger.warn({ host: url.host, status: fetched.status }, 'client jwks_uri answered no JWK Set');
      remember(key, fetched);
    }
    return fetched;
  }

  async function load(url: URL, headers: Headers): Promise<Fetched> {
    return guardedLoad(url, {
      method: 'GET',
      headers: { accept: headers.get('accept') ?? 'application/json', 'user-agent': '' },
    });
  }

  /** One request under the policy (SSRF guard, timeout, size cap); no redirects. */
  async function guardedLoad(
    url: URL,
    init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string },
  ): Promise<Fetched> {
    const host = hostOf(url);
    const open = allowed(host);
    if (!open && isIP(host) && isSpecialUseAddress(host)) {
      throw new JwksUriRefused(`${host} is a special-use address`);
    }
    const request =
      url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined;
    if (!request) throw new JwksUriRefused(`${url.protocol} URLs are not fetched`);
    const signal = AbortSignal.timeout(policy.timeoutMs);
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(url, {
        method: init.method,
        headers: init.headers,
        signal,
        ...(open ? {} : { lookup: guardedLookup as never }),
      });
      req.once('response', resolve);
      req.once('error', reject);
      req.end(init.body);
    });
    const declared = Number(response.headers['content-length']);
    if (declared > policy.maxResponseBytes) {
      response.destroy();
      throw new Error('jwks_uri response too large');
    }
    const chunks: Buffer[] = [];
    let received = 0;
    for await (const chunk of response as AsyncIterable<Buffer>) {
      received += chunk.length;
      if (received > policy.maxResponseBytes) {
        response.destroy();
        throw new Error('jwks_uri response too large');
      }
      chunks.push(chunk);
    }
    const status = response.statusCode ?? 502;
    const out = new Headers({ 'content-type': String(response.headers['content-type'] ?? '') });
    out.set('cache-control', `max-age=${cacheSeconds(response, policy)}`);
    const nullBody = status === 204 || status === 205 || status === 304;
    return { status: clampStatus(status), headers: out, body: nullBody ? null : Buffer.concat(chunks) };
  }

  return {
    async request(input, init) {
      const url = new URL(input);
      if (url.protocol !== 'https:' && url.protocol !== 'http:')
        throw new JwksUriRefused(`${url.protocol} URLs are not fetched`);
      const { status, headers, body } = await guardedLoad(url, init);
      return { status, contentType: headers.get('content-type') ?? '', body: body ?? Buffer.alloc(0) };
    },

    async fetch(input, options) {
      const url = new URL(input);
      const method = (options.method ?? 'GET').toUpperCase();
      if (method !== 'GET') throw new JwksUriRefused(`${method} requests are not made to client URLs`);
      const key = url.href;
      let pending = inflight.get(key);
      if (!pending) {
        pending = fetchOnce(url, key, new Headers(options.headers));
        inflight.set(key, pending);
        pending.then(
          () => inflight.delete(key),
          () => inflight.delete(key),
        );
      }
      const { status, headers, body } = await pending;
      return new Response(body, { status, headers });
    },

    async checkUri(uri) {
      if (typeof uri !== 'string') return;
      const url = new URL(uri);
      const host = hostOf(url);
      if (allowed(host)) return;
      const refuse = () => {
        throw new JwksUriRefused(
          'jwks_uri must not point to a loopback, private, link-local or other special-use address',
        );
      };
      if (isIP(host)) return isSpecialUseAddress(host) ? refuse() : undefined;
      let addresses: LookupAddress[];
      try {
        addresses = await lookupAll(host, { all: true });
      } catch {
        return;
      }
      if (addresses.some((a) => isSpecialUseAddress(a.address))) refuse();
    },
  };
}

const MAX_REMEMBERED_FAILURES = 1000;

/** A 200 response whose body is a JSON object with a `keys` array (oidc-provider checks the keys). */
function isJwks(fetched: Fetched): boolean {
  if (fetched.status !== 200 || !fetched.body) return false;
  try {
    const parsed = JSON.parse(fetched.body.toString('utf8')) as { keys?: unknown } | null;
    return typeof parsed === 'object' && parsed !== null && Array.isArray(parsed.keys);
  } catch {
    return false;
  }
}

/** The response's freshness (max-age, else Expires, else the minimum) clamped to the policy's bounds. */
function cacheSeconds(response: IncomingMessage, policy: Policy): number {
  const control = String(response.headers['cache-control'] ?? '');
  const maxAge = /(?:^|[,\s])max-age=(\d+)/i.exec(control)?.[1];
  let seconds = policy.minCacheSeconds;
  if (/(?:^|[,\s])(no-store|no-cache)(?:$|[,\s])/i.test(control)) return seconds;
  if (maxAge !== undefined) seconds = Number(maxAge);
  else if (response.headers.expires && response.headers.date) {
    // Relative to the server's own Date header, so neither clock's skew matters.
    const left = (Date.parse(response.headers.expires) - Date.parse(response.headers.date)) / 1000;
    if (Number.isFinite(left)) seconds = Math.floor(left);
  }
  return Math.min(policy.maxCacheSeconds, Math.max(policy.minCacheSeconds, seconds));
}

/** `Response` accepts 200-599 only; anything else is a failure oidc-provider reports as non-200. */
const clampStatus = (status: number) => (status >= 200 && status <= 599 ? status : 502);
