import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../../helpers/app.ts';

/**
 * Graceful shutdown: once stop() begins, new connections are refused, while a request already in
 * flight (here, one whose body is still arriving) is allowed to finish within the grace period.
 */
describe('graceful shutdown', () => {
  it('finishes an in-flight request, then refuses new connections and closes the store', async () => {
    const app = await startTestApp();
    const port = app.running.port;
    const body = JSON.stringify({ credential_configuration_ids: [] });
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    let response = '';
    socket.on('data', (chunk) => {
      response += chunk;
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(
      `POST /admin/credential-offers HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${app.adminToken}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));

    const stopped = app.running.stop(5);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const refused = await new Promise<boolean>((resolve) => {
      const probe = connect({ host: '127.0.0.1', port });
      probe.once('connect', () => {
        probe.destroy();
        resolve(false);
      });
      probe.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);

    socket.end(body.slice(5));
    await stopped;
    await closed;
    expect(response).toMatch(/^HTTP\/1\.1 (201|400) /);
    await expect(app.services.store.ping()).rejects.toThrow();
    await app.stop();
  });
});
