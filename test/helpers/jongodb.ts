/**
 * Starts jongodb, a wire-compatible MongoDB test server shipped as a native binary by the npm
 * package `@jongodb/memory-server-bin-linux-x64-gnu` (no download at run time). `--port=0` lets it
 * pick a free port, which it prints as `JONGODB_URI=mongodb://127.0.0.1:<port>/test`.
 * See ../../shared/KNOWN-TRAPS.md for what it does not implement.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';

export interface Jongodb {
  /** `mongodb://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Its process id (the bench reads its CPU time). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

const PACKAGE = '@jongodb/memory-server-bin-linux-x64-gnu';

function binaryPath(): string {
  const manifest = createRequire(import.meta.url).resolve(`${PACKAGE}/package.json`);
  const { jongodb } = JSON.parse(readFileSync(manifest, 'utf8')) as { jongodb?: { binary?: string } };
  return join(dirname(manifest), jongodb?.binary ?? 'bin/jongodb');
}

function waitForUri(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => fail(new Error(`jongodb did not start within ${timeoutMs} ms: ${output}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /JONGODB_URI=(mongodb:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        cleanup();
        resolve(match[1]);
      }
    };
    const onExit = (code: number | null): void =>
      fail(new Error(`jongodb exited (${code}) before starting: ${output}`));
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', fail);
    };
    function fail(error: Error): void {
      cleanup();
      reject(error);
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', fail);
  });
}

/** Resolves once a TCP connection to the port succeeds. */
async function waitUntilListening(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`jongodb on port ${port} does not answer`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function startJongodb(options: { startTimeoutMs?: number } = {}): Promise<Jongodb> {
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  const child = spawn(binaryPath(), ['--host=127.0.0.1', '--port=0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const stop = async (): Promise<void> => {
    if (exited) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await gone;
    clearTimeout(timer);
  };
  try {
    const uri = new URL(await waitForUri(child, timeoutMs));
    const port = Number(uri.port);
    await waitUntilListening(port, timeoutMs);
    // Keep draining its output so a full pipe never blocks it.
    child.stdout?.resume();
    child.stderr?.resume();
    return { url: `mongodb://127.0.0.1:${port}`, port, pid: child.pid, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
