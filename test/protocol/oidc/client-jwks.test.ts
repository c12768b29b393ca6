import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ClientRegistry } from '../../../src/oidc/clients.ts';
import { isSpecialUseAddress } from '../../../src/oidc/jwks-fetch.ts';
import type { TestApp } from '../../helpers/app.ts';
import { http } from '../../helpers/http.ts';
import { admin, type PrivateKey, startOidcApp } from './helpers.ts';

/**
 * SECURITY row 44 (client-jwks-cache): private_key_jwt clients registered with a `jwks_uri`, served
 * by a loopback JWKS server that counts hits (NOP `client_keystore` / `fetch_request_ssrf` cases).
 * Client authentication is exercised at the token endpoint with a bogus code: 400 `invalid_grant`
 * means the assertion was accepted, 401 `invalid_client` that it was not.
 */

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

class JwksServer {
  readonly hits = new Map<string, number>();
  readonly handlers = new Map<string, Handler>();
  server!: Server;
  origin = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const path = req.url ?? '/';
      this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
      const handler = this.handlers.get(path);
      if (!handler) {
        res.statusCode = 404;
        res.end();
        return;
      }
      handler(req, res);
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  hitsOf(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  serve(path: string, body: unknown, options: { status?: number; headers?: Record<string, string> } = {}) {
    this.handlers.set(path, (_req, res) => {
      res.writeHead(options.status ?? 200, { 'content-type': 'application/json', ...options.headers });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    });
  }
}

interface Key {
  kid: string;
  privateKey: PrivateKey;
  publicJwk: JWK;
  privateJwk: JWK;
}

async function newKey(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return {
    kid,
    privateKey,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' },
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' },
  };
}

const jwks: JwksServer = new JwksServer();
let app: TestApp;

/** Registers a client whose jwks_uri is `path` on the JWKS server. */
async function registerJwksUriClient(path: string): Promise<string> {
  const clientId = `rp-${randomBytes(6).toString('hex')}`;
  await admin(app, 'POST', '/clients', {
    client_id: clientId,
    redirect_uris: ['https://rp.example.org/callback'],
    token_endpoint_auth_method: 'private_key_jwt',
    jwks_uri: `${jwks.origin}${path}`,
  });
  return clientId;
}

async function tokenRequest(clientId: string, key: Key) {
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({ jti: randomUUID(), iat: now, exp: now + 60 })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(app.url)
    .sign(key.privateKey);
  return http(`${app.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: 'not-a-code',
      code_verifier: randomBytes(32).toString('base64url'),
      redirect_uri: 'https://rp.example.org/callback',
      client_id: clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    }).toString(),
  });
}

const accepted = (reply: { status: number; json: any }) =>
  reply.status === 400 && reply.json?.error === 'invalid_grant';
const refused = (reply: { status: number; json: any }) =>
  reply.status === 401 && reply.json?.error === 'invalid_client';

/** Moves Date (what oidc-provider's JWKS freshness and our assertions use) forward. */
function advanceDate(seconds: number): void {
  vi.setSystemTime(Date.now() + seconds * 1000);
  app.clock.advanceSeconds(seconds);
}

beforeAll(async () => {
  await jwks.start();
  app = await startOidcApp({
    overrides: {
      oidc: {
        jwksUriPolicy: {
          allowedHosts: ['127.0.0.1'],
          timeoutMs: 500,
          maxResponseBytes: 8 * 1024,
          minCacheSeconds: 60,
          maxCacheSeconds: 600,
        },
      },
    },
  });
});
afterAll(async () => {
  await app?.stop();
  await new Promise((resolve) => jwks.server?.close(resolve));
});
afterEach(() => {
  vi.useRealTimers();
});

describe('client-jwks-cache (SECURITY row 44)', () => {
  it('fetches a new client jwks_uri at most twice for 20 parallel token requests', async () => {
    const key = await newKey('k1');
    jwks.serve('/burst', { keys: [key.publicJwk] });
    const clientId = await registerJwksUriClient('/burst');
    const replies = await Promise.all(Array.from({ length: 20 }, () => tokenRequest(clientId, key)));
    expect(replies.filter(accepted)).toHaveLength(20);
    expect(jwks.hitsOf('/burst')).toBeGreaterThanOrEqual(1);
    expect(jwks.hitsOf('/burst')).toBeLessThanOrEqual(2);
    // Cached: more requests, no more fetches.
    for (let i = 0; i < 3; i++) expect(accepted(await tokenRequest(clientId, key))).toBe(true);
    expect(jwks.hitsOf('/burst')).toBeLessThanOrEqual(2);
  });

  it('refetches for an unknown kid only after the 60 s cooldown, and only once', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const [k1, k2, k3] = await Promise.all([newKey('k1'), newKey('k2'), newKey('k3')]);
    jwks.serve('/rotate', { keys: [k1.publicJwk] });
    const clientId = await registerJwksUriClient('/rotate');
    expect(accepted(await tokenRequest(clientId, k1))).toBe(true);
    expect(jwks.hitsOf('/rotate')).toBe(1);

    // The client rotates to k2; within the cooldown the new kid is not looked up.
    jwks.serve('/rotate', { keys: [k1.publicJwk, k2.publicJwk] });
    advanceDate(30);
    const early = await Promise.all(Array.from({ length: 5 }, () => tokenRequest(clientId, k2)));
    expect(early.every(refused)).toBe(true);
    expect(jwks.hitsOf('/rotate')).toBe(1);

    advanceDate(31);
    expect(accepted(await tokenRequest(clientId, k2))).toBe(true);
    expect(jwks.hitsOf('/rotate')).toBe(2);

    // A kid the set does not have (k3): refused, with no refetch right after the last one.
    const unknown = await Promise.all(Array.from({ length: 10 }, () => tokenRequest(clientId, k3)));
    expect(unknown.every(refused)).toBe(true);
    expect(jwks.hitsOf('/rotate')).toBe(2);
  });

  it('honours max-age within the bounds, raises a short one to the floor and caps a long one', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const [k1, k2] = await Promise.all([newKey('k1'), newKey('k2')]);
    const cases = [
      { path: '/max-age-200', maxAge: 200, stillFresh: 190, stale: 20 },
      { path: '/max-age-5', maxAge: 5, stillFresh: 50, stale: 20 },
      { path: '/max-age-year', maxAge: 31_536_000, stillFresh: 590, stale: 20 },
    ];
    for (const { path, maxAge, stillFresh, stale } of cases) {
      jwks.serve(
        path,
        { keys: [k1.publicJwk] },
        { headers: { 'cache-control': `public, max-age=${maxAge}` } },
      );
      const clientId = await registerJwksUriClient(path);
      expect(accepted(await tokenRequest(clientId, k1))).toBe(true);
      jwks.serve(path, { keys: [k1.publicJwk, k2.publicJwk] });
      advanceDate(stillFresh);
      expect(refused(await tokenRequest(clientId, k2)), path).toBe(true);
      expect(jwks.hitsOf(path), path).toBe(1);
      advanceDate(stale);
      expect(accepted(await tokenRequest(clientId, k2)), path).toBe(true);
      expect(jwks.hitsOf(path), path).toBe(2);
    }
  });

  it('refuses a JWKS holding private keys: invalid_client, no 500', async () => {
    const key = await newKey('k1');
    jwks.serve('/private', { keys: [key.privateJwk] });
    const clientId = await registerJwksUriClient('/private');
    const reply = await tokenRequest(clientId, key);
    expect(refused(reply), reply.text).toBe(true);
  });

  it('refuses a symmetric key in the JWKS: invalid_client', async () => {
    const key = await newKey('k1');
    jwks.serve('/oct', { keys: [{ kty: 'oct', k: randomBytes(32).toString('base64url'), kid: 'k1' }] });
    const clientId = await registerJwksUriClient('/oct');
    expect(refused(await tokenRequest(clientId, key))).toBe(true);
  });

  it.each([
    ['a 500', '/error', () => jwks.serve('/error', { error: 'boom' }, { status: 500 })],
    ['a 404', '/missing', () => {}],
    [
      'a redirect',
      '/redirect',
      () => jwks.serve('/redirect', '', { status: 302, headers: { location: '/burst' } }),
    ],
    ['bad JSON', '/bad-json', () => jwks.serve('/bad-json', '{"keys": [')],
    ['a JSON array', '/array', () => jwks.serve('/array', [])],
    ['no keys member', '/no-keys', () => jwks.serve('/no-keys', { foo: 1 })],
    ['an oversized body', '/huge', () => jwks.serve('/huge', { keys: [], pad: 'x'.repeat(20_000) })],
    [
      'a body larger than it declares',
      '/chunked',
      () =>
        jwks.handlers.set('/chunked', (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          for (let i = 0; i < 20; i++) res.write(' '.repeat(1024));
          res.end('{"keys":[]}');
        }),
    ],
    [
      'a server slower than the timeout',
      '/slow',
      () =>
        jwks.handlers.set('/slow', (_req, res) => {
          setTimeout(() => res.end('{"keys":[]}'), 1500).unref();
        }),
    ],
  ])('answers invalid_client (never 5xx) when the jwks_uri gives %s', async (_label, path, setup) => {
    setup();
    const key = await newKey('k1');
    const clientId = await registerJwksUriClient(path);
    const started = performance.now();
    const reply = await tokenRequest(clientId, key);
    expect(refused(reply), `${reply.status} ${reply.text}`).toBe(true);
    expect(performance.now() - started).toBeLessThan(1400);
    // Throttled: a failing jwks_uri is not asked again for every request.
    const again = await Promise.all(Array.from({ length: 5 }, () => tokenRequest(clientId, key)));
    expect(again.every(refused)).toBe(true);
    expect(jwks.hitsOf(path)).toBe(1);
    expect(app.logs.some((l) => l.msg === 'unhandled error' || l.level === 50)).toBe(false);
  });

  it('retries a failed jwks_uri only after the floor, then recovers', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const key = await newKey('k1');
    jwks.serve('/flaky', 'oops', { status: 503, headers: { 'cache-control': 'max-age=31536000' } });
    const clientId = await registerJwksUriClient('/flaky');
    expect(refused(await tokenRequest(clientId, key))).toBe(true);
    expect(refused(await tokenRequest(clientId, key))).toBe(true);
    expect(jwks.hitsOf('/flaky')).toBe(1);
    jwks.serve('/flaky', { keys: [key.publicJwk] });
    advanceDate(601);
    expect(accepted(await tokenRequest(clientId, key))).toBe(true);
    expect(jwks.hitsOf('/flaky')).toBe(2);
  });
});

describe('jwks_uri SSRF policy (NOP fetch_request_ssrf)', () => {
  let strict: TestApp;
  beforeAll(async () => {
    strict = await startOidcApp();
  });
  afterAll(() => strict?.stop());

  const register = (jwksUri: string) =>
    http(`${new URL(strict.url).origin}/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${strict.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: ['https://rp.example.org/callback'],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: jwksUri,
      }),
    });

  it.each([
    'http://127.0.0.1:8080/jwks',
    'http://localhost/jwks',
    'http://10.1.2.3/jwks',
    'http://172.20.0.1/jwks',
    'http://192.168.1.1/jwks',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::1]/jwks',
    'http://[fd00::1]/jwks',
    'http://[fe80::1]/jwks',
    'http://[::ffff:127.0.0.1]/jwks',
    'http://0.0.0.0/jwks',
  ])('refuses to register a client with jwks_uri %s', async (uri) => {
    const reply = await register(uri);
    expect(reply.status, reply.text).toBe(400);
    expect(reply.json.error).toBe('invalid_client_metadata');
    expect(reply.json.error_description).toMatch(/jwks_uri/);
  });

  it('refuses at fetch time a loopback jwks_uri stored before the policy (no request leaves)', async () => {
    const key = await newKey('k1');
    jwks.serve('/ssrf', { keys: [key.publicJwk] });
    const clientId = `rp-${randomBytes(6).toString('hex')}`;
    await new ClientRegistry(strict.services.store, strict.clock).create(clientId, {
      redirect_uris: ['https://rp.example.org/callback'],
      token_endpoint_auth_method: 'private_key_jwt',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      jwks_uri: `${jwks.origin}/ssrf`,
    });
    const before = app;
    app = strict;
    try {
      for (const uri of [`${jwks.origin}/ssrf`, `http://localhost:${new URL(jwks.origin).port}/ssrf`]) {
        await new ClientRegistry(strict.services.store, strict.clock).replace(clientId, {
          redirect_uris: ['https://rp.example.org/callback'],
          token_endpoint_auth_method: 'private_key_jwt',
          grant_types: ['authorization_code'],
          response_types: ['code'],
          jwks_uri: uri,
        });
        const reply = await tokenRequest(clientId, key);
        expect(refused(reply), `${uri}: ${reply.status} ${reply.text}`).toBe(true);
      }
    } finally {
      app = before;
    }
    expect(jwks.hitsOf('/ssrf')).toBe(0);
  });

  it('classifies special-use addresses', () => {
    for (const ip of [
      '127.0.0.1',
      '10.0.0.1',
      '172.31.255.255',
      '192.168.0.1',
      '169.254.169.254',
      '100.64.0.1',
    ]) {
      expect(isSpecialUseAddress(ip), ip).toBe(true);
    }
    for (const ip of ['::1', '::', 'fc00::1', 'fdff::1', 'fe80::1', '::ffff:10.0.0.1', '::ffff:7f00:1']) {
      expect(isSpecialUseAddress(ip), ip).toBe(true);
    }
    for (const ip of ['8.8.8.8', '172.32.0.1', '1.1.1.1', '2606:4700::1111', '::ffff:8.8.8.8']) {
      expect(isSpecialUseAddress(ip), ip).toBe(false);
    }
  });
});
