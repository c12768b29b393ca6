import './runtime-flags.ts';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { buildServices, embeddedPath } from './bootstrap.ts';
import type { Config } from './config/defaults.ts';
import { ConfigError, loadConfig } from './config/load.ts';
import { discardNewKeySecret, prepareDemo } from './demo.ts';
import { createLogger, routeConsole } from './http/logger.ts';
import { KeyDecryptionFailed, KeysMissing } from './keys/spi.ts';
import { startServer } from './server.ts';
import { lockStoreFile, StoreLocked } from './store/lock.ts';
import { StoreUnavailable } from './store/spi.ts';

/** Start-up failures an operator can fix get one clear line, never a stack trace. */
function fail(message: string): never {
  process.stderr.write(`issuer: cannot start: ${message}\n`);
  process.exit(1);
}

/**
 * One service process per embedded store file: taken before anything under dataDir is read or
 * written, released when the process exits (a killed process leaves a stale lock, taken over).
 */
function lockStore(config: Config): void {
  if (config.store.mongodbUrl) return;
  const file = embeddedPath(config);
  if (file === ':memory:') return;
  const dataDir = config.resolved.dataDir;
  const where = dirname(file) === dataDir ? `data directory ${dataDir}` : `store file ${file}`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    const lock = lockStoreFile(file, where);
    process.once('exit', () => lock.release());
  } catch (error) {
    if (error instanceof StoreLocked) fail(error.message);
    throw error;
  }
}

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  lockStore(config);
  const demo = prepareDemo(config);
  const logger = createLogger(config.logLevel);
  // Library warnings (console.warn) become JSON log lines like everything else.
  routeConsole(logger);
  let services: Awaited<ReturnType<typeof buildServices>>;
  try {
    services = await buildServices(config, {
      logger,
      ...(demo?.keySecretFile ? { secretSource: `the demo secret file ${demo.keySecretFile}` } : {}),
    });
  } catch (error) {
    if (error instanceof KeyDecryptionFailed) fail((demo && discardNewKeySecret(demo)) || error.message);
    if (error instanceof KeysMissing || error instanceof StoreUnavailable) fail(error.message);
    throw error;
  }
  const running = await startServer(services, config.port, config.host);
  const base = config.resolved.publicUrl;
  const lines = [
    `issuer listening on http://${config.host}:${running.port} (public URL ${base}, store: ${services.store.kind})`,
    `  OpenID configuration   ${base}/.well-known/openid-configuration`,
    `  Credential issuer      ${base}/.well-known/openid-credential-issuer`,
    `  DID document           ${base}/.well-known/did.json`,
    `  Health                 ${base}/health/ready`,
  ];
  if (demo)
    lines.push(
      `  Demo mode: admin token in ${demo.adminTokenFile} (send as "Authorization: Bearer <token>")`,
    );
  process.stdout.write(`${lines.join('\n')}\n`);

  const shutdown = (signal: string) => {
    services.logger.info({ signal }, 'shutting down');
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        services.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`issuer: cannot start: ${(error as Error)?.message ?? String(error)}\n`);
  process.exit(1);
});
