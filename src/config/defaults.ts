/**
 * Every configuration option, its default and what it means. Units are part of the names.
 * Sources, later ones winning: these defaults, the JSON file named by CONFIG_FILE, environment
 * variables (see ENVIRONMENT in ./load.ts). Everything is validated once at start
 * (./load.ts); a bad value stops the process with the option's full path and the reason.
 */
export const defaults = {
  /**
   * The service's public base URL and issuer identifier (OIDC `iss`, OpenID4VCI `credential_issuer`,
   * did:web). URLs are always built from it, never from the Host header. Empty: http://127.0.0.1:<port>.
   */
  publicUrl: '',
  /** TCP port to listen on. */
  port: 3000,
  /** Address to bind. */
  host: '127.0.0.1',
  /** Folder for the embedded database, demo material and (demo only) generated secrets. */
  dataDir: './data',
  /**
   * Demo mode: seeds demo identities, relying party and credential offers, generates the admin token
   * and key-encryption secret under dataDir. auto: on when neither CONFIG_FILE nor
   * KEY_ENCRYPTION_SECRET is set. Never use demo mode in production.
   */
  demo: 'auto' as 'auto' | 'on' | 'off',
  /** pino log level: fatal, error, warn, info, debug, trace or silent. */
  logLevel: 'info',

  http: {
    /** Largest accepted request body, in bytes. */
    bodyLimitBytes: 1024 * 1024,
    /** On SIGTERM/SIGINT, how long in-flight requests may take before the process exits anyway. */
    shutdownGraceSeconds: 10,
    /** Trust X-Forwarded-For / X-Forwarded-Proto from a reverse proxy. Off: forged headers are ignored. */
    trustProxy: false,
  },

  store: {
    /** Embedded database file (node:sqlite). Relative paths are under dataDir; `:memory:` for tests. */
    embeddedFile: 'issuer.db',
    /** MongoDB connection string. Empty: use the embedded store. */
    mongodbUrl: '',
    /** MongoDB database name. */
    mongodbDatabase: 'issuer',
    /** How long the driver looks for a reachable server before failing a request with 503. */
    mongodbServerSelectionTimeoutMs: 3000,
    /** How long a socket may stay silent before the operation fails. */
    mongodbSocketTimeoutMs: 5000,
    /** How long opening a connection may take. */
    mongodbConnectTimeoutMs: 3000,
    /** How often expired records are deleted (reads ignore them anyway). */
    sweepIntervalSeconds: 60,
  },

  keys: {
    /**
     * Secret from which the key-encryption key (AES-256-GCM) is derived; protects private keys at
     * rest. At least 32 characters. Required outside demo mode; demo mode generates one.
     */
    encryptionSecret: '',
    /** How long a rotated-out key stays published for verification before it is removed. */
    retiredKeyPublishSeconds: 90 * 24 * 3600,
  },

  admin: {
    /** Bearer token for /admin. Empty: the admin API is disabled (demo mode generates one). */
    token: '',
  },
};

export type Config = typeof defaults & {
  /** Resolved at load: publicUrl without a trailing slash, demo as a boolean. */
  readonly resolved: { publicUrl: string; demo: boolean; dataDir: string };
};
