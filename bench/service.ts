import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The service under load, for the HTTP cases: `node src/main.ts` as its own process on a fresh
 * persistent embedded store (a file, WAL), pinned to CPU 0 when taskset exists, with this load
 * generator pinned to CPU 1, so the figures are what one core of service does (`BENCH_NO_PIN=1`
 * leaves both unpinned). Logs at `warn`, rate limits off (every client shares 127.0.0.1).
 */
const ROOT = join(import.meta.dirname, '..');

/** Whether `taskset` exists and this machine has a second CPU to pin the generator to. */
const canPin = (() => {
  if (cpus().length < 2) return false;
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    // No taskset: the figures are then per machine, not per core.
    return false;
  }
})();

/** Every thread of a running process (its existing threads; new ones inherit from their creator). */
function pin(pid: number, cpuList: string): void {
  execFileSync('taskset', ['-acp', cpuList, String(pid)], { stdio: 'ignore' });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startService(
  env: Record<string, string> = {},
  /** The program to run: the service, or bench/plain-issuer.ts (the baseline of issue 16). */
  script = 'src/main.ts',
  /**
   * The checkout to run it from: BENCH_SERVICE_ROOT, else this one; BENCH_AB_ROOT names the other
   * side of a before/after comparison (bench/cases/http.ts).
   */
  root = process.env.BENCH_SERVICE_ROOT ?? ROOT,
  /** Pin the service to CPU 0 and this generator to CPU 1 (the baseline cases also run unpinned). */
  pinned = process.env.BENCH_NO_PIN !== '1',
): Promise<{ url: string; admin: string; child: ChildProcess; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'issuer-bench-'));
  const port = await freePort();
  const admin = randomBytes(24).toString('base64url');
  const nodeArgs = process.env.BENCH_SERVICE_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  // Pinned from its first instruction (taskset execs node, same pid): V8's GC and compiler threads,
  // the store's checkpointer and libuv's pool all share CPU 0 with the event loop. Pinning only the
  // main thread once it runs left them free to use the generator's core (up to 0.13 of a core).
  const command = [process.execPath, ...nodeArgs, join(root, script)];
  const [program, ...programArgs] = pinned && canPin ? ['taskset', '-c', '0', ...command] : command;
  const child = spawn(program as string, programArgs, {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      DATA_DIR: dir,
      PORT: String(port),
      DEMO: 'off',
      LOG_LEVEL: 'warn',
      // 32 wallets on one address far exceed the per-IP nonce/credential limits (1,200 a minute).
      ISSUER__rateLimits__enabled: 'false',
      KEY_ENCRYPTION_SECRET: randomBytes(32).toString('base64url'),
      ADMIN_TOKEN: admin,
      KEYS_INIT: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (pinned && canPin) {
    pin(process.pid, '1');
  } else if (canPin) {
    // Undo an earlier case's pinning of this generator: both processes float over every CPU.
    pin(process.pid, `0-${cpus().length - 1}`);
  }
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      if (out.includes('listening')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`service exited with ${code}`)));
  });
  // BENCH_SERVICE_STDOUT=<file> keeps what the service prints (e.g. with --trace-gc in BENCH_SERVICE_NODE_ARGS).
  const keep = process.env.BENCH_SERVICE_STDOUT;
  if (keep) child.stdout?.pipe(createWriteStream(keep));
  else child.stdout?.resume();
  return { url: `http://127.0.0.1:${port}`, admin, child, dir };
}

/** CPU milliseconds (user + system, all threads) a process has used so far; NaN without /proc. */
export function processCpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15 (clock ticks).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}
const CLOCK_TICKS = 100;

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
