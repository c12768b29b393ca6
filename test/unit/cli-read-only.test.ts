import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

/**
 * `npm run cli` read-only commands as operators run them: `node src/cli.ts` as a child process (the
 * Node 24 vitest runs on), against data directories that are mistyped or empty. Listing must never
 * create a directory, a database or a secret.
 */
const ROOT = join(import.meta.dirname, '../..');
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'issuer-cli-'));
  dirs.push(dir);
  return dir;
}

function cli(env: Record<string, string>, ...args: string[]) {
  const result = spawnSync(process.execPath, [join(ROOT, 'src/cli.ts'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npm run cli -- keys list (read only)', () => {
  it('refuses a data directory that does not exist, naming it, and creates nothing (demo mode)', () => {
    const missing = join(tempDir(), 'dta');
    const result = cli({ DATA_DIR: missing }, 'keys', 'list');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(missing);
    expect(result.stderr).toMatch(/does not exist/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toBe('');
    expect(existsSync(missing)).toBe(false);
  });

  it('refuses a data directory that does not exist with an encryption secret configured, creating nothing', () => {
    const missing = join(tempDir(), 'nested', 'dta');
    const result = cli(
      { DATA_DIR: missing, KEY_ENCRYPTION_SECRET: randomBytes(32).toString('hex') },
      'keys',
      'list',
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(missing);
    expect(existsSync(join(missing, '..'))).toBe(false);
  });

  it('refuses an existing directory without issuer.db, naming the database path, and leaves it empty', () => {
    const empty = tempDir();
    const result = cli({ DATA_DIR: empty }, 'keys', 'list');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(join(empty, 'issuer.db'));
    expect(result.stdout).toBe('');
    expect(readdirSync(empty)).toEqual([]);
  });

  it('lists the keys of an existing store without generating or rotating any', () => {
    const dir = tempDir();
    const env = { DATA_DIR: dir, KEY_ENCRYPTION_SECRET: randomBytes(32).toString('hex') };
    // A write command creates the store (as the service does at its first start).
    expect(cli(env, 'keys', 'rotate', 'credential').status).toBe(0);
    const files = readdirSync(dir).sort();
    const first = cli(env, 'keys', 'list');
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout.match(/ active /g)).toHaveLength(5);
    expect(first.stdout.match(/ retired /g)).toHaveLength(2);
    expect(cli(env, 'keys', 'list').stdout).toBe(first.stdout);
    expect(readdirSync(dir).sort()).toEqual(files);
  });

  it('refuses demo material that lacks its key-encryption-secret, naming the file, creating nothing', () => {
    const dir = tempDir();
    const secret = randomBytes(32).toString('hex');
    expect(cli({ DATA_DIR: dir, KEY_ENCRYPTION_SECRET: secret }, 'keys', 'rotate').status).toBe(0);
    const before = readdirSync(dir).sort();
    mkdirSync(join(dir, 'unrelated'));
    const result = cli({ DATA_DIR: dir }, 'keys', 'list');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(join(dir, 'key-encryption-secret'));
    expect(readdirSync(dir).sort()).toEqual([...before, 'unrelated'].sort());
  });
});
