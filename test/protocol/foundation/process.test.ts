import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, ROOT, serviceProcesses } from '../../helpers/service-process.ts';

/**
 * The service as operators run it: `node src/main.ts` (what `npm start` runs) and the CLI, as child
 * processes with their own environment.
 */
const { tempDir, start } = serviceProcesses('issuer-proc-');

async function waitFor(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('npm start (node src/main.ts)', () => {
  it('starts in demo mode with nothing configured, prints its URLs and the admin token file, stops on SIGTERM', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const service = start('src/main.ts', { DATA_DIR: dataDir, PORT: String(port) });
    await waitFor(() => service.stdout().includes('Demo mode'));
    expect(service.stdout()).toContain(`http://127.0.0.1:${port}/.well-known/openid-configuration`);
    expect(service.stdout()).toContain(join(dataDir, 'admin-token'));
    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    expect(service.stdout()).not.toContain(token);
    const admin = await fetch(`http://127.0.0.1:${port}/admin`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(admin.status).toBe(200);
    expect(existsSync(join(dataDir, 'issuer.db'))).toBe(true);

    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
  });

  it('refuses to start with a wrong key-encryption secret, saying so in one line', async () => {
    const dataDir = tempDir();
    const port = String(await freePort());
    const first = start('src/main.ts', {
      DATA_DIR: dataDir,
      PORT: port,
      KEY_ENCRYPTION_SECRET: 'a'.repeat(40),
      KEYS_INIT: 'true',
    });
    await waitFor(() => first.stdout().includes('listening'));
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = start('src/main.ts', {
      DATA_DIR: dataDir,
      PORT: port,
      KEY_ENCRYPTION_SECRET: 'b'.repeat(40),
    });
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toMatch(/^issuer: cannot start: .*key-encryption secret/);
    expect(second.stderr()).not.toMatch(/\n\s+at /);
  });

  it('refuses bad configuration with every bad option named', async () => {
    const service = start('src/main.ts', { DATA_DIR: tempDir(), PORT: 'x', LOG_LEVEL: 'loud' });
    expect(await service.exited).toBe(1);
    expect(service.stderr()).toContain('port: must be a number, got "x"');
    expect(service.stderr()).toContain('logLevel: must be one of');
    expect(service.stderr()).not.toMatch(/\n\s+at /);
  });

  it('fails fast with a clear message when MongoDB is unreachable at start', async () => {
    const closedPort = await freePort();
    const started = Date.now();
    const service = start('src/main.ts', {
      DATA_DIR: tempDir(),
      PORT: String(await freePort()),
      KEY_ENCRYPTION_SECRET: 'a'.repeat(40),
      MONGODB_URL: `mongodb://user:hunter2@127.0.0.1:${closedPort}/?directConnection=true`,
      ISSUER__store__mongodbServerSelectionTimeoutMs: '1000',
    });
    expect(await service.exited).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(service.stderr()).toMatch(/^issuer: cannot start: /);
    expect(service.stderr()).not.toContain('hunter2');
    expect(service.stderr()).not.toMatch(/\n\s+at /);
  });
});

describe('npm run cli', () => {
  it('lists keys without private material and rotates them', () => {
    const env = {
      ...process.env,
      DATA_DIR: tempDir(),
      KEY_ENCRYPTION_SECRET: randomBytes(32).toString('hex'),
    };
    const cli = (...args: string[]) =>
      execFileSync(process.execPath, [join(ROOT, 'src/cli.ts'), ...args], {
        cwd: ROOT,
        env,
        encoding: 'utf8',
      });
    // Read only: a store that does not exist yet is refused, never created (test/unit/cli-read-only.test.ts).
    expect(() => cli('keys', 'list')).toThrow(/no store at/);
    const rotated = cli('keys', 'rotate', 'credential');
    expect(rotated).toMatch(/credential EdDSA: new active key \S+; \S+ retired/);
    const after = cli('keys', 'list');
    expect(after).toMatch(/^kid\s+purpose\s+alg\s+status/);
    expect(after.match(/ retired /g)).toHaveLength(2);
    expect(after.match(/ active /g)).toHaveLength(5);
    expect(after).not.toMatch(/"d"|PRIVATE/);
    expect(cli('help')).toContain('usage: npm run cli');
  });
});
