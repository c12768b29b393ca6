import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, routeConsole } from '../../../src/http/logger.ts';

/**
 * Logs are JSON lines, so that log shippers parse every line. Only the start-up banner on stdout
 * (what `npm start` prints for a person) is plain text. Libraries print warnings with console.warn
 * (oidc-provider's "already parsed request body detected" came from our reading the token body
 * before the provider did); none may reach the output as plain text.
 */
const ROOT = join(import.meta.dirname, '../../..');
const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('service output', () => {
  it('prints nothing but JSON log lines after the banner, also when oidc-provider serves a token request', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'issuer-logs-'));
    dirs.push(dataDir);
    const port = await freePort();
    const child = spawn(process.execPath, [join(ROOT, 'src/main.ts')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info' },
    });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout?.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      err += chunk;
    });
    const deadline = Date.now() + 30_000;
    while (!out.includes('Health ') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
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
    await new Promise((resolve) => child.once('exit', resolve));

    const banner = /^(issuer listening on | {2}\S)/;
    const plain = [...out.split('\n'), ...err.split('\n')].filter((line) => {
      if (line === '' || banner.test(line)) return false;
      try {
        return typeof JSON.parse(line) !== 'object';
      } catch {
        return true;
      }
    });
    expect(plain).toEqual([]);
    expect(out).toContain('"msg":"request"');
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
