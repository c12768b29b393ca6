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
  /**
   * Interoperability profile. `haip`: OpenID4VC High Assurance Interoperability Profile 1.0 for the
   * issuer: PAR and DPoP required, wallet (client) attestation required (`attest_jwt_client_auth` at
   * PAR and token, the pre-authorized grant included), ES256 only (proofs, DPoP, attestations),
   * SD-JWT VC and mdoc configurations only, signed metadata on. `default`: none of these forced.
   */
  profile: 'default' as 'default' | 'haip',

  http: {
    /** Largest accepted request body, in bytes. */
    bodyLimitBytes: 1024 * 1024,
    /**
     * How long a request body may take to arrive, in milliseconds; slower ones get 408 and the
     * connection is closed. A request counts against maxInFlight only once its body is in.
     */
    bodyTimeoutMs: 5000,
    /** On SIGTERM/SIGINT, how long in-flight requests may take before the process exits anyway. */
    shutdownGraceSeconds: 10,
    /** Trust X-Forwarded-For / X-Forwarded-Proto from a reverse proxy. Off: forged headers are ignored. */
    trustProxy: false,
    /**
     * Requests handled at once; more get 503 with Retry-After at once instead of queueing
     * (/health/* and /metrics are exempt). 0: no limit. ~1,000 credential requests per second
     * per core here, so 256 in flight is about a quarter of a second of work.
     */
    maxInFlight: 256,
  },

  store: {
    /** Embedded database file (node:sqlite). Relative paths are under dataDir; `:memory:` for tests. */
    embeddedFile: 'issuer.db',
    /**
     * Embedded store durability (SQLite `synchronous` in WAL mode): `normal` survives a crash of the
     * service (kill -9) but may lose the last commits on power loss; `full` fsyncs every commit.
     */
    embeddedSynchronous: 'normal' as 'normal' | 'full',
    /**
     * Embedded store: a worker thread checkpoints the WAL into the database file this often, so
     * the page copies and fsyncs stay off the event loop. 0: SQLite checkpoints automatically
     * inside a commit (a stall of several milliseconds every few hundred requests).
     */
    embeddedCheckpointIntervalMs: 200,
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

  /** Identity systems, login factors and notifiers (src/kyc). */
  kyc: {
    /**
     * Identity systems by name (free-form: this object replaces the default as a whole). Each value
     * is `{ type, ...options }`; `type` defaults to the name. Types: `mock` (identities in our store,
     * options: none) and `http` (an external registry, docs/identity-registry-api.md; options:
     * `baseUrl`, `apiKey`, `timeoutMs`).
     */
    systems: { mock: {} } as Record<string, Record<string, string | number | boolean>>,
    /** The system that serves relying parties not listed in clientSystems. */
    defaultSystem: 'mock',
    /** client_id → system name, for relying parties served by another system (free-form object). */
    clientSystems: {} as Record<string, string>,
    /** Lifetime of a KYC token (authentication → claims exchange), in seconds. */
    kycTokenTtlSeconds: 300,
    /**
     * Salt for pairwise subjects (at least 32 characters). Empty: derived from keys.encryptionSecret.
     * Changing it changes every `sub` relying parties know.
     */
    subjectSalt: '',
    /** Language of claims without a language tag (`name`); other languages are `name#<tag>`. */
    defaultClaimsLocale: 'en',
    /** Claims a knowledge-based (KBI) login asks for; compared after normalization. */
    kbiFields: ['name', 'birthdate'] as string[],
    /**
     * OpenID Connect for Identity Assurance 1.0 discovery (`verified_claims`). What is released is
     * decided per person by the identity systems' verification records; these lists say what they
     * can hold. Defaults: what the demo identities carry (src/kyc/demo-identities.json).
     */
    identityAssurance: {
      /** `trust_frameworks_supported`. */
      trustFrameworks: ['idissuer_demo', 'XYZ TF'] as string[],
      /** `evidence_supported`: document, electronic_record, vouch, electronic_signature. */
      evidence: ['document', 'electronic_record'] as string[],
      /** `documents_supported` (when evidence includes `document`). */
      documents: ['idcard'] as string[],
      /** `claims_in_verified_claims_supported`. */
      claims: [
        'name',
        'given_name',
        'family_name',
        'birthdate',
        'gender',
        'address',
        'picture',
        'email',
        'phone_number',
      ] as string[],
    },
    /** scrypt cost parameter N (a power of two) for stored PINs and passwords. */
    scryptCost: 16_384,
    otp: {
      /** Digits in a one-time code. */
      length: 6,
      /** Lifetime of a one-time code, in seconds (single use). */
      ttlSeconds: 180,
      /** Codes that may be sent per login transaction. */
      maxSendsPerTransaction: 3,
      /** Codes that may be sent to one individual within sendWindowSeconds. */
      maxSendsPerIndividual: 10,
      /** Window for maxSendsPerIndividual, in seconds. */
      sendWindowSeconds: 3600,
      /** Wait between two sends in one transaction (the resend countdown), in seconds. */
      resendCooldownSeconds: 30,
    },
    /** Wrong-answer limits for every factor (OTP, PIN, password, KBI, biometric). */
    lockout: {
      /** Authentication attempts allowed per login transaction. */
      maxAttemptsPerTransaction: 3,
      /** Failures per individual within failureWindowSeconds before the individual is blocked. */
      maxFailuresPerIndividual: 5,
      /** Window for maxFailuresPerIndividual, in seconds. */
      failureWindowSeconds: 600,
      /** How long a blocked individual is refused (even with correct answers), in seconds. */
      blockSeconds: 600,
    },
    biometric: {
      /** Registered capture devices: `[{ "kid": "...", "jwk": { public JWK } }]`. */
      devices: [] as { kid: string; jwk: Record<string, unknown> }[],
      /** How old a capture's timestamp may be, in seconds. */
      maxCaptureAgeSeconds: 120,
      /** Smallest and largest accepted capture (compact JWS), in characters. */
      minCaptureChars: 500,
      maxCaptureChars: 500_000,
      /**
       * The login page's biometric step (MOSIP Secure Biometric Interface): its script looks for a
       * capture service on 127.0.0.1 from firstPort to lastPort (SBI: 4501–4600; the page's CSP allows
       * exactly these origins in connect-src), waits discoveryTimeoutMs per port and
       * captureTimeoutSeconds for a capture, then shows "timed out".
       */
      sbi: { firstPort: 4501, lastPort: 4600, discoveryTimeoutMs: 2000, captureTimeoutSeconds: 30 },
    },
    /**
     * How long a wallet key binding lasts, in seconds (`wallet` factor; eSignet's default: 10 days).
     * Binding again with the same key renews it.
     */
    walletBindingTtlSeconds: 10 * 86_400,
    /**
     * Captcha in front of OTP sending (interaction send-otp, also for wallet binding). `none`: off;
     * `http`: the token is POSTed (`secret`, `response`) to a siteverify-style endpoint (reCAPTCHA,
     * hCaptcha, Turnstile) and only `{"success": true}` passes. Fails closed: an unreachable, slow or
     * garbled verifier refuses the send. A token is accepted once.
     */
    captcha: {
      provider: 'none' as 'none' | 'http',
      /**
       * Actions that need a solved captcha (with `http`): `send-otp` (login codes), `binding-otp`
       * (wallet-binding codes), `authenticate` (every login attempt: interaction login and
       * api/authenticate, with the token in `captcha_token`).
       */
      requiredFor: ['send-otp', 'binding-otp'] as string[],
      /** The verifier's siteverify URL (required with `http`). */
      verifyUrl: '',
      /** The verifier's secret (required with `http`). */
      secret: '',
      /** How long the verifier may take before the send is refused, in milliseconds. */
      timeoutMs: 3000,
    },
    notify: {
      /** Notifier for e-mail: outbox, console, smtp or webhook. */
      email: 'outbox',
      /** Notifier for SMS: outbox, console or webhook. */
      sms: 'outbox',
      /** Allow the outbox (and GET /admin/outbox) outside demo mode, e.g. in tests. Never in production. */
      outboxEnabled: false,
      /** How long outbox messages are kept, in seconds. */
      outboxTtlSeconds: 3600,
      smtp: {
        /** SMTP server host name. */
        host: '',
        /** SMTP server port. */
        port: 587,
        /** Transport security: starttls, implicit (SMTPS) or none (loopback only). */
        tls: 'starttls',
        /** AUTH PLAIN user name; empty: no authentication. */
        username: '',
        /** AUTH PLAIN password. */
        password: '',
        /** Envelope and header sender address. */
        from: '',
        /** Whole-conversation timeout, in milliseconds. */
        timeoutMs: 10_000,
      },
      webhook: {
        /** URL that receives `POST` JSON messages. */
        url: '',
        /** HMAC-SHA256 key for the `X-Signature` header (at least 32 characters). */
        secret: '',
        /** Request timeout, in milliseconds. */
        timeoutMs: 5000,
      },
    },
  },

  keys: {
    /**
     * Secret from which the key-encryption key (AES-256-GCM) is derived; protects private keys at
     * rest. At least 32 characters. Required outside demo mode; demo mode generates one.
     */
    encryptionSecret: '',
    /** How long a rotated-out key stays published for verification before it is removed. */
    retiredKeyPublishSeconds: 90 * 24 * 3600,
    /** How often a running instance re-reads keys from the store (picks up rotation by the CLI or another instance). */
    reloadIntervalSeconds: 60,
    /**
     * Generate signing keys at start when the store holds none (env KEYS_INIT=true), for a first
     * start. Off (the default outside demo mode): a store without keys stops the start, because new
     * keys for a deleted or replaced database would silently invalidate every credential and token
     * issued before; `npm run cli -- keys init` makes them explicitly. Demo mode always generates.
     */
    initOnStart: false,
    /**
     * Keys in a hardware security module (src/keys/pkcs11.ts). `module` empty: off, every key is in
     * the store, encrypted by encryptionSecret. Set: keys of `purposes` are generated inside the
     * token and never leave it; ECDH-ES (encryption) keys stay in the store.
     */
    pkcs11: {
      /** Path of the PKCS#11 library (env PKCS11_MODULE), e.g. /usr/lib/softhsm/libsofthsm2.so. */
      module: '',
      /** The token's label (env PKCS11_TOKEN_LABEL); takes precedence over `slot`. */
      tokenLabel: '',
      /** The slot id (env PKCS11_SLOT) when no token label is given; -1: unset. */
      slot: -1,
      /** The user PIN (env PKCS11_PIN). Never logged. */
      pin: '',
      /** Purposes whose keys live in the token: credential (all formats), oidc (ID tokens etc.). */
      purposes: ['credential', 'oidc'] as string[],
    },
  },

  admin: {
    /** Bearer token for /admin. Empty: the admin API is disabled (demo mode generates one). */
    token: '',
  },

  /** The issuer console (`/console`): web pages for operators (src/console/, src/http/console/). */
  console: {
    /** Serve the console. Operators are created with `npm run cli -- operators add`; none exist at first. */
    enabled: true,
    /** A console session ends after this long without a request, in seconds. */
    sessionIdleSeconds: 900,
    /** A console session ends this long after sign-in whatever the activity, in seconds. */
    sessionAbsoluteSeconds: 28_800,
    /** Failed sign-ins for one user name within `lockoutSeconds` before it is locked for `lockoutSeconds`. */
    maxFailedSignIns: 5,
    /** How long failures are counted and how long a locked user name stays locked, in seconds. */
    lockoutSeconds: 900,
    /** Shortest operator password accepted by `operators add`, in characters. */
    passwordMinLength: 12,
  },

  metrics: {
    /**
     * Bearer token the Prometheus scraper sends to /metrics (`Authorization: Bearer <token>`; env
     * METRICS_TOKEN), at least 24 characters; without it, 401. Empty: /metrics is open to whoever
     * reaches the port (restrict it at the proxy). /health/* stays open either way.
     */
    bearerToken: '',
  },

  /** OpenID Provider (src/oidc). Lifetimes follow the policies in SECURITY.md. */
  oidc: {
    /** Authorization code lifetime, in seconds (single use). */
    codeTtlSeconds: 60,
    /** Access token lifetime, in seconds, for bearer tokens. */
    accessTokenTtlSeconds: 300,
    /** Access token lifetime, in seconds, for DPoP-bound tokens (longer only when sender-constrained). */
    dpopAccessTokenTtlSeconds: 900,
    /** ID token lifetime, in seconds. */
    idTokenTtlSeconds: 600,
    /** Refresh token lifetime, in seconds, for clients that opted in; rotated on every use. */
    refreshTokenTtlSeconds: 86_400,
    /** Absolute lifetime of a chain of rotated refresh tokens, in seconds (ASVS 10.4.8). */
    refreshTokenAbsoluteSeconds: 30 * 86_400,
    /** Login session lifetime at the provider (prompt=none, max_age), in seconds. */
    sessionTtlSeconds: 8 * 3600,
    /** Time a person has to authenticate in a login transaction, in seconds. */
    loginTransactionSeconds: 300,
    /** Time between authentication and consent, in seconds. */
    consentTransactionSeconds: 120,
    /** How long a remembered consent (per client, person and claim set) lasts, in seconds. */
    consentTtlSeconds: 30 * 86_400,
    /** Require PAR (RFC 9126) for every client; otherwise per client (`require_pushed_authorization_requests`). */
    requirePar: false,
    /**
     * Longest accepted client-assertion lifetime (`exp` - `iat`), in seconds, for clients that do not
     * register their own (`client_assertion_max_lifetime`, 1..3600).
     */
    clientAssertionMaxLifetimeSeconds: 300,
    /**
     * Attestation-based client authentication (draft-ietf-oauth-attestation-based-client-auth,
     * `attest_jwt_client_auth`) at PAR and the token endpoint, for clients registered with that method
     * (wallets: the attestation's `sub` is the client_id). Wallet providers trusted to sign Client
     * Attestations: public JWKs with `kid` (ES256), and/or PEM CA certificates anchoring an `x5c`
     * chain. With neither, every attestation is refused.
     */
    clientAttestation: {
      trustedJwks: [] as Record<string, unknown>[],
      trustedCaPems: [] as string[],
    },
    /**
     * eSignet's protocol paths (token `/oauth/v2/token` and `/oauth/token`, PAR `/oauth/par`, userinfo
     * `/oidc/userinfo`, JWKS `/oauth/.well-known/jwks.json`, discovery `/oidc/.well-known/openid-configuration`
     * and `/oauth/.well-known/oauth-authorization-server`) served by the same provider under `prefix`
     * (relative to the issuer's path), so a relying party or mimoto configured for eSignet changes only
     * its base URL. The issuer identifier does not change. Env: `ISSUER__oidc__esignetCompat__enabled`.
     */
    esignetCompat: {
      enabled: false,
      /** eSignet's own servlet path (esignet-service bootstrap.properties `server.servlet.path`). */
      prefix: '/v1/esignet',
    },
    /**
     * Clock skew allowed in the time claims of client assertions and request objects (oidc-provider's
     * `clockTolerance`), in seconds: an `exp` this far past, or an `nbf` (and, for client assertions,
     * an `iat`) this far in the future is still accepted; beyond it, a client assertion is
     * `invalid_client`. DPoP proofs have their own window.
     */
    clockToleranceSeconds: 5,
    /**
     * How the provider fetches a client's `jwks_uri` (private_key_jwt clients; SECURITY row 44).
     * oidc-provider caches a fetched set per client, fetches once for concurrent requests and refetches
     * for an unknown `kid` only once the cached set is stale.
     */
    jwksUriPolicy: {
      /**
       * SSRF guard: refuse hosts that are, or resolve to, loopback, private (10/8, 172.16/12,
       * 192.168/16), carrier-grade NAT, link-local (169.254/16, cloud metadata), unique-local or other
       * special-use addresses; checked at registration and again on every connection (no redirects).
       */
      blockPrivateAddresses: true,
      /** Host names or IP literals (as written in the URL) exempt from the guard, e.g. an internal JWKS service. */
      allowedHosts: [] as string[],
      /** Whole-fetch timeout, in milliseconds. */
      timeoutMs: 2500,
      /** Largest accepted JWKS response, in bytes. */
      maxResponseBytes: 64 * 1024,
      /**
       * Bounds for the response's `Cache-Control: max-age` (or `Expires`), in seconds. The lower bound is
       * also the cooldown before an unknown `kid` can trigger a refetch (oidc-provider: 60 s at least);
       * the upper bound keeps a rotated key from being ignored for long, and failed fetches are retried
       * after the lower bound.
       */
      minCacheSeconds: 60,
      maxCacheSeconds: 3600,
    },
    /**
     * Web origins (`https://app.example.org`, no path) from which browser-based clients may call the
     * token, userinfo, PAR, introspection and revocation endpoints (CORS). A request or preflight
     * from any other origin is 400 `invalid_request` without CORS headers. Even from a listed origin,
     * the answer is readable only by a client with a redirect URI on that origin, and at the token,
     * PAR, introspection and revocation endpoints only by public clients (confidential clients call
     * from servers and get no CORS). Requests without an Origin header are not affected; discovery
     * and JWKS are open to every origin. Empty: no CORS on those endpoints (src/oidc/cors.ts).
     */
    corsOrigins: [] as string[],
    /** Languages of the login and consent pages; the first is the default. `ar` is right-to-left. */
    uiLocales: ['en', 'ar'],
    /**
     * ACR values and the factors each one needs (eSignet's amr_acr_mapping.json). A login satisfies
     * an ACR when every listed factor was verified.
     */
    acrFactors: [
      { acr: 'mosip:idp:acr:generated-code', factors: ['otp'] },
      { acr: 'mosip:idp:acr:static-code', factors: ['pin'] },
      { acr: 'mosip:idp:acr:password', factors: ['password'] },
      { acr: 'mosip:idp:acr:knowledge', factors: ['kbi'] },
      { acr: 'mosip:idp:acr:biometrics', factors: ['biometric'] },
      { acr: 'mosip:idp:acr:linked-wallet', factors: ['wallet'] },
      // OpenID4VP wallet login (src/oidc/wallet-login): a presentation of our identity credential.
      { acr: 'urn:idissuer:acr:wallet-presentation', factors: ['vp'] },
    ] as { acr: string; factors: string[] }[],
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
    /**
     * Refuse credential and deferred credential requests that are not encrypted to the issuer
     * (a compact JWE, `application/jwt`; OpenID4VCI 1.0 §10). Encrypted requests are always
     * accepted; the keys are published in the metadata's `credential_request_encryption`.
     */
    requireRequestEncryption: false,
    /**
     * Leniencies (src/oidc/clients.ts CLIENT_LENIENCIES) for access tokens issued to no client: an
     * anonymous pre-authorized code redemption names no client whose registration could list them.
     * Only credential-endpoint leniencies apply: `proof_kid_with_jwk` (walt.id's wallet redeems
     * offers anonymously and signs key proofs with both kid and jwk). Empty: none (the spec's rules).
     */
    anonymousClientLeniencies: [] as string[],
    /**
     * Our own provider as the authorization server for credentials: `listed` (its tokens are
     * accepted and it is in the metadata's `authorization_servers`), `on` (accepted, not listed:
     * wallets are sent to the external servers) or `off` (only external servers' tokens).
     */
    ownAuthorizationServer: 'listed' as 'listed' | 'on' | 'off',
    /**
     * Trusted external authorization servers (an existing eSignet, or any OAuth server that
     * publishes its keys) whose access tokens the credential endpoint accepts: see
     * src/vci/external-as/config.ts for the members (issuer, jwksUri | jwks, audiences, profile
     * esignet | rfc9068, introspection, subject {mode: userinfo | claim | spi}). Listed in
     * `authorization_servers`.
     */
    externalAuthorizationServers: [] as Record<string, unknown>[],
    /** Time claims in credentials (validFrom, iat, nbf, exp) are rounded down to a multiple of this, in seconds. */
    timeRoundingSeconds: 3600,
    /** How long a deferred issuance transaction may be polled, in seconds. */
    deferredTtlSeconds: 86_400,
    /** Polling interval suggested to wallets for deferred issuance, in seconds. */
    deferredIntervalSeconds: 5,
    /** How long a notification_id is accepted after issuance, in seconds. */
    notificationTtlSeconds: 86_400,
    /**
     * Key attestation issuers (wallet providers, key storage vendors) trusted by `kid`: public JWKs
     * with `kid` (OpenID4VCI 1.0 Appendix D). With none and no CA below, key attestations are refused.
     */
    keyAttestationTrustedJwks: [] as Record<string, unknown>[],
    /** PEM certificates anchoring key attestations signed with an `x5c` chain. */
    keyAttestationTrustedCaPems: [] as string[],
    /**
     * Issuer-wide `key_attestations_required` (OpenID4VCI 1.0 §12.2.4): null (default) requires none;
     * an object `{key_storage?: [...], user_authentication?: [...]}` (`{}`: any attested level)
     * applies to every configuration without its own requirement, in the metadata's jwt (and
     * attestation) proof types and at the credential endpoint (a proof without a key attestation is
     * invalid_proof). EUDI's wallet library from 0.12 on refuses metadata whose jwt proof types lack
     * it; walt.id's parser refuses metadata that has it, so this is the deployment's choice.
     */
    keyAttestationsRequired: null as { key_storage?: string[]; user_authentication?: string[] } | null,
    /** How often each instance re-reads credential configurations changed through the admin API (by any instance), in seconds; 0: never. */
    configurationReloadSeconds: 60,
    /** Serve `signed_metadata` (a JWT over the metadata signed with the credential key) in the issuer metadata. */
    signedMetadata: true,
    /** Issuer display in the metadata (OpenID4VCI 1.0 §12.2.4 `display`): a name (and optional logo) per language. */
    issuerDisplay: [
      { name: 'National Identity Issuer', locale: 'en' },
      { name: 'جهة إصدار الهوية الوطنية', locale: 'ar' },
      { name: "Émetteur de l'identité nationale", locale: 'fr' },
    ] as { name: string; locale?: string; logo?: { uri: string; alt_text?: string } }[],
  },

  /**
   * Request rate limits (SECURITY row 54), counted per client IP in the store over fixed windows, so
   * every instance on the same database shares the counters. Over a limit: 429 `too_many_requests`
   * with `Retry-After` (the seconds left in the window). The client IP is the socket's address, or,
   * with `http.trustProxy`, the address the nearest proxy appended to X-Forwarded-For; IPv6
   * clients are counted per /64.
   */
  rateLimits: {
    /** Off: nothing is counted (load benchmarks: ISSUER__rateLimits__enabled=false). */
    enabled: true,
    /**
     * Limits by name. `method`; `paths` relative to the public URL's path, where `:name` matches one
     * segment (the paths of one rule share its counter); at most `limit` requests per client IP per
     * `windowSeconds`; `limit` 0 turns the rule off. Env: `ISSUER__rateLimits__rules__token__limit=600`.
     */
    rules: {
      token: { method: 'POST', paths: ['/token'], limit: 300, windowSeconds: 60 },
      par: { method: 'POST', paths: ['/par'], limit: 300, windowSeconds: 60 },
      nonce: { method: 'POST', paths: ['/nonce'], limit: 1200, windowSeconds: 60 },
      credential: { method: 'POST', paths: ['/credential'], limit: 1200, windowSeconds: 60 },
      sendOtp: {
        method: 'POST',
        paths: ['/interaction/:uid/send-otp', '/interaction/:uid/api/send-otp'],
        limit: 30,
        windowSeconds: 60,
      },
      // Opening a login transaction (the login page or the interaction API): each one creates a record.
      interaction: {
        method: 'GET',
        paths: ['/interaction/:uid', '/interaction/:uid/api'],
        limit: 300,
        windowSeconds: 60,
      },
      // Authentication attempts from one address, whichever Individual IDs they name (guessing spread
      // over many IDs stays under each one's lockout, kyc.lockout); wallet binding checks a code too.
      authenticate: {
        method: 'POST',
        paths: [
          '/interaction/:uid/login',
          '/interaction/:uid/api/authenticate',
          '/interaction/:uid/api/bind-wallet',
        ],
        limit: 60,
        windowSeconds: 60,
      },
    } as Record<string, RateLimitRule>,
  },
};

/** One rate limit (see `rateLimits.rules`). */
export interface RateLimitRule {
  method: string;
  paths: string[];
  limit: number;
  windowSeconds: number;
}

export type Config = typeof defaults & {
  /** Resolved at load: publicUrl without a trailing slash, demo as a boolean. */
  readonly resolved: { publicUrl: string; demo: boolean; dataDir: string };
};
