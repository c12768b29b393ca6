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

  /** OpenID4VCI credential issuance (src/vci, src/credentials/configurations). */
  vci: {
    /** Folder of credential configuration files (one JSON file per configuration), relative to the working directory. */
    configurationsDir: 'credential-configurations',
    /** Folder of JSON Schemas for credential subjects, named by the configurations' `schema`. */
    schemasDir: 'schemas',
    /** Lifetime of a c_nonce from the nonce endpoint, in seconds (single use). */
    cNonceTtlSeconds: 300,
    /** Lifetime of a pre-authorized code in an offer, in seconds (single use). */
    preAuthorizedCodeTtlSeconds: 600,
    /** Wrong tx_code entries allowed per pre-authorized code; the last one invalidates the code. */
    txCodeMaxAttempts: 3,
    /** Digits in a generated tx_code (numeric input mode). */
    txCodeLength: 6,
    /** Lifetime of a credential_offer_uri, in seconds (served once). */
    offerUriTtlSeconds: 600,
    /** Most credentials one credential request may ask for (one per proof); 1 disables batch issuance. */
    batchSize: 10,
    /** How far in the past a proof's `iat` may lie, in seconds. */
    proofMaxAgeSeconds: 300,
    /** How far in the future a proof's `iat` may lie (clock skew), in seconds. */
    proofClockSkewSeconds: 60,
    /** Refuse credential requests without `credential_response_encryption`. */
    requireEncryption: false,
    /** Time claims in credentials (validFrom, iat, nbf, exp) are rounded down to a multiple of this, in seconds. */
    timeRoundingSeconds: 3600,
    /** How long a deferred issuance transaction may be polled, in seconds. */
    deferredTtlSeconds: 86_400,
    /** Polling interval suggested to wallets for deferred issuance, in seconds. */
    deferredIntervalSeconds: 5,
    /** How long a notification_id is accepted after issuance, in seconds. */
    notificationTtlSeconds: 86_400,
    /** Serve `signed_metadata` (a JWT over the metadata signed with the credential key) in the issuer metadata. */
    signedMetadata: true,
  },
};

export type Config = typeof defaults & {
  /** Resolved at load: publicUrl without a trailing slash, demo as a boolean. */
  readonly resolved: { publicUrl: string; demo: boolean; dataDir: string };
};
