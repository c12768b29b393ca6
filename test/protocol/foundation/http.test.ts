import { Router } from '@koa/router';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.ts';
import { readForm, readJson } from '../../../src/http/body.ts';
import { errorHandler } from '../../../src/http/error-handler.ts';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { bearer, http } from '../../helpers/http.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.stop();
});

describe('HTTP foundation', () => {
  it('answers liveness and readiness with the store kind', async () => {
    expect((await http(`${app.url}/health/live`)).json).toEqual({ status: 'ok' });
    const ready = await http(`${app.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.json).toEqual({ status: 'ok', store: 'embedded' });
  });

  it('sets the security headers on every response, errors included', async () => {
    for (const path of ['/health/live', '/no-such-route', '/admin']) {
      const { headers } = await http(`${app.url}${path}`);
      expect(headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(headers.get('x-frame-options')).toBe('DENY');
      expect(headers.get('referrer-policy')).toBe('no-referrer');
      expect(headers.get('x-content-type-options')).toBe('nosniff');
      expect(headers.get('strict-transport-security')).toBeNull();
    }
  });

  it('gives every response a request id and keeps a well-formed one from the client', async () => {
    const generated = await http(`${app.url}/health/live`);
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await http(`${app.url}/health/live`, { headers: { 'X-Request-Id': 'trace-12345678' } });
    expect(kept.headers.get('x-request-id')).toBe('trace-12345678');
    const replaced = await http(`${app.url}/health/live`, { headers: { 'X-Request-Id': 'bad id!' } });
    expect(replaced.headers.get('x-request-id')).not.toContain('bad');
  });

  it('answers unknown routes with 404 not_found as JSON', async () => {
    const res = await http(`${app.url}/no-such-route`);
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ error: 'not_found', error_description: 'no resource at /no-such-route' });
  });

  it('answers a wrong method with 405 and an Allow header', async () => {
    const res = await http(`${app.url}/health/live`, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.json.error).toBe('method_not_allowed');
    expect(res.headers.get('allow')).toContain('GET');
  });

  it('exposes Prometheus metrics labelled by matched route', async () => {
    await http(`${app.url}/health/live`);
    const res = await http(`${app.url}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(res.text).toMatch(/http_requests_total\{method="GET",route="\/health\/live",status="200"\} \d+/);
    expect(res.text).toContain('http_request_duration_seconds_bucket');
    expect(res.text).toContain('store_errors_total');
  });

  it('writes one structured access log line per request without query strings', async () => {
    await http(`${app.url}/health/live?code=SECRET-CODE-123`);
    const line = app.logs.findLast((l) => l.msg === 'request' && l.path === '/health/live');
    expect(line).toMatchObject({ method: 'GET', route: '/health/live', status: 200, level: 'info' });
    expect(typeof line?.requestId).toBe('string');
    expect(JSON.stringify(app.logs)).not.toContain('SECRET-CODE-123');
  });

  it('row 35: the access line names no verifier (no address, user agent, referrer or headers)', async () => {
    await http(`${app.url}/health/live`, {
      headers: { 'user-agent': 'verifier-agent/1.0', referer: 'https://verifier.example/check' },
    });
    const line = app.logs.findLast((l) => l.msg === 'request' && l.path === '/health/live')!;
    expect(Object.keys(line).sort()).toEqual(
      ['level', 'time', 'service', 'requestId', 'method', 'route', 'path', 'status', 'ms', 'msg'].sort(),
    );
    expect(JSON.stringify(line)).not.toMatch(/127\.0\.0\.1|verifier/);
  });
});

describe('HSTS', () => {
  it('is sent when the public URL is https', async () => {
    const https = await startTestApp({ env: { PUBLIC_URL: 'https://id.example.test' } });
    try {
      const { headers } = await http(`http://127.0.0.1:${https.running.port}/health/live`);
      expect(headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    } finally {
      await https.stop();
    }
  });
});

describe('admin API guard', () => {
  it('rejects a missing or wrong bearer token with 401 and WWW-Authenticate', async () => {
    const missing = await http(`${app.url}/admin`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toContain('Bearer');
    expect((await http(`${app.url}/admin`, { headers: bearer('wrong-token-wrong-token') })).status).toBe(401);
  });

  it('accepts the configured token and answers no-store', async () => {
    const res = await http(`${app.url}/admin`, { headers: bearer(app.adminToken) });
    expect(res.status).toBe(200);
    expect(res.json.publicUrl).toBe(app.url);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('is disabled (404) when no admin credential is configured', async () => {
    const other = await startTestApp({ env: { ADMIN_TOKEN: '' } });
    try {
      const res = await http(`${other.url}/admin`, { headers: bearer('anything-anything-anything') });
      expect(res.status).toBe(404);
      expect(res.json.error_description).toContain('admin API is disabled');
    } finally {
      await other.stop();
    }
  });
});

describe('error model and body parsing', () => {
  let server: ReturnType<Koa['listen']>;
  let base: string;
  beforeAll(async () => {
    const koa = new Koa();
    koa.silent = true;
    koa.use(errorHandler());
    const router = new Router();
    router.post('/json', async (ctx) => {
      ctx.body = { received: await readJson(ctx, 2048) };
    });
    router.post('/form', async (ctx) => {
      ctx.body = { received: await readForm(ctx, 2048) };
    });
    router.get('/boom', () => {
      throw new Error('database password is hunter2 at /srv/app.js:12');
    });
    router.get('/ui-error', (ctx) => {
      ctx.state.ui = true;
      throw new AppError(400, 'invalid_transaction', 'Your sign-in took too long. <Start again>');
    });
    koa.use(router.routes());
    await new Promise<void>((resolve) => {
      server = koa.listen(0, '127.0.0.1', () => resolve());
    });
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = (path: string, body: string, type: string) =>
    http(`${base}${path}`, { method: 'POST', body, headers: { 'Content-Type': type } });

  it('parses a JSON object body', async () => {
    const res = await post('/json', '{"a":1}', 'application/json');
    expect(res.json).toEqual({ received: { a: 1 } });
  });

  it.each([
    ['malformed JSON', '{"a":', 'application/json', 400, 'invalid_request', 'request body is not valid JSON'],
    ['a JSON array', '[1]', 'application/json', 400, 'invalid_request', 'request body must be a JSON object'],
    [
      'a wrong content type',
      '{"a":1}',
      'text/plain',
      415,
      'unsupported_media_type',
      'Content-Type must be application/json',
    ],
    [
      'an oversize body',
      JSON.stringify({ a: 'x'.repeat(4096) }),
      'application/json',
      413,
      'payload_too_large',
      'request body exceeds 2048 bytes',
    ],
    [
      'a __proto__ key',
      '{"x":{"__proto__":{"admin":true}}}',
      'application/json',
      400,
      'invalid_request',
      'JSON body must not contain the key "__proto__"',
    ],
  ])('rejects %s with a clear error', async (_name, body, type, status, code, description) => {
    const res = await post('/json', body, type);
    expect(res.status).toBe(status);
    expect(res.json).toEqual({ error: code, error_description: description });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
  });

  it('rejects a form parameter given twice (RFC 6749 §3.1)', async () => {
    const res = await post('/form', 'scope=a&scope=b', 'application/x-www-form-urlencoded');
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      error: 'invalid_request',
      error_description: 'parameter "scope" is included more than once',
    });
  });

  it('turns unknown errors into server_error with a request id and no internals', async () => {
    const res = await http(`${base}/boom`);
    expect(res.status).toBe(500);
    expect(res.json.error).toBe('server_error');
    expect(res.text).not.toContain('hunter2');
    expect(res.text).not.toContain('app.js');
  });

  it('renders errors on UI routes as an escaped HTML page', async () => {
    const res = await http(`${base}/ui-error`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.text).toContain('Your sign-in took too long. &lt;Start again&gt;');
    expect(res.text).toContain('invalid_transaction');
  });
});
