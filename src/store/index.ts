/** Opens the configured storage adapter. Modules depend on the SPI (`spi.ts`), never on an adapter. */
import type { Clock } from '../clock.ts';
import { EmbeddedStore } from './embedded.ts';
import { openMongoStore } from './mongo.ts';
import type { Store } from './spi.ts';

export type StoreOptions =
  | {
      kind: 'embedded';
      /** Database file, or `:memory:`. */
      file: string;
      /** SQLite durability level in WAL mode (see EmbeddedStoreOptions). */
      synchronous?: 'normal' | 'full';
      /** WAL checkpoints from a worker thread every this many ms; 0: SQLite's automatic ones. */
      checkpointIntervalMs?: number;
    }
  | {
      kind: 'mongo';
      /** Connection string; credentials in it never appear in errors. */
      url: string;
      database: string;
      serverSelectionTimeoutMs: number;
      socketTimeoutMs: number;
      connectTimeoutMs: number;
    };

/**
 * Opens a store. MongoDB is connected and pinged first: when it cannot be reached, this throws
 * StoreUnavailable within `serverSelectionTimeoutMs`, naming the host but never the password.
 * `sweepIntervalSeconds` is how often expired records are deleted (0: never; reads ignore them).
 */
export async function openStore(
  options: StoreOptions,
  clock: Clock,
  sweepIntervalSeconds: number,
): Promise<Store> {
  switch (options.kind) {
    case 'embedded':
      return new EmbeddedStore({
        file: options.file,
        synchronous: options.synchronous,
        ...(options.checkpointIntervalMs !== undefined
          ? { checkpointIntervalMs: options.checkpointIntervalMs }
          : {}),
        clock,
        sweepIntervalSeconds,
      });
    case 'mongo':
      return openMongoStore({
        url: options.url,
        database: options.database,
        serverSelectionTimeoutMs: options.serverSelectionTimeoutMs,
        socketTimeoutMs: options.socketTimeoutMs,
        connectTimeoutMs: options.connectTimeoutMs,
        clock,
        sweepIntervalSeconds,
      });
    default:
      throw new TypeError(`store: unknown kind ${(options as { kind: unknown }).kind}`);
  }
}

export type { Collection, CollectionSpec, Filter, Store, StoredDoc } from './spi.ts';
export { SpaceExhausted, StoreError, StoreUnavailable, UniqueViolation } from './spi.ts';
