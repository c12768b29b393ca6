import type { Logger } from 'pino';
import type { AuditLog } from './audit/audit.ts';
import type { Clock } from './clock.ts';
import type { Config } from './config/defaults.ts';
import type { Metrics } from './http/metrics.ts';
import type { KeyStore } from './keys/spi.ts';
import type { Store } from './store/spi.ts';

/**
 * What every part gets injected. Built once in src/main.ts (or by tests through
 * test/helpers/app.ts) and handed to src/compose.ts; parts never reach for globals.
 */
export interface Services {
  readonly config: Config;
  readonly clock: Clock;
  readonly store: Store;
  readonly keys: KeyStore;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The insert-only audit trail (SECURITY.md row 50). */
  readonly audit: AuditLog;
}
