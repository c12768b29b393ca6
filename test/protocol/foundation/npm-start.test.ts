import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, ROOT } from '../../helpers/service-process.ts';

/**
 * The documented start (`npm start`) and the documented stop (SIGTERM to it, as a process manager
 * or `kill <pid>` does): npm runs the script through `sh -c`, so unless the shell hands the signal
 * on (or is replaced by node), the service outlives npm, still holding its port and store.
 */
const dirs: string[] = [];
const started: number[] = [];

afterEach(() => {
  // Whatever this test started and is still running (only when an assertion failed).
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Every live descendant of `root` (Linux /proc), children before grandchildren. */
function descendants(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after "(comm)": state, ppid, ...
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // Exited while listing.
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [pid, ppid] of parents) {
      if (ppid === parent) {
        found.push(pid);
        queue.push(pid);
      }
    }
  }
  return found;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    // A zombie still answers kill(0); it holds no port and no store.
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('npm start', () => {
  it('stops the service when the npm process gets SIGTERM: port closed, no node process left', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'issuer-npm-start-'));
    dirs.push(dataDir);
    const port = await freePort();
    const npm = spawn('npm', ['start'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? tmpdir(),
        DATA_DIR: dataDir,
        PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.push(npm.pid!);
    let out = '';
    npm.stdout.on('data', (chunk) => {
      out += chunk;
    });
    npm.stderr.resume();
    const exited = new Promise<void>((resolve) => npm.once('exit', () => resolve()));
    expect(await until(() => out.includes('listening'), 30_000)).toBe(true);
    const tree = descendants(npm.pid!);
    started.push(...tree);
    expect(tree.length).toBeGreaterThan(0);
    expect(await portOpen(port)).toBe(true);

    npm.kill('SIGTERM');
    await exited;
    expect(await until(async () => !(await portOpen(port)), 15_000)).toBe(true);
    expect(await until(() => tree.every((pid) => !alive(pid)), 15_000)).toBe(true);
  }, 60_000);
});
