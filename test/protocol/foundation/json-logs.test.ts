import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, routeConsole } from '../../../src/http/logger.ts';
import { freePort, serviceProcesses } from '../../helpers/service-process.ts';

/**
 * Logs are JSON lines, so that log shippers parse every line. Only the start-up banner on stdout
 * (what `npm start` prints for a person) is plain text. Libraries print warnings with console.warn
 * (oidc-provider's "already parsed request body detected" came from our reading the token body
 * before the provider did); none may reach the output as plain text.
 */
const { tempDir, start } = serviceProcesses('issuer-logs-');

describe('service output', () => {
  it('prints nothing but JSON log lines after the banner, also when oidc-provider serves a token request', async () => {
    const port = await freePort();
    const { child, stdout, stderr, exited } = start('src/main.ts', {
      DATA_DIR: tempDir(),
      PORT: String(port),
      LOG_LEVEL: 'info',
    });
    const deadline = Date.now() + 30_000;
    while (!stdout().includes('Health ') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const base = `http://127.0.0.1:${port}`;
    for (const body of [
      'grant_type=authorization_code&code=xyz&redirect_uri=https%3A%2F%2Frp.example%2Fcb&client_id=demo-relying-party',
      'grant_type=refresh_token&refresh_token=abc&client_id=nobody',
    ]) {
      const response = await fetch(`${base}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body,
      });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
    }
    const par = await fetch(`${base}/par`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'client_id=nobody&response_type=code',
    });
    expect(par.status).toBe(401);
    child.kill('SIGTERM');
    await exited;

    const banner = /^(issuer listening on | {2}\S)/;
    const plain = [...stdout().split('\n'), ...stderr().split('\n')].filter((line) => {
      if (line === '' || banner.test(line)) return false;
      try {
        return typeof JSON.parse(line) !== 'object';
      } catch {
        return true;
      }
    });
    expect(plain).toEqual([]);
    expect(stdout()).toContain('"msg":"request"');
  }, 60_000);
});

describe('routeConsole', () => {
  it('turns a library console.warn (coloured on a terminal) into one JSON log line at warn level', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
        done();
      },
    });
    const restore = routeConsole(createLogger('info', stream));
    try {
      console.warn('\x1b[31;1moidc-provider WARNING: %s\x1b[0m', 'something to know');
    } finally {
      restore();
    }
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        source: 'console',
        msg: 'oidc-provider WARNING: something to know',
      }),
    ]);
  });
});
