import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
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
 * test whatever is still running is killed (only when an assertion failed) and the directories are
 * removed.
 */
export function serviceProcesses(prefix: string): {
  tempDir: () => string;
  start: (script: string, env: Record<string, string>, args?: string[]) => Started;
} {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  afterEach(() => {
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
