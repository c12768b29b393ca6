import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { http } from '../../helpers/http.ts';

/**
 * A client that drops its connection before the service could answer is not a server fault: it is
 * logged and counted as 499 "client closed request" (nginx's code for it), never as 500, and nothing
 * is logged at error level (such a log line pages an operator).
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.stop();
});

async function dropMidBody(path: string, type: string, headers = ''): Promise<void> {
  const { port } = new URL(app.url);
  const socket = connect(Number(port), '127.0.0.1');
  socket.on('error', () => {});
  const body =
    type === 'application/json' ? JSON.stringify({ credential_configuration_ids: ['x'] }) : 'a=b&c=d';
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: ${type}\r\n${headers}` +
      `Content-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`,
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
  socket.destroy();
  await new Promise((resolve) => setTimeout(resolve, 300));
}

describe('a client that closes its connection mid-request', () => {
  it('is logged and counted as 499, with no error-level log line and no 500', async () => {
    await dropMidBody(
      '/admin/credential-offers',
      'application/json',
      `Authorization: Bearer ${app.adminToken}\r\n`,
    );
    await dropMidBody('/token', 'application/x-www-form-urlencoded');

    const requests = app.logs.filter((line) => line.msg === 'request');
    expect(requests.map((line) => line.status)).toEqual([499, 499]);
    expect(app.logs.filter((line) => line.level === 'error')).toEqual([]);
    const metrics = await http(`${app.url}/metrics`);
    expect(metrics.text).toMatch(/^http_requests_total\{[^}]*status="499"[^}]*\} 2$/m);
    expect(metrics.text).not.toMatch(/status="500"/);
  });
});
