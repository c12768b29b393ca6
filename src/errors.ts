/**
 * One error model for the whole service. Every error a client can see is an `AppError`: an HTTP
 * status, a wire code (the spec's own `error` value where one exists) and a public description that
 * never carries secrets or personal data. One middleware (src/http/error-handler.ts) renders them:
 * OAuth-style JSON for APIs, an HTML page for UI routes. Anything else becomes `server_error`.
 */
export class AppError extends Error {
  override name = 'AppError';
  readonly status: number;
  readonly code: string;
  /** Safe to show to the client. */
  readonly description: string;
  /** Extra response headers (e.g. `Retry-After`, `WWW-Authenticate`). */
  readonly headers: Record<string, string>;
  /** Extra members of the JSON error body (e.g. OpenID4VCI `c_nonce`). */
  readonly extra: Record<string, unknown>;

  constructor(
    status: number,
    code: string,
    description: string,
    options: { headers?: Record<string, string>; extra?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(description, { cause: options.cause });
    this.status = status;
    this.code = code;
    this.description = description;
    this.headers = options.headers ?? {};
    this.extra = options.extra ?? {};
  }
}

type ErrorOptions = ConstructorParameters<typeof AppError>[3];
const define = (status: number, code: string) =>
  class extends AppError {
    constructor(description: string, options?: ErrorOptions) {
      super(status, code, description, options);
      this.name = code;
    }
  };

// RFC 6749 §5.2 and generic HTTP errors.
export const InvalidRequest = define(400, 'invalid_request');
export const InvalidClient = define(401, 'invalid_client');
export const InvalidGrant = define(400, 'invalid_grant');
export const UnauthorizedClient = define(400, 'unauthorized_client');
export const UnsupportedGrantType = define(400, 'unsupported_grant_type');
export const InvalidScope = define(400, 'invalid_scope');
export const AccessDenied = define(403, 'access_denied');
export const Unauthorized = define(401, 'unauthorized');
export const Forbidden = define(403, 'forbidden');
export const NotFound = define(404, 'not_found');
export const MethodNotAllowed = define(405, 'method_not_allowed');
export const Conflict = define(409, 'conflict');
export const PayloadTooLarge = define(413, 'payload_too_large');
export const UnsupportedMediaType = define(415, 'unsupported_media_type');
export const TooManyRequests = define(429, 'too_many_requests');
export const TemporarilyUnavailable = define(503, 'temporarily_unavailable');
export const ServerError = define(500, 'server_error');
// RFC 6750 §3.1
export const InvalidToken = define(401, 'invalid_token');
export const InsufficientScope = define(403, 'insufficient_scope');
// OpenID4VCI 1.0 §8.3.1.2 and §7.2
export const InvalidCredentialRequest = define(400, 'invalid_credential_request');
export const UnknownCredentialConfiguration = define(400, 'unknown_credential_configuration');
export const UnknownCredentialIdentifier = define(400, 'unknown_credential_identifier');
export const InvalidProof = define(400, 'invalid_proof');
export const InvalidNonce = define(400, 'invalid_nonce');
export const InvalidEncryptionParameters = define(400, 'invalid_encryption_parameters');
export const CredentialRequestDenied = define(400, 'credential_request_denied');
export const IssuancePending = define(400, 'issuance_pending');
export const InvalidTransactionId = define(400, 'invalid_transaction_id');
export const InvalidNotificationId = define(400, 'invalid_notification_id');
export const InvalidNotificationRequest = define(400, 'invalid_notification_request');
// Interaction (login/consent) errors, eSignet-style names.
export const InvalidTransaction = define(401, 'invalid_transaction');
export const NoAttemptsLeft = define(429, 'no_attempts_left');
export const AuthFailed = define(401, 'auth_failed');
