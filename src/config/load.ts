import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { type Config, defaults } from './defaults.ts';

/** Thrown when configuration is invalid; the message names every bad option by its full path. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/**
 * Environment variables operators and scripts rely on. Any option can also be set as
 * `ISSUER__<path with __ between levels>`, e.g. `ISSUER__store__mongodbSocketTimeoutMs=8000`.
 */
export const ENVIRONMENT: Record<string, string> = {
  PORT: 'port',
  HOST: 'host',
  PUBLIC_URL: 'publicUrl',
  DATA_DIR: 'dataDir',
  DEMO: 'demo',
  LOG_LEVEL: 'logLevel',
  MONGODB_URL: 'store.mongodbUrl',
  KEY_ENCRYPTION_SECRET: 'keys.encryptionSecret',
  ADMIN_TOKEN: 'admin.token',
};

type Rule = (value: unknown) => string | undefined;
const oneOf =
  (...allowed: string[]): Rule =>
  (v) =>
    allowed.includes(v as string) ? undefined : `must be one of ${allowed.join(', ')}`;
const intBetween =
  (min: number, max: number): Rule =>
  (v) =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max
      ? undefined
      : `must be an integer from ${min} to ${max}`;
const httpUrl: Rule = (v) => {
  if (v === '') return undefined;
  try {
    const url = new URL(v as string);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http or https URL';
    if (url.search || url.hash) return 'must not have a query or fragment';
    if (url.username || url.password) return 'must not carry credentials';
  } catch {
    return 'must be an absolute URL';
  }
  return undefined;
};
const mongoUrl: Rule = (v) =>
  v === '' || /^mongodb(\+srv)?:\/\//.test(v as string)
    ? undefined
    : 'must start with mongodb:// or mongodb+srv://';
const secret: Rule = (v) =>
  v === '' || (v as string).length >= 32 ? undefined : 'must be at least 32 characters';

/** Extra checks beyond "same type as the default". Modules add rules for their own options here. */
const RULES: Record<string, Rule> = {
  publicUrl: httpUrl,
  port: intBetween(0, 65535),
  demo: oneOf('auto', 'on', 'off'),
  logLevel: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
  'http.bodyLimitBytes': intBetween(1024, 64 * 1024 * 1024),
  'http.shutdownGraceSeconds': intBetween(0, 600),
  'store.mongodbUrl': mongoUrl,
  'store.mongodbServerSelectionTimeoutMs': intBetween(100, 60_000),
  'store.mongodbSocketTimeoutMs': intBetween(100, 600_000),
  'store.mongodbConnectTimeoutMs': intBetween(100, 60_000),
  'store.sweepIntervalSeconds': intBetween(1, 86_400),
  'keys.encryptionSecret': secret,
  'keys.retiredKeyPublishSeconds': intBetween(0, 10 * 365 * 86_400),
  'admin.token': (v) =>
    v === '' || (v as string).length >= 24 ? undefined : 'must be at least 24 characters',
  'vci.cNonceTtlSeconds': intBetween(30, 3600),
  'vci.preAuthorizedCodeTtlSeconds': intBetween(30, 86_400),
  'vci.txCodeMaxAttempts': intBetween(1, 10),
  'vci.txCodeLength': intBetween(4, 12),
  'vci.offerUriTtlSeconds': intBetween(30, 86_400),
  'vci.batchSize': intBetween(1, 100),
  'vci.proofMaxAgeSeconds': intBetween(10, 3600),
  'vci.proofClockSkewSeconds': intBetween(0, 600),
  'vci.timeRoundingSeconds': intBetween(1, 86_400),
  'vci.deferredTtlSeconds': intBetween(60, 30 * 86_400),
  'vci.deferredIntervalSeconds': intBetween(1, 3600),
  'vci.notificationTtlSeconds': intBetween(60, 30 * 86_400),
};

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Converts an environment string to the type of the option's default. */
function fromEnv(raw: string, example: unknown): unknown {
  if (typeof example === 'number')
    return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  if (typeof example === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  return raw;
}

function setPath(target: Json, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!isObject(node[key])) node[key] = {};
    node = node[key] as Json;
  }
  node[path.at(-1)!] = value;
}

function getPath(source: Json, path: string[]): unknown {
  let node: unknown = source;
  for (const key of path) node = isObject(node) && Object.hasOwn(node, key) ? node[key] : undefined;
  return node;
}

/** Merges `override` into `base`, checking names and types against the defaults as it goes. */
function merge(base: Json, override: Json, shape: Json, prefix: string, problems: string[]): void {
  for (const [key, value] of Object.entries(override)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (!Object.hasOwn(shape, key)) {
      problems.push(`${path}: unknown option`);
      continue;
    }
    const example = shape[key];
    if (isObject(example)) {
      if (!isObject(value)) problems.push(`${path}: must be an object`);
      else merge(base[key] as Json, value, example, path, problems);
    } else if (Array.isArray(example)) {
      if (!Array.isArray(value)) problems.push(`${path}: must be an array`);
      else base[key] = value;
    } else if (typeof value !== typeof example || (typeof value === 'number' && !Number.isFinite(value))) {
      problems.push(`${path}: must be a ${typeof example}, got ${JSON.stringify(value)}`);
    } else {
      base[key] = value;
    }
  }
}

function applyRules(config: Json, problems: string[]): void {
  for (const [path, rule] of Object.entries(RULES)) {
    const value = getPath(config, path.split('.'));
    const problem = rule(value);
    if (problem) problems.push(`${path}: ${problem}`);
  }
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Overrides applied last (tests). */
  overrides?: Json;
}

/** Builds the validated configuration from defaults, the optional CONFIG_FILE and the environment. */
export function loadConfig({ env = process.env, overrides = {} }: LoadOptions = {}): Config {
  const problems: string[] = [];
  const config = structuredClone(defaults) as unknown as Json;

  const file = env.CONFIG_FILE;
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ConfigError([`CONFIG_FILE (${file}): ${(error as Error).message}`]);
    }
    if (!isObject(parsed)) throw new ConfigError([`CONFIG_FILE (${file}): must hold a JSON object`]);
    merge(config, parsed, defaults, '', problems);
  }

  const fromEnvironment: Json = {};
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined) continue;
    const path =
      ENVIRONMENT[name] ?? (name.startsWith('ISSUER__') ? name.slice(8).replaceAll('__', '.') : '');
    if (!path) continue;
    const example = getPath(defaults, path.split('.'));
    if (example === undefined || isObject(example)) {
      problems.push(`${name}: ${path} is not an option`);
      continue;
    }
    setPath(fromEnvironment, path.split('.'), fromEnv(raw, example));
  }
  merge(config, fromEnvironment, defaults, '', problems);
  merge(config, overrides, defaults, '', problems);
  applyRules(config, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  const typed = config as unknown as typeof defaults;
  const demo =
    typed.demo === 'on' || (typed.demo === 'auto' && !env.CONFIG_FILE && !typed.keys.encryptionSecret);
  if (!demo && !typed.keys.encryptionSecret) {
    throw new ConfigError(['keys.encryptionSecret: required outside demo mode (KEY_ENCRYPTION_SECRET)']);
  }
  const publicUrl = (typed.publicUrl || `http://127.0.0.1:${typed.port}`).replace(/\/+$/, '');
  const dataDir = isAbsolute(typed.dataDir) ? typed.dataDir : resolve(typed.dataDir);
  return Object.assign(typed, { resolved: { publicUrl, demo, dataDir } });
}
