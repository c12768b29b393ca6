import { isAbsolute, join } from 'node:path';
import type { Logger } from 'pino';
import { createAuditLog } from './audit/audit.ts';
import { type Clock, systemClock } from './clock.ts';
import type { Config } from './config/defaults.ts';
import { createLogger } from './http/logger.ts';
import { createMetrics } from './http/metrics.ts';
import { createKeyStore } from './keys/key-store.ts';
import type { Services } from './services.ts';
import { openStore } from './store/index.ts';

export interface BuildOptions {
  clock?: Clock;
  logger?: Logger;
  defaultMetrics?: boolean;
}

/** Opens the store and the key store and assembles the services every module receives. */
export async function buildServices(config: Config, options: BuildOptions = {}): Promise<Services> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config.logLevel);
  const { store: s } = config;
  const store = s.mongodbUrl
    ? await openStore(
        {
          kind: 'mongo',
          url: s.mongodbUrl,
          database: s.mongodbDatabase,
          serverSelectionTimeoutMs: s.mongodbServerSelectionTimeoutMs,
          socketTimeoutMs: s.mongodbSocketTimeoutMs,
          connectTimeoutMs: s.mongodbConnectTimeoutMs,
        },
        clock,
        s.sweepIntervalSeconds,
      )
    : await openStore(
        {
          kind: 'embedded',
          file: embeddedPath(config),
          synchronous: s.embeddedSynchronous,
          checkpointIntervalMs: s.embeddedCheckpointIntervalMs,
        },
        clock,
        s.sweepIntervalSeconds,
      );
  try {
    const audit = createAuditLog({ store, clock, logger, encryptionSecret: config.keys.encryptionSecret });
    const keys = createKeyStore({
      store,
      clock,
      encryptionSecret: config.keys.encryptionSecret,
      retiredKeyPublishSeconds: config.keys.retiredKeyPublishSeconds,
      audit,
    });
    await keys.init();
    return {
      config,
      clock,
      store,
      keys,
      logger,
      metrics: createMetrics({ defaultMetrics: options.defaultMetrics }),
      audit,
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** The embedded store's file (`store.embeddedFile`, relative paths under dataDir), or `:memory:`. */
export function embeddedPath(config: Config): string {
  const file = config.store.embeddedFile;
  return file === ':memory:' || isAbsolute(file) ? file : join(config.resolved.dataDir, file);
}
