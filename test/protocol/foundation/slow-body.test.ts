import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { bearer, http } from '../../helpers/http.ts';

/**
 * Slow senders (SECURITY.md rows 55 and 60): a request whose body is still arriving is not work
 * in progress. It must not take one of the `http.maxInFlight` places (eight half-sent bodies shed
 * every other request until the 30 s request timeout), and it gets `http.bodyTimeoutMs` to finish
 * its body: past that, 408 invalid_request and the connection is closed.
 */

/** Sends the headers and the first bytes of a body whose rest never comes. */
function halfSent(
  url: string,
  path: string,
  headers: Record<string, string> = {},
  body = 'grant_type=authorization_code&code=xyz&redirect_uri=https%3A%2F%2Frp.example%2Fcb',
): { socket: Socket; answer: Promise<string> } {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => {
    received += chunk;
  });
  socket.on('error', () => {});
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\n${extra}` +
      `Content-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
  );
  return { socket, answer: new Promise((resolve) => socket.once('close', () => resolve(received))) };
}

describe('a request body still arriving', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { ISSUER__http__maxInFlight: '3' } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('does not count against http.maxInFlight: eight half-sent bodies shed no other request', async () => {
    // The first metadata request signs it (the x5c certificate may need the store); warm it so the
    // burst below measures the held bodies, not the first signature.
    expect((await http(`${app.url}/.well-known/openid-credential-issuer`)).status).toBe(200);
    const held = Array.from({ length: 8 }, () => halfSent(app.url, '/token'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => http(`${app.url}/.well-known/openid-credential-issuer`)),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    for (const h of held) h.socket.destroy();
  });
});

describe('http.bodyTimeoutMs', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { ISSUER__http__bodyTimeoutMs: '1000' } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('answers 408 invalid_request and closes the connection when a body takes longer (provider and own endpoints)', async () => {
    const started = performance.now();
    const token = halfSent(app.url, '/token');
    const admin = halfSent(
      app.url,
      '/admin/credential-offers',
      { ...bearer(app.adminToken), 'Content-Type': 'application/json' },
      JSON.stringify({ credential_configuration_ids: ['x'] }),
    );
    const answers = await Promise.all([token.answer, admin.answer]);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThan(900);
    expect(elapsed).toBeLessThan(5000);
    for (const answer of answers) {
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(answer).toMatch(/\r\nconnection: close\r\n/i);
      expect(answer).toContain('"error":"invalid_request"');
    }
    // Not a server fault: nothing logged at error level.
    expect(app.logs.filter((line) => line.level === 'error')).toEqual([]);
  });
});
