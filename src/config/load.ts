import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { authorizationServerCrossProblems, externalServerProblems } from '../vci/external-as/config.ts';
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
  KEYS_INIT: 'keys.initOnStart',
  PKCS11_MODULE: 'keys.pkcs11.module',
  PKCS11_TOKEN_LABEL: 'keys.pkcs11.tokenLabel',
  PKCS11_SLOT: 'keys.pkcs11.slot',
  PKCS11_PIN: 'keys.pkcs11.pin',
  METRICS_TOKEN: 'metrics.bearerToken',
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
/** A list of distinct non-empty strings (at most 100, each at most 200 characters). */
const nameList: Rule = (v) =>
  Array.isArray(v) &&
  v.length <= 100 &&
  new Set(v).size === v.length &&
  v.every((e) => typeof e === 'string' && e.trim() !== '' && e.length <= 200)
    ? undefined
    : 'must be a list of distinct non-empty strings';
/** OpenID Connect for Identity Assurance 1.0 evidence types. */
const EVIDENCE_TYPES = ['document', 'electronic_record', 'vouch', 'electronic_signature'];
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
  profile: oneOf('default', 'haip'),
  logLevel: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
  'http.bodyLimitBytes': intBetween(1024, 64 * 1024 * 1024),
  'http.bodyTimeoutMs': intBetween(100, 600_000),
  'http.shutdownGraceSeconds': intBetween(0, 600),
  'http.maxInFlight': intBetween(0, 1_000_000),
  'store.mongodbUrl': mongoUrl,
  'store.embeddedSynchronous': oneOf('normal', 'full'),
  'store.embeddedCheckpointIntervalMs': intBetween(0, 60_000),
  'store.mongodbServerSelectionTimeoutMs': intBetween(100, 60_000),
  'store.mongodbSocketTimeoutMs': intBetween(100, 600_000),
  'store.mongodbConnectTimeoutMs': intBetween(100, 60_000),
  'store.sweepIntervalSeconds': intBetween(1, 86_400),
  'kyc.systems': (v) => {
    for (const [name, system] of Object.entries(v as Json)) {
      if (!isObject(system)) return `${name}: must be an object`;
      const type = system.type ?? name;
      if (type !== 'mock' && type !== 'http') return `${name}.type: must be mock or http`;
      if (
        type === 'http' &&
        (typeof system.baseUrl !== 'string' || !system.baseUrl || httpUrl(system.baseUrl))
      )
        return `${name}.baseUrl: must be an http or https URL`;
      if (system.timeoutMs !== undefined && intBetween(100, 60_000)(system.timeoutMs))
        return `${name}.timeoutMs: must be an integer from 100 to 60000`;
    }
    return undefined;
  },
  kyc: (v) => {
    const { systems, defaultSystem, clientSystems } = v as {
      systems: Json;
      defaultSystem: string;
      clientSystems: Json;
    };
    if (!Object.hasOwn(systems, defaultSystem))
      return `defaultSystem: "${defaultSystem}" is not in kyc.systems`;
    const bad = Object.entries(clientSystems).find(
      ([, name]) => typeof name !== 'string' || !Object.hasOwn(systems, name),
    );
    return bad ? `clientSystems.${bad[0]}: must name a system in kyc.systems` : undefined;
  },
  'kyc.kycTokenTtlSeconds': intBetween(10, 3600),
  'kyc.identityAssurance.trustFrameworks': nameList,
  'kyc.identityAssurance.evidence': (v) =>
    nameList(v) ??
    ((v as string[]).every((e) => EVIDENCE_TYPES.includes(e))
      ? undefined
      : `must list only ${EVIDENCE_TYPES.join(', ')}`),
  'kyc.identityAssurance.documents': nameList,
  'kyc.identityAssurance.claims': nameList,
  'kyc.subjectSalt': secret,
  'kyc.scryptCost': (v) =>
    intBetween(1024, 1 << 20)(v) || ((v as number) & ((v as number) - 1)) !== 0
      ? 'must be a power of two from 1024 to 1048576'
      : undefined,
  'kyc.otp.length': intBetween(6, 10),
  'kyc.otp.ttlSeconds': intBetween(30, 600),
  'kyc.otp.maxSendsPerTransaction': intBetween(1, 10),
  'kyc.otp.maxSendsPerIndividual': intBetween(1, 1000),
  'kyc.otp.sendWindowSeconds': intBetween(60, 86_400),
  'kyc.otp.resendCooldownSeconds': intBetween(0, 600),
  'kyc.lockout.maxAttemptsPerTransaction': intBetween(1, 10),
  'kyc.lockout.maxFailuresPerIndividual': intBetween(1, 100),
  'kyc.lockout.failureWindowSeconds': intBetween(60, 86_400),
  'kyc.lockout.blockSeconds': intBetween(0, 86_400),
  'kyc.biometric.maxCaptureAgeSeconds': intBetween(5, 600),
  'kyc.biometric.minCaptureChars': intBetween(1, 500_000),
  'kyc.biometric.maxCaptureChars': intBetween(500, 5_000_000),
  'kyc.biometric.sbi.firstPort': intBetween(1, 65_535),
  'kyc.biometric.sbi.lastPort': intBetween(1, 65_535),
  'kyc.biometric.sbi.discoveryTimeoutMs': intBetween(100, 30_000),
  'kyc.biometric.sbi.captureTimeoutSeconds': intBetween(1, 300),
  'kyc.biometric.sbi': (v) => {
    const { firstPort, lastPort } = v as { firstPort: number; lastPort: number };
    return lastPort < firstPort || lastPort - firstPort > 199
      ? 'lastPort must be from firstPort to firstPort + 199'
      : undefined;
  },
  'kyc.walletBindingTtlSeconds': intBetween(60, 365 * 86_400),
  'kyc.captcha.provider': oneOf('none', 'http'),
  'kyc.captcha.verifyUrl': httpUrl,
  'kyc.captcha.timeoutMs': intBetween(100, 30_000),
  'kyc.captcha.requiredFor': (v) =>
    (v as unknown[]).every((a) => ['send-otp', 'binding-otp', 'authenticate'].includes(a as string))
      ? undefined
      : 'must list actions from send-otp, binding-otp, authenticate',
  'kyc.captcha': (v) => {
    const { provider, verifyUrl, secret } = v as { provider: string; verifyUrl: string; secret: string };
    return provider === 'http' && (!verifyUrl || !secret)
      ? 'verifyUrl and secret: both are required with provider "http"'
      : undefined;
  },
  'kyc.notify.email': oneOf('outbox', 'console', 'smtp', 'webhook'),
  'kyc.notify.sms': oneOf('outbox', 'console', 'webhook'),
  'kyc.notify.outboxTtlSeconds': intBetween(60, 7 * 86_400),
  'kyc.notify.smtp.port': intBetween(1, 65535),
  'kyc.notify.smtp.tls': oneOf('starttls', 'implicit', 'none'),
  'kyc.notify.smtp.timeoutMs': intBetween(100, 120_000),
  'kyc.notify.webhook.url': httpUrl,
  'kyc.notify.webhook.secret': secret,
  'kyc.notify.webhook.timeoutMs': intBetween(100, 60_000),
  'keys.encryptionSecret': secret,
  'keys.retiredKeyPublishSeconds': intBetween(0, 10 * 365 * 86_400),
  'keys.reloadIntervalSeconds': intBetween(1, 86_400),
  'keys.pkcs11.purposes': (v) =>
    (v as unknown[]).every((p) => p === 'credential' || p === 'oidc')
      ? undefined
      : 'must list purposes from credential, oidc',
  'keys.pkcs11': (v) => {
    const { module, tokenLabel, slot, pin } = v as {
      module: string;
      tokenLabel: string;
      slot: number;
      pin: string;
    };
    if (!module) return undefined;
    if (!pin) return 'pin: required with a module (PKCS11_PIN)';
    return tokenLabel || slot >= 0 ? undefined : 'tokenLabel or slot: one is required with a module';
  },
  'admin.token': (v) =>
    v === '' || (v as string).length >= 24 ? undefined : 'must be at least 24 characters',
  'console.sessionIdleSeconds': intBetween(60, 86_400),
  'console.sessionAbsoluteSeconds': intBetween(300, 7 * 86_400),
  'console.maxFailedSignIns': intBetween(1, 100),
  'console.lockoutSeconds': intBetween(1, 86_400),
  'console.passwordMinLength': intBetween(8, 128),
  'metrics.bearerToken': (v) =>
    v === '' || (v as string).length >= 24 ? undefined : 'must be at least 24 characters',
  'oidc.codeTtlSeconds': intBetween(1, 600),
  'oidc.accessTokenTtlSeconds': intBetween(1, 86_400),
  'oidc.dpopAccessTokenTtlSeconds': intBetween(1, 86_400),
  'oidc.idTokenTtlSeconds': intBetween(1, 86_400),
  'oidc.refreshTokenTtlSeconds': intBetween(1, 365 * 86_400),
  'oidc.refreshTokenAbsoluteSeconds': intBetween(1, 365 * 86_400),
  'oidc.sessionTtlSeconds': intBetween(1, 30 * 86_400),
  'oidc.loginTransactionSeconds': intBetween(10, 3600),
  'oidc.consentTransactionSeconds': intBetween(10, 3600),
  'oidc.consentTtlSeconds': intBetween(1, 365 * 86_400),
  'oidc.clientAssertionMaxLifetimeSeconds': intBetween(1, 3600),
  'oidc.clockToleranceSeconds': intBetween(0, 60),
  // A path of plain segments that no provider, interaction or well-known path starts with.
  'oidc.esignetCompat.prefix': (v) =>
    typeof v === 'string' &&
    /^(\/[A-Za-z0-9._~-]+)+$/.test(v) &&
    !/^\/(authorize|token|userinfo|jwks|par|logout|interaction|\.well-known|admin)(\/|$)/.test(v)
      ? undefined
      : 'must be a path such as /v1/esignet (segments of letters, digits, . _ ~ -; not a provider path)',
  'oidc.jwksUriPolicy.allowedHosts': (v) =>
    (v as unknown[]).every((h) => typeof h === 'string' && /^[A-Za-z0-9.:-]+$/.test(h))
      ? undefined
      : 'must be an array of host names or IP literals (IPv6 without brackets)',
  'oidc.jwksUriPolicy.timeoutMs': intBetween(100, 30_000),
  'oidc.jwksUriPolicy.maxResponseBytes': intBetween(1024, 10 * 1024 * 1024),
  'oidc.jwksUriPolicy.minCacheSeconds': intBetween(60, 86_400),
  'oidc.jwksUriPolicy.maxCacheSeconds': intBetween(60, 7 * 86_400),
  'oidc.jwksUriPolicy': (v) => {
    const { minCacheSeconds, maxCacheSeconds } = v as { minCacheSeconds: number; maxCacheSeconds: number };
    return maxCacheSeconds < minCacheSeconds
      ? 'maxCacheSeconds: must not be below minCacheSeconds'
      : undefined;
  },
  'oidc.corsOrigins': (v) =>
    (v as unknown[]).every(
      (o) => typeof o === 'string' && URL.canParse(o) && new URL(o).origin === o && o !== 'null',
    )
      ? undefined
      : 'must be an array of origins (scheme://host[:port], no path or trailing slash)',
  'oidc.uiLocales': (v) =>
    Array.isArray(v) &&
    v.length > 0 &&
    v.every((l) => typeof l === 'string' && /^[a-z]{2,3}(-[A-Za-z0-9]+)*$/.test(l))
      ? undefined
      : 'must be a non-empty array of language tags',
  'oidc.acrFactors': (v) =>
    Array.isArray(v) &&
    v.every(
      (e) =>
        isObject(e) &&
        typeof e.acr === 'string' &&
        e.acr !== '' &&
        Array.isArray(e.factors) &&
        e.factors.length > 0 &&
        e.factors.every((f) =>
          ['otp', 'pin', 'password', 'kbi', 'biometric', 'wallet', 'vp'].includes(f as string),
        ),
    )
      ? undefined
      : 'must be an array of {acr, factors}, factors from otp, pin, password, kbi, biometric, wallet',
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
  'vci.configurationReloadSeconds': intBetween(0, 86_400),
  // Without a client only the credential endpoint's leniency means anything (src/oidc/clients.ts).
  'vci.anonymousClientLeniencies': (v) =>
    Array.isArray(v) && v.every((name) => name === 'proof_kid_with_jwk')
      ? undefined
      : 'must be an array of credential-endpoint leniencies: proof_kid_with_jwk',
  'vci.ownAuthorizationServer': (v) =>
    ['listed', 'on', 'off'].includes(v as string) ? undefined : 'must be listed, on or off',
  'vci.externalAuthorizationServers': (v) => externalServerProblems(v).join('; ') || undefined,
  // OpenID4VCI 1.0 §12.2.4 key_attestations_required: null, or an object of two optional level lists.
  'vci.keyAttestationsRequired': (v) =>
    v === null ||
    (isObject(v) &&
      Object.entries(v).every(
        ([k, levels]) =>
          ['key_storage', 'user_authentication'].includes(k) &&
          Array.isArray(levels) &&
          levels.every((l) => typeof l === 'string' && l !== ''),
      ))
      ? undefined
      : 'must be null or an object {key_storage?: [...], user_authentication?: [...]} of non-empty strings',
  'rateLimits.rules': (v) => {
    for (const [name, rule] of Object.entries(v as Json)) {
      if (!isObject(rule)) return `${name}: must be an object`;
      if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(rule.method as string))
        return `${name}.method: must be one of GET, POST, PUT, PATCH, DELETE`;
      if (
        !Array.isArray(rule.paths) ||
        rule.paths.length === 0 ||
        !rule.paths.every((p) => typeof p === 'string' && /^(\/(:[A-Za-z]\w*|[A-Za-z0-9._~-]+))+$/.test(p))
      )
        return `${name}.paths: must be a non-empty array of paths like /token or /interaction/:uid/send-otp`;
      if (intBetween(0, 1_000_000_000)(rule.limit))
        return `${name}.limit: must be an integer from 0 to 1000000000`;
      if (intBetween(1, 86_400)(rule.windowSeconds))
        return `${name}.windowSeconds: must be an integer from 1 to 86400`;
    }
    return undefined;
  },
};

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Options whose value is a free-form object (keys chosen by the operator), taken whole and checked by RULES. */
const FREE_FORM = new Set(['kyc.systems', 'kyc.clientSystems']);

/** Converts an environment string to the type of the option's default. */
function fromEnv(raw: string, example: unknown): unknown {
  if (typeof example === 'number')
    return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  if (typeof example === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  // An option whose default is null takes JSON (vci.keyAttestationsRequired='{"key_storage":[...]}').
  if (example === null) {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
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
      else if (FREE_FORM.has(path)) base[key] = value;
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
  problems.push(
    ...authorizationServerCrossProblems(
      config.vci as Json,
      Object.keys((config.kyc as Json).systems as Json),
    ),
  );
  // HAIP 1.0 (src/oidc/haip.ts): PAR required and metadata signed, whatever else says otherwise.
  if (config.profile === 'haip') {
    (config.oidc as Json).requirePar = true;
    (config.vci as Json).signedMetadata = true;
  }
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
