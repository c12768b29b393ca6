import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, ROOT, serviceProcesses } from '../../helpers/service-process.ts';

/**
 * Signing keys are never replaced silently at start. A deleted or replaced issuer.db, or an empty
 * data directory with the production secrets set, used to start with new keys, so every credential
 * and token issued before stopped verifying. Outside demo mode the service now refuses to start
 * without keys and says how to make them (`npm run cli -- keys init`, or KEYS_INIT=true for a
 * first start); demo mode generates them and says so in one JSON log line. A missing demo
 * key-encryption secret file is named, and not written again while keys encrypted under it exist.
 */
const { tempDir, start } = serviceProcesses('issuer-keys-');

/** Runs the service until it listens (then stops it with SIGTERM) or exits on its own. */
async function runService(env: Record<string, string>) {
  const port = await freePort();
  const { child, stdout, stderr, exited } = start('src/main.ts', {
    PORT: String(port),
    LOG_LEVEL: 'info',
    ...env,
  });
  const deadline = Date.now() + 30_000;
  while (!stdout().includes('listening') && child.exitCode === null && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  let kids: string[] = [];
  if (stdout().includes('listening')) {
    const jwks = (await (await fetch(`http://127.0.0.1:${port}/jwks/credentials`)).json()) as {
      keys: { kid: string }[];
    };
    kids = jwks.keys.map((k) => k.kid).sort();
    child.kill('SIGTERM');
  }
  const code = await exited;
  const logs = stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { code, stderr: stderr(), logs, kids };
}

function cli(env: Record<string, string>, ...args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, 'src/cli.ts'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

const production = (dataDir: string) => ({
  DATA_DIR: dataDir,
  KEY_ENCRYPTION_SECRET: randomBytes(32).toString('base64url'),
  ADMIN_TOKEN: randomBytes(24).toString('base64url'),
});

describe('signing keys at start, outside demo mode', () => {
  it('refuses an empty store, naming the store file, `npm run cli -- keys init` and KEYS_INIT', async () => {
    const dataDir = tempDir();
    const result = await runService(production(dataDir));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^issuer: cannot start: no signing keys/);
    expect(result.stderr).toContain(join(dataDir, 'issuer.db'));
    expect(result.stderr).toContain('npm run cli -- keys init');
    expect(result.stderr).toContain('KEYS_INIT=true');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('starts with the keys `keys init` made, keeps them, and refuses again once issuer.db is deleted', async () => {
    const dataDir = tempDir();
    const env = production(dataDir);
    const init = cli(env, 'keys', 'init');
    expect(init.stderr).toBe('');
    expect(init.status).toBe(0);
    const made = [...init.stdout.matchAll(/credential (?:EdDSA|ES256): new active key (\S+)/g)].map(
      (m) => m[1],
    );
    expect(made).toHaveLength(2);
    expect(cli(env, 'keys', 'init').stdout).toContain('already');

    const first = await runService(env);
    expect(first.code).toBe(0);
    expect(first.kids).toEqual([...made].sort());
    expect((await runService(env)).kids).toEqual(first.kids);

    for (const file of ['issuer.db', 'issuer.db-wal', 'issuer.db-shm'])
      rmSync(join(dataDir, file), { force: true });
    const after = await runService(env);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('no signing keys');
  }, 90_000);

  it('generates keys on a first start with KEYS_INIT=true, saying so in one JSON log line', async () => {
    const dataDir = tempDir();
    const result = await runService({ ...production(dataDir), KEYS_INIT: 'true' });
    expect(result.code).toBe(0);
    const generated = result.logs.filter((line) => line.msg === 'generated new signing keys');
    expect(generated).toHaveLength(1);
    expect(generated[0]).toMatchObject({ level: 'warn', store: join(dataDir, 'issuer.db') });
    expect((generated[0]!.kids as string[]).filter((kid) => result.kids.includes(kid)).sort()).toEqual(
      result.kids,
    );
  }, 60_000);
});

describe('signing keys at start, demo mode', () => {
  it('generates keys for an empty data directory and logs it as one JSON line', async () => {
    const dataDir = tempDir();
    const first = await runService({ DATA_DIR: dataDir });
    expect(first.code).toBe(0);
    expect(first.logs.filter((line) => line.msg === 'generated new signing keys')).toHaveLength(1);
    const again = await runService({ DATA_DIR: dataDir });
    expect(again.kids).toEqual(first.kids);
    expect(again.logs.filter((line) => line.msg === 'generated new signing keys')).toHaveLength(0);
  }, 60_000);

  it('refuses to start when the key-encryption-secret file is gone but keys encrypted under it exist, naming the file and not writing a new one', async () => {
    const dataDir = tempDir();
    expect((await runService({ DATA_DIR: dataDir })).code).toBe(0);
    const secretFile = join(dataDir, 'key-encryption-secret');
    const secret = readFileSync(secretFile, 'utf8');
    rmSync(secretFile);

    const result = await runService({ DATA_DIR: dataDir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^issuer: cannot start: /);
    expect(result.stderr).toContain(secretFile);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(secretFile)).toBe(false);
    expect(result.stderr).not.toContain(secret.trim());
  }, 60_000);
});
