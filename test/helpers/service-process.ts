import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { sameClockEnv } from './clock.ts';

/**
 * The service as operators run it: `node src/main.ts` (what `npm start` runs) or the CLI as a child
 * process with its own environment, on a free port of 127.0.0.1 and a temporary data directory.
 */
export const ROOT = join(import.meta.dirname, '../..');

/** A port nothing listens on at the moment of asking. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Started {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/**
 * For one test file: `start` runs a script under ROOT with only PATH, the test's clock
 * (`sameClockEnv`), LOG_LEVEL=warn and `env`, and `tempDir` makes a data directory; after each
 * test (with `lifetime` 'file': after the file's last test, for processes started in beforeAll)
 * whatever is still running is killed and the directories are removed.
 */
export function serviceProcesses(
  prefix: string,
  lifetime: 'test' | 'file' = 'test',
): {
  tempDir: () => string;
  start: (script: string, env: Record<string, string>, args?: string[]) => Started;
} {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  (lifetime === 'file' ? afterAll : afterEach)(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return {
    tempDir() {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    },
    start(script, env, args = []) {
      const child = spawn(process.execPath, [join(ROOT, script), ...args], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', ...sameClockEnv(), LOG_LEVEL: 'warn', ...env },
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
      return { child, stdout: () => out, stderr: () => err, exited };
    },
  };
}

/** Resolves once the service prints that it listens; rejects with its stderr if it exits first. */
export async function listening(service: Started, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!service.stdout().includes('listening')) {
    if (service.child.exitCode !== null)
      throw new Error(`exited with ${service.child.exitCode}: ${service.stderr()}`);
    if (Date.now() > deadline) throw new Error(`not listening after ${timeoutMs} ms: ${service.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
