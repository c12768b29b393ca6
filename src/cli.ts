import { buildServices } from './bootstrap.ts';
import { ConfigError, loadConfig } from './config/load.ts';
import { prepareDemo } from './demo.ts';
import { createLogger } from './http/logger.ts';
import { listKeys, rotateKeys } from './keys/cli-commands.ts';
import { KeyDecryptionFailed } from './keys/spi.ts';
import { StoreUnavailable } from './store/spi.ts';

const USAGE = `usage: npm run cli -- <command>

commands:
  keys list                      list published keys (kid, purpose, algorithm, status, times)
  keys rotate [credential|oidc]  make new active keys; the old ones stay published until retirement

The CLI reads the same configuration as the service (environment, CONFIG_FILE, demo material under
DATA_DIR) and works on the same store. A running service picks rotated keys up on its next key
reload (keys.reloadIntervalSeconds) or at restart.`;

async function run(args: string[]): Promise<string> {
  const [group, command, argument] = args;
  if (group !== 'keys' || (command !== 'list' && command !== 'rotate')) return USAGE;
  const config = loadConfig();
  prepareDemo(config);
  const services = await buildServices(config, { logger: createLogger('silent'), defaultMetrics: false });
  try {
    return command === 'list' ? listKeys(services.keys) : await rotateKeys(services.keys, argument);
  } finally {
    await services.store.close();
  }
}

run(process.argv.slice(2)).then(
  (output) => {
    process.stdout.write(`${output}\n`);
  },
  (error: unknown) => {
    const known =
      error instanceof ConfigError ||
      error instanceof KeyDecryptionFailed ||
      error instanceof StoreUnavailable;
    process.stderr.write(`issuer cli: ${known ? (error as Error).message : String(error)}\n`);
    process.exitCode = 1;
  },
);
