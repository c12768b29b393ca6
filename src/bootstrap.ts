import { isAbsolute, join } from 'node:path';
import type { Logger } from 'pino';
import { createAuditLog } from './audit/audit.ts';
import { type Clock, systemClock } from './clock.ts';
import type { Config } from './config/defaults.ts';
import { createLogger } from './http/logger.ts';
import { createMetrics } from './http/metrics.ts';
import { openKeyStore } from './keys/open.ts';
import { KeysMissing, type ManagedKey } from './keys/spi.ts';
import type { Services } from './services.ts';
import { openStore } from './store/index.ts';

export interface BuildOptions {
  clock?: Clock;
  logger?: Logger;
  defaultMetrics?: boolean;
  /**
   * Generate signing keys when the store holds none. Default: in demo mode, or with
   * `keys.initOnStart` (KEYS_INIT=true); `npm run cli -- keys init` passes true.
   */
  generateKeys?: boolean;
  /** Where keys.encryptionSecret came from, for the wrong-secret error (e.g. the demo secret file). */
  secretSource?: string;
  /** false: the caller initialises the key store itself (`keys init` reports what it generated). */
  initKeys?: boolean;
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
    const keys = await openKeyStore(config, {
      store,
      clock,
      audit,
      ...(options.secretSource ? { secretSource: options.secretSource } : {}),
    });
    const where = s.mongodbUrl ? `MongoDB database ${s.mongodbDatabase}` : embeddedPath(config);
    let generated: ManagedKey[] = [];
    if (options.initKeys !== false) {
      try {
        generated = await keys.init({
          generate: options.generateKeys ?? (config.resolved.demo || config.keys.initOnStart),
        });
      } catch (error) {
        if (!(error instanceof KeysMissing)) throw error;
        throw new KeysMissing(
          `no signing keys in ${where}, and new ones are not generated at start outside demo mode ` +
            '(credentials and tokens signed with the lost keys would no longer verify). If keys existed, ' +
            'restore the store from a backup; for a first start run `npm run cli -- keys init` with this ' +
            'configuration, or start once with KEYS_INIT=true (keys.initOnStart)',
        );
      }
    }
    if (generated.length > 0) {
      // Loud on purpose: new keys mean nothing signed before verifies against them.
      logger.warn(
        {
          event: 'keys_generated',
          store: where,
          kids: generated.map((key) => key.kid),
          keys: generated.map(({ kid, purpose, alg }) => ({ kid, purpose, alg })),
        },
        'generated new signing keys',
      );
    }
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
