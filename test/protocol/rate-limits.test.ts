import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientAddress } from '../../src/http/rate-limit.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { http } from '../helpers/http.ts';

/**
 * SECURITY row 54 (rate-limits-across-processes): limits on token, PAR, nonce, credential and
 * send-otp are counted in the store, so two instances on one database share them; 429 with
 * Retry-After; forged X-Forwarded-For ignored unless proxy trust is configured (NOP `secure.test`).
 */

const WINDOW = 60;
/** A window start (epoch ms, a multiple of 60 s) plus one second. */
const START = Math.floor(Date.now() / 60_000) * 60_000 + 60_000 + 1000;

const limits = (overrides: Record<string, { limit: number }>) => ({
  rateLimits: {
    rules: Object.fromEntries(
      Object.entries(overrides).map(([name, { limit }]) => [name, { limit, windowSeconds: WINDOW }]),
    ),
  },
});

const post = (url: string, headers: Record<string, string> = {}, body = '') =>
  http(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });

describe('rate limits shared by two instances on one SQLite file', () => {
  let dir: string;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rate-limits-'));
    const shared = {
      env: { KEY_ENCRYPTION_SECRET: randomBytes(32).toString('base64url') },
      overrides: {
        store: { embeddedFile: join(dir, 'db.sqlite') },
        ...limits({ nonce: { limit: 6 }, token: { limit: 2 }, par: { limit: 2 }, sendOtp: { limit: 1 } }),
      },
    };
    a = await startTestApp(shared);
    b = await startTestApp(shared);
    a.clock.set(START);
    b.clock.set(START);
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('limits nonce requests spread over both instances together, with 429 and Retry-After', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await post(`${(i % 2 ? b : a).url}/nonce`)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);

    for (const app of [a, b]) {
      const refused = await post(`${app.url}/nonce`);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe(String(WINDOW - 1));
      expect(refused.headers.get('content-type')).toMatch(/^application\/json/);
      expect(refused.headers.get('cache-control')).toContain('no-store');
      expect(refused.json).toMatchObject({ error: 'too_many_requests' });
    }
  });

  it('lets requests through again once the window has passed (clock moved, no sleeping)', async () => {
    a.clock.advanceSeconds(WINDOW - 31);
    const later = await post(`${a.url}/nonce`);
    expect(later.status).toBe(429);
    expect(later.headers.get('retry-after')).toBe('30');

    a.clock.advanceSeconds(30);
    b.clock.advanceSeconds(WINDOW);
    expect((await post(`${a.url}/nonce`)).status).toBe(200);
    expect((await post(`${b.url}/nonce`)).status).toBe(200);
  });

  it('limits the provider token and PAR endpoints before the provider sees the request', async () => {
    for (const path of ['/token', '/par']) {
      expect((await post(`${a.url}${path}`, {}, 'grant_type=x')).status).toBe(400);
      expect((await post(`${b.url}${path}`, {}, 'grant_type=x')).status).toBe(400);
      const refused = await post(`${a.url}${path}`, {}, 'grant_type=x');
      expect(refused.status, path).toBe(429);
      expect(refused.json).toMatchObject({ error: 'too_many_requests' });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // Other provider endpoints and other methods are not counted.
    for (let i = 0; i < 3; i++) {
      expect((await post(`${a.url}/token/introspect`, {}, 'token=x')).status).not.toBe(429);
      expect((await http(`${a.url}/token`, { method: 'GET' })).status).toBe(405);
    }
  });

  it('limits send-otp on the login page (HTML) and the interaction API (JSON) under one counter', async () => {
    const uid = 'u'.repeat(21);
    const first = await post(`${a.url}/interaction/${uid}/send-otp`);
    expect(first.status).not.toBe(429);
    const page = await post(`${b.url}/interaction/${uid}/send-otp`);
    expect(page.status).toBe(429);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(page.text).toContain('too_many_requests');
    const api = await post(`${a.url}/interaction/${uid}/api/send-otp`, {
      'content-type': 'application/json',
    });
    expect(api.status).toBe(429);
    expect(api.json).toMatchObject({ error: 'too_many_requests' });
  });
});

describe('client address and X-Forwarded-For', () => {
  let direct: TestApp;
  let proxied: TestApp;

  beforeAll(async () => {
    direct = await startTestApp({ overrides: limits({ nonce: { limit: 2 } }) });
    proxied = await startTestApp({
      overrides: { http: { trustProxy: true }, ...limits({ nonce: { limit: 2 } }) },
    });
  });
  afterAll(async () => {
    await direct?.stop();
    await proxied?.stop();
  });

  it('ignores a forged X-Forwarded-For when proxy trust is off (one address, one counter)', async () => {
    const statuses: number[] = [];
    for (const ip of ['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4']) {
      statuses.push((await post(`${direct.url}/nonce`, { 'x-forwarded-for': ip })).status);
    }
    expect(statuses).toEqual([200, 200, 429, 429]);
  });

  it('counts by the address the proxy appended when proxy trust is on', async () => {
    const send = (xff: string) => post(`${proxied.url}/nonce`, { 'x-forwarded-for': xff });
    expect((await send('198.51.100.7')).status).toBe(200);
    expect((await send('198.51.100.7')).status).toBe(200);
    expect((await send('198.51.100.7')).status).toBe(429);
    // Another client behind the proxy has its own counter.
    expect((await send('198.51.100.8')).status).toBe(200);
    // A client cannot escape its counter by writing its own X-Forwarded-For entry first.
    expect((await send('192.0.2.99, 198.51.100.7')).status).toBe(429);
  });

  it('normalises addresses: IPv4-mapped IPv6 as IPv4, IPv6 per /64', () => {
    const at = (ip: string, ips: string[] = []) => ({ ip, ips });
    expect(clientAddress(at('::ffff:127.0.0.1'), false)).toBe('127.0.0.1');
    expect(clientAddress(at('2001:db8:1:2:aaaa::1'), false)).toBe('2001:db8:1:2::/64');
    expect(clientAddress(at('2001:db8:1:2:bbbb:cccc:dddd:eeee'), false)).toBe('2001:db8:1:2::/64');
    expect(clientAddress(at('2001:db8::1'), false)).toBe('2001:db8:0:0::/64');
    expect(clientAddress(at('127.0.0.1', ['203.0.113.9', '10.0.0.1']), true)).toBe('10.0.0.1');
    expect(clientAddress(at('127.0.0.1', ['203.0.113.9', '10.0.0.1']), false)).toBe('127.0.0.1');
  });
});

describe('rateLimits.enabled', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      overrides: { rateLimits: { enabled: false, rules: { nonce: { limit: 1, windowSeconds: 60 } } } },
    });
  });
  afterAll(() => app?.stop());

  it('counts nothing when off (benchmarks: ISSUER__rateLimits__enabled=false)', async () => {
    for (let i = 0; i < 5; i++) expect((await post(`${app.url}/nonce`)).status).toBe(200);
  });
});
