import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { http } from '../../helpers/http.ts';

/**
 * SECURITY.md rows 55 and 60: past `http.maxInFlight` requests in progress, the service answers
 * 503 temporarily_unavailable with Retry-After at once rather than queueing, keeps answering its
 * probes, and serves normally again as soon as the held requests are done. (Requests whose body is
 * still arriving are not in flight: test/protocol/foundation/slow-body.test.ts.)
 */
const MAX = 3;
let app: TestApp;
/** Token requests wait here, past the load-shedding step, until released. */
const gates: (() => void)[] = [];
beforeAll(async () => {
  app = await startTestApp({ env: { ISSUER__http__maxInFlight: String(MAX) } });
  // The token endpoint's rate-limit counter is the first store call after load shedding: holding it
  // keeps a request in flight (its body already read: bodies still arriving do not count).
  const store = app.services.store;
  const increment = store.increment.bind(store);
  store.increment = async (key, options) => {
    if (key.startsWith('ratelimit:token:')) await new Promise<void>((resolve) => gates.push(resolve));
    return increment(key, options);
  };
});
afterAll(async () => {
  for (const release of gates.splice(0)) release();
  await app?.stop();
});

/** A whole token request, held in flight until finish() releases the held requests. */
function heldRequest(): { socket: Socket; finish(): Promise<string> } {
  const { port } = new URL(app.url);
  const body = 'grant_type=authorization_code&code=xyz&redirect_uri=https%3A%2F%2Frp.example%2Fcb';
  const socket = connect(Number(port), '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => {
    received += chunk;
  });
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(received)));
  socket.write(
    `POST /token HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
      `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
  );
  return {
    socket,
    finish: () => {
      for (const release of gates.splice(0)) release();
      return closed;
    },
  };
}

async function untilShed(path: string): Promise<Awaited<ReturnType<typeof http>>> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const response = await http(`${app.url}${path}`);
    if (response.status === 503 || Date.now() > deadline) return response;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('load shedding (http.maxInFlight)', () => {
  it('answers 503 with Retry-After past the limit, keeps the probes, and recovers once the held requests end', async () => {
    const held = Array.from({ length: MAX }, heldRequest);
    const shed = await untilShed('/.well-known/openid-credential-issuer');
    expect(shed.status).toBe(503);
    expect(shed.headers.get('retry-after')).toBe('1');
    expect(shed.json).toMatchObject({ error: 'temporarily_unavailable' });

    const page = await http(`${app.url}/authorize?client_id=x`, { headers: { Accept: 'text/html' } });
    expect(page.status).toBe(503);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);

    expect((await http(`${app.url}/health/live`)).status).toBe(200);
    expect((await http(`${app.url}/health/ready`)).status).toBe(200);
    const metrics = await http(`${app.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(Number(/^http_requests_shed_total (\d+)/m.exec(metrics.text)?.[1])).toBeGreaterThanOrEqual(2);
    // Shed requests are labelled as such in the request counter, not lumped with unmatched paths.
    expect(metrics.text).toMatch(/^http_requests_total\{method="GET",route="shed",status="503"\} [1-9]/m);

    // The held requests were admitted: they are answered by the token endpoint, not shed.
    const answers = await Promise.all(held.map((h) => h.finish()));
    for (const answer of answers) {
      expect(answer).toMatch(/^HTTP\/1\.1 4\d\d /);
      expect(answer).toContain('"error"');
    }
    const after = await http(`${app.url}/.well-known/openid-credential-issuer`);
    expect(after.status).toBe(200);
  });

  it('while full, answers a burst of 100 at once with 503 + Retry-After, and serves again right after', async () => {
    const held = Array.from({ length: MAX }, heldRequest);
    expect((await untilShed('/nonce')).status).toBe(503);
    const started = performance.now();
    const responses = await Promise.all(
      Array.from({ length: 100 }, () => http(`${app.url}/nonce`, { method: 'POST' })),
    );
    // Refused at once, not queued behind the held requests (which never finish on their own).
    expect(performance.now() - started).toBeLessThan(3000);
    for (const response of responses) {
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
    }
    await Promise.all(held.map((h) => h.finish()));
    const after = await http(`${app.url}/nonce`, { method: 'POST' });
    expect(after.status).toBe(200);
    expect(after.json.c_nonce).toEqual(expect.any(String));
  });
});
