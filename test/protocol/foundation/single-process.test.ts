import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

/**
 * One process per store file (docs/ARCHITECTURE.md, Storage): a second service started on the same
 * data directory refuses to start, naming the directory and the process that holds it; a lock left
 * by a process that died (kill -9) does not stop the next start.
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

function start(dataDir: string, port: number) {
  const child = spawn(process.execPath, [join(ROOT, 'src/main.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn' },
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
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listening = async () => {
    const deadline = Date.now() + 30_000;
    while (!out.includes('listening')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`did not start: ${err}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return { child, exited, listening, stderr: () => err };
}

describe('one service process per data directory', () => {
  it('refuses a second process on the same data directory, naming the directory and the first pid; starts again after the first was killed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'issuer-lock-'));
    dirs.push(dataDir);
    const first = start(dataDir, await freePort());
    await first.listening();

    const second = start(dataDir, await freePort());
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toMatch(/^issuer: cannot start: /);
    expect(second.stderr()).toContain(dataDir);
    expect(second.stderr()).toContain(`pid ${first.child.pid}`);
    expect(second.stderr()).not.toMatch(/\n\s+at /);

    first.child.kill('SIGKILL');
    await first.exited;
    const third = start(dataDir, await freePort());
    await third.listening();
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
  }, 90_000);
});
