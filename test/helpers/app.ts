import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buildServices } from '../../src/bootstrap.ts';
import type { ComposeOptions } from '../../src/compose.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/http/logger.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import type { Services } from '../../src/services.ts';
import { TestClock } from './clock.ts';

export interface TestApp {
  /** Base URL, also the configured public URL (issuer identifier). */
  readonly url: string;
  readonly services: Services;
  readonly clock: TestClock;
  readonly adminToken: string;
  readonly dataDir: string;
  /** Every log line the app wrote, parsed. */
  readonly logs: Record<string, unknown>[];
  readonly running: RunningServer;
  stop(): Promise<void>;
}

/** Collects pino's JSON lines in memory so tests can assert on logs (and scan them for secrets). */
function memoryLog(): { stream: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { stream, lines };
}

let testToken: import('./softhsm.ts').SoftHsmToken | undefined;

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts the whole service on 127.0.0.1 with an in-memory embedded store (unless `store` options
 * say otherwise), a manual clock and fresh secrets. `pathPrefix` makes the public URL path-based;
 * `compose` passes stand-ins for parts at construction (src/compose.ts `ComposeOptions`).
 */
export async function startTestApp(
  options: {
    overrides?: Record<string, unknown>;
    env?: Record<string, string>;
    pathPrefix?: string;
    compose?: ComposeOptions;
  } = {},
): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'issuer-test-'));
  const adminToken = randomBytes(24).toString('base64url');
  const port = await freePort();
  const config = loadConfig({
    env: {
      DATA_DIR: dataDir,
      DEMO: 'off',
      KEY_ENCRYPTION_SECRET: randomBytes(32).toString('base64url'),
      ADMIN_TOKEN: adminToken,
      // A fresh store outside demo mode: the keys are made at start only when asked to.
      KEYS_INIT: 'true',
      PUBLIC_URL: `http://127.0.0.1:${port}${options.pathPrefix ?? ''}`,
      LOG_LEVEL: 'info',
      ...options.env,
    },
    overrides: { store: { embeddedFile: ':memory:' }, ...options.overrides },
  });
  // TEST_PKCS11=1: every test app keeps its credential and OIDC keys in a SoftHSM2 token (one per
  // test process), so whole suites run against the PKCS#11 key store (README, PKCS#11).
  if (process.env.TEST_PKCS11 === '1' && !config.keys.pkcs11.module) {
    if (!testToken) {
      const token = (await import('./softhsm.ts')).softHsmToken();
      process.once('exit', () => token.remove());
      testToken = token;
    }
    Object.assign(config.keys.pkcs11, testToken.config);
  }
  const clock = new TestClock();
  const log = memoryLog();
  const services = await buildServices(config, {
    clock,
    logger: createLogger(config.logLevel, log.stream),
    defaultMetrics: false,
  });
  const running = await startServer(services, port, '127.0.0.1', options.compose);
  return {
    url: config.resolved.publicUrl,
    services,
    clock,
    adminToken,
    dataDir,
    logs: log.lines,
    running,
    async stop() {
      await running.stop(1);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
