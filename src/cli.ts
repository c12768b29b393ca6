import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { buildServices } from './bootstrap.ts';
import { systemClock } from './clock.ts';
import type { Config } from './config/defaults.ts';
import { ConfigError, loadConfig } from './config/load.ts';
import { createOperators, operatorPolicy } from './console/operators.ts';
import { totpUri } from './console/totp.ts';
import { prepareDemo } from './demo.ts';
import { AppError } from './errors.ts';
import { createLogger } from './http/logger.ts';
import { initKeys, listKeys, rotateKeys } from './keys/cli-commands.ts';
import { openKeyStore } from './keys/open.ts';
import { KeyDecryptionFailed, type KeyStore } from './keys/spi.ts';
import { openStore } from './store/index.ts';
import { StoreUnavailable } from './store/spi.ts';

const USAGE = `usage: npm run cli -- <command>

commands:
  keys init                      generate the signing keys of a new store (first start; nothing if present)
  keys list                      list published keys (kid, purpose, algorithm, status, times)
  keys rotate [credential|oidc]  make new active keys; the old ones stay published until retirement
  operators add <username> --role <administrator|issuance-officer|auditor> [--totp]
                                 create an issuer console operator; the password is read from the
                                 OPERATOR_PASSWORD environment variable or standard input (never an
                                 argument); --totp prints the authenticator enrolment URI

The CLI reads the same configuration as the service (environment, CONFIG_FILE, demo material under
DATA_DIR) and works on the same store. Read-only commands (keys list) never create anything: they
refuse a DATA_DIR, database or demo secret that does not exist, naming the path. A running service
picks rotated keys up on its next key reload (keys.reloadIntervalSeconds) or at restart.`;

/** An operator mistake the CLI explains in one line (no stack). */
class CliError extends Error {
  override name = 'CliError';
}

async function run(args: string[]): Promise<string> {
  const [group, command, argument] = args;
  if (group === 'operators' && command === 'add') return addOperator(args.slice(2));
  if (group !== 'keys' || (command !== 'list' && command !== 'rotate' && command !== 'init')) return USAGE;
  const config = loadConfig();
  if (command === 'list') return withReadOnlyKeys(config, listKeys);
  prepareDemo(config);
  // Explicit key commands may generate keys for an empty store (the service at start may not).
  const services = await buildServices(config, {
    logger: createLogger('silent'),
    defaultMetrics: false,
    generateKeys: true,
    initKeys: command !== 'init',
  });
  try {
    return command === 'init' ? await initKeys(services.keys) : await rotateKeys(services.keys, argument);
  } finally {
    await services.store.close();
  }
}

/** `operators add <username> --role <role> [--totp]`: the first administrator, or any operator. */
async function addOperator(args: string[]): Promise<string> {
  const username = args[0];
  const roleAt = args.indexOf('--role');
  const role = roleAt >= 0 ? args[roleAt + 1] : undefined;
  const unknown = args
    .slice(1)
    .filter((a, i, all) => a !== '--role' && a !== '--totp' && all[i - 1] !== '--role');
  if (args.some((a) => a.startsWith('--password'))) {
    // Never echo it: an argument is visible to every user of the machine (ps) and in shell history.
    throw new CliError(
      'the password is never an argument: set OPERATOR_PASSWORD or type it on standard input',
    );
  }
  if (!username || username.startsWith('--') || !role || unknown.length > 0) return USAGE;
  const password = process.env.OPERATOR_PASSWORD ?? (await readPassword());
  const config = loadConfig();
  prepareDemo(config);
  const services = await buildServices(config, {
    logger: createLogger('silent'),
    defaultMetrics: false,
    initKeys: false,
  });
  try {
    const operators = createOperators({
      store: services.store,
      clock: services.clock,
      audit: services.audit,
      policy: operatorPolicy(config),
    });
    const { operator, totpSecret } = await operators
      .add({ username, role, password, totp: args.includes('--totp') })
      .catch((error: unknown) => {
        throw error instanceof AppError ? new CliError(error.description) : error;
      });
    await services.audit.settled();
    const made = `operator ${operator.username} created (role ${operator.role}, id ${operator.id})`;
    return totpSecret
      ? `${made}\nenrol this URI in an authenticator app (shown once):\n${totpUri(totpSecret, 'Issuer console', operator.username)}`
      : made;
  } finally {
    await services.store.close();
  }
}

/** The password from standard input: one line, not echoed when typed at a terminal. */
async function readPassword(): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of input) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  }
  process.stderr.write('password: ');
  input.setRawMode(true);
  return new Promise((resolve) => {
    let typed = '';
    const onData = (data: Buffer) => {
      for (const char of data.toString('utf8')) {
        if (char === '\r' || char === '\n' || char === '\u0004') {
          input.setRawMode(false);
          input.off('data', onData);
          input.pause();
          process.stderr.write('\n');
          resolve(typed);
          return;
        }
        if (char === '\u0003') process.exit(130);
        typed = char === '\u007f' ? typed.slice(0, -1) : typed + char;
      }
    };
    input.on('data', onData);
    input.resume();
  });
}

function embeddedPath(config: Config): string {
  const file = config.store.embeddedFile;
  return file === ':memory:' || isAbsolute(file) ? file : join(config.resolved.dataDir, file);
}

/**
 * Opens the existing store and key store for reading only. Unlike the service (and `keys rotate`),
 * nothing is created: not the data directory, not the database, not a demo secret, not a missing
 * key (the key store is reloaded, never initialised). No sweep or checkpoint runs either. A
 * mistyped DATA_DIR is therefore an error naming the path instead of a fresh store with new keys.
 */
async function withReadOnlyKeys(config: Config, read: (keys: KeyStore) => string): Promise<string> {
  const dataDir = config.resolved.dataDir;
  const embedded = !config.store.mongodbUrl;
  const needsSecretFile = config.resolved.demo && !config.keys.encryptionSecret;
  if ((embedded || needsSecretFile) && !existsSync(dataDir)) {
    throw new CliError(`data directory ${dataDir} does not exist (DATA_DIR); nothing was created`);
  }
  if (embedded) {
    const file = embeddedPath(config);
    if (file === ':memory:') throw new CliError('store.embeddedFile is :memory:: there is no store to read');
    if (!existsSync(file)) {
      throw new CliError(
        `no store at ${file}: the service has not run with this DATA_DIR (or store.embeddedFile); nothing was created`,
      );
    }
  }
  if (needsSecretFile) {
    const secretFile = join(dataDir, 'key-encryption-secret');
    if (!existsSync(secretFile)) {
      throw new CliError(
        `demo key secret ${secretFile} does not exist: set KEY_ENCRYPTION_SECRET or fix DATA_DIR; nothing was created`,
      );
    }
    config.keys.encryptionSecret = readFileSync(secretFile, 'utf8').trim();
  }
  const { store: s } = config;
  const store = await openStore(
    embedded
      ? {
          kind: 'embedded',
          file: embeddedPath(config),
          synchronous: s.embeddedSynchronous,
          checkpointIntervalMs: 0,
        }
      : {
          kind: 'mongo',
          url: s.mongodbUrl!,
          database: s.mongodbDatabase,
          serverSelectionTimeoutMs: s.mongodbServerSelectionTimeoutMs,
          socketTimeoutMs: s.mongodbSocketTimeoutMs,
          connectTimeoutMs: s.mongodbConnectTimeoutMs,
        },
    systemClock,
    0,
  );
  try {
    // No audit log: reading keys records nothing.
    const keys = await openKeyStore(config, { store, clock: systemClock });
    await keys.reload();
    return read(keys);
  } finally {
    await store.close();
  }
}

run(process.argv.slice(2)).then(
  (output) => {
    process.stdout.write(`${output}\n`);
  },
  (error: unknown) => {
    const known =
      error instanceof CliError ||
      error instanceof ConfigError ||
      error instanceof KeyDecryptionFailed ||
      error instanceof StoreUnavailable;
    process.stderr.write(`issuer cli: ${known ? (error as Error).message : String(error)}\n`);
    process.exitCode = 1;
  },
);
