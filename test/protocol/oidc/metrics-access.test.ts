import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';

/**
 * /metrics (Prometheus) names routes, clients' traffic and failure counts: operators can put it
 * behind a bearer token (`metrics.bearerToken`, env METRICS_TOKEN). Without one it stays open, as
 * before. RFC 6750 §3: a missing or wrong token is 401 with `WWW-Authenticate: Bearer`.
 */
const metrics = async (app: TestApp, authorization?: string) => {
  const response = await request(`${new URL(app.url).origin}/metrics`, {
    headers: authorization ? { authorization } : {},
  });
  return {
    status: response.statusCode,
    headers: response.headers,
    text: await response.body.text(),
  };
};

describe('/metrics without a configured token', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => app.stop());

  test('is open, as before', async () => {
    const reply = await metrics(app);
    expect(reply.status).toBe(200);
    expect(reply.text).toContain('http_requests_total');
  });
});

describe('/metrics with metrics.bearerToken', () => {
  const token = randomBytes(24).toString('base64url');
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { METRICS_TOKEN: token } });
  });
  afterAll(async () => app.stop());

  test.each([
    ['no Authorization header', undefined],
    ['a wrong token', `Bearer ${randomBytes(24).toString('base64url')}`],
    ['the right token under another scheme', `Basic ${token}`],
    ['a prefix of the token', `Bearer ${token.slice(0, -1)}`],
  ])('refuses %s with 401 and WWW-Authenticate: Bearer', async (_name, authorization) => {
    const reply = await metrics(app, authorization);
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toMatch(/^Bearer\b/);
    expect(JSON.parse(reply.text).error).toBe('unauthorized');
    expect(reply.text).not.toContain('http_requests_total');
  });

  test('answers with the token', async () => {
    const reply = await metrics(app, `Bearer ${token}`);
    expect(reply.status).toBe(200);
    expect(reply.text).toContain('http_requests_total');
  });

  test('leaves the health probes open', async () => {
    const live = await request(`${new URL(app.url).origin}/health/live`);
    await live.body.text();
    expect(live.statusCode).toBe(200);
  });
});
