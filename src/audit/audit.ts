import { AsyncLocalStorage } from 'node:async_hooks';
import { createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { sha256Base64url } from '../crypto/hash.ts';
import { timeOrderedId } from '../random.ts';
import type { Collection, Store, StoredDoc } from '../store/spi.ts';

/**
 * The audit trail (SECURITY.md row 50): one record per security event, written once and never
 * changed. Records carry identifiers and hashes only (row 26, ARCHITECTURE.md "Data that must never
 * leak"): keyed hashes of people, SHA-256 of codes and tokens, claim *names*, configuration ids,
 * ledger ids and kids. The event shape below has no free-form field, so a value cannot slip in.
 *
 * Like eSignet's AuditPlugin (reference/esignet.md §3.18), auditing never breaks the audited action:
 * a record that cannot be stored is logged as an error and the request goes on. Callers `await`
 * `record` where the record must exist before the response (login, consent).
 */

export type AuditEventType =
  | 'login_succeeded'
  | 'login_failed'
  | 'otp_sent'
  | 'otp_failed'
  | 'individual_blocked'
  | 'consent_given'
  | 'consent_revoked'
  | 'token_issued'
  | 'code_reuse_detected'
  | 'credential_issued'
  | 'credential_revoked'
  | 'credential_suspended'
  | 'credential_reinstated'
  | 'key_rotated'
  | 'signer_certificates_revoked'
  | 'client_created'
  | 'client_updated'
  | 'client_deleted'
  | 'identity_created'
  | 'identity_updated'
  | 'identity_deleted'
  | 'offer_created'
  | 'operator_created'
  | 'operator_removed'
  | 'operator_signed_in'
  | 'operator_sign_in_failed'
  | 'operator_locked'
  | 'operator_signed_out'
  | 'configuration_created'
  | 'configuration_updated'
  | 'configuration_retired';

export const AUDIT_EVENT_TYPES: readonly AuditEventType[] = [
  'login_succeeded',
  'login_failed',
  'otp_sent',
  'otp_failed',
  'individual_blocked',
  'consent_given',
  'consent_revoked',
  'token_issued',
  'code_reuse_detected',
  'credential_issued',
  'credential_revoked',
  'credential_suspended',
  'credential_reinstated',
  'key_rotated',
  'signer_certificates_revoked',
  'client_created',
  'client_updated',
  'client_deleted',
  'identity_created',
  'identity_updated',
  'identity_deleted',
  'offer_created',
  'operator_created',
  'operator_removed',
  'operator_signed_in',
  'operator_sign_in_failed',
  'operator_locked',
  'operator_signed_out',
  'configuration_created',
  'configuration_updated',
  'configuration_retired',
];

/** What an event may say. Names and hashes only: never a claim value, code, token or raw ID. */
export interface AuditEvent {
  readonly type: AuditEventType;
  /** Login transaction (the oidc-provider interaction uid). */
  readonly transactionId?: string;
  readonly clientId?: string;
  /** Taken from the current request when not given. */
  readonly requestId?: string;
  /** Keyed hash of the account id (`AuditLog.subjectHash`). */
  readonly subjectHash?: string;
  /** Keyed hash of the individual ID, as the KYC lockout keys it (correlates failures and blocks). */
  readonly individualHash?: string;
  /** SHA-256 (base64url) of the grant id, as the issuance ledger keeps it. */
  readonly grantHash?: string;
  /** SHA-256 (base64url) of an authorization or pre-authorized code. */
  readonly codeHash?: string;
  /** SHA-256 (base64url) of an access token (the key the token store files it under). */
  readonly tokenHash?: string;
  /** Claim names (never values). */
  readonly claims?: readonly string[];
  /** Authentication factors (`otp`, `pin`...). */
  readonly factors?: readonly string[];
  /** OTP channel (`sms`, `email`). */
  readonly channel?: string;
  readonly grantType?: string;
  /** Wire error code of a refusal (`auth_failed`, `no_attempts_left`, `invalid_grant`...), or a revocation reason. */
  readonly reason?: string;
  readonly configurationIds?: readonly string[];
  readonly ledgerIds?: readonly string[];
  readonly format?: string;
  /** Key rotation: the purpose, algorithm, new kid and the kid it retired. */
  readonly purpose?: string;
  readonly alg?: string;
  readonly kid?: string;
  readonly retiredKid?: string;
  /** Identifier of an admin-managed record (consent id). */
  readonly recordId?: string;
  /** A count: grants revoked with a consent, status entries a revocation changed (0: already so). */
  readonly count?: number;
  /** The consent was remembered from an earlier login rather than given now. */
  readonly remembered?: boolean;
  /** The console operator who acted (src/console/operators.ts id); taken from `actingAs` when not given. */
  readonly operatorId?: string;
}

export interface AuditRecord extends StoredDoc, Omit<AuditEvent, 'type'> {
  type: AuditEventType;
  /** Epoch ms, from the injected clock. */
  at: number;
  /** UTC day of `at` (YYYY-MM-DD): lets the newest records be read without scanning everything. */
  day: string;
}

/** Collection `audit`: insert only. Nothing in src/ updates or deletes these documents. */
export const AUDIT_COLLECTION = { name: 'audit', indexes: ['type', 'day'] };

/** SHA-256 (base64url) of a high-entropy value (code, token, grant id): what the stores key it by. */
export { sha256Base64url as sha256 };

const DAY_MS = 86_400_000;
const dayOf = (epochMs: number) => new Date(epochMs).toISOString().slice(0, 10);

export interface AuditLogDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** `keys.encryptionSecret`: the subject-hash key is derived from it. */
  encryptionSecret: string;
}

export interface AuditQuery {
  type?: AuditEventType;
  limit: number;
  /** How many days back to look (newest first). */
  days: number;
}

/** The request an event belongs to, bound by `scope` for everything the request runs. */
interface RequestScope {
  requestId?: string;
  operatorId?: string;
}

export class AuditLog {
  readonly #records: Collection<AuditRecord>;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #subjectKey: KeyObject;
  readonly #pending = new Set<Promise<void>>();
  readonly #request = new AsyncLocalStorage<RequestScope>();

  constructor(deps: AuditLogDeps) {
    this.#records = deps.store.collection<AuditRecord>(AUDIT_COLLECTION);
    this.#clock = deps.clock;
    this.#logger = deps.logger.child({ module: 'audit' });
    this.#subjectKey = createSecretKey(
      Buffer.from(hkdfSync('sha256', deps.encryptionSecret, 'idissuer-audit-v1', 'subject', 32)),
    );
  }

  /**
   * Koa middleware (mounted after the request id is set): binds the request id to every event the
   * request records, including those raised by oidc-provider's event emitter.
   */
  readonly scope = async (ctx: { state: Record<string, unknown> }, next: () => Promise<unknown>) => {
    const requestId = typeof ctx.state.requestId === 'string' ? ctx.state.requestId : undefined;
    await this.#request.run({ requestId }, next);
  };

  /**
   * Runs `work` on behalf of a console operator: every event it records (through any service)
   * carries the operator's id.
   */
  actingAs<T>(operatorId: string, work: () => Promise<T>): Promise<T> {
    const requestId = this.#request.getStore()?.requestId;
    return this.#request.run({ ...(requestId ? { requestId } : {}), operatorId }, work);
  }

  /** Keyed hash (HMAC-SHA256) of an account id or subject: stable, but not reversible by guessing. */
  subjectHash(accountId: string): string {
    return createHmac('sha256', this.#subjectKey).update(accountId).digest('base64url');
  }

  /**
   * Stores one event and writes it as a log line (`audit: <type>`). Never throws: a failed write is
   * logged as an error, because the audited action has already happened.
   */
  record(event: AuditEvent): Promise<void> {
    const write = this.#write(event);
    this.#pending.add(write);
    return write.finally(() => this.#pending.delete(write));
  }

  /** Resolves when every record started so far is written (or has failed and been logged). */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /** Newest first; at most `limit`, looking back `days` UTC days from now. */
  async list(query: AuditQuery): Promise<AuditRecord[]> {
    await this.settled();
    const out: AuditRecord[] = [];
    const today = Math.floor(this.#clock.now() / DAY_MS) * DAY_MS;
    for (let d = 0; d < query.days && out.length < query.limit; d++) {
      const day = dayOf(today - d * DAY_MS);
      const found = await this.#records.find(query.type ? { day, type: query.type } : { day }, {
        limit: 1_000_000,
      });
      // The store returns insertion order: reversed, the newest first.
      out.push(...found.reverse().slice(0, query.limit - out.length));
    }
    return out;
  }

  async #write(event: AuditEvent): Promise<void> {
    const at = this.#clock.now();
    const requestId = event.requestId ?? this.#request.getStore()?.requestId;
    const operatorId = event.operatorId ?? this.#request.getStore()?.operatorId;
    const record: AuditRecord = {
      // Absent rather than undefined (MongoDB would store null).
      ...(Object.fromEntries(Object.entries(event).filter(([, v]) => v !== undefined)) as AuditEvent),
      ...(requestId ? { requestId } : {}),
      ...(operatorId ? { operatorId } : {}),
      _id: timeOrderedId(at, 8),
      at,
      day: dayOf(at),
    };
    this.#logger.info({ audit: { ...record, _id: undefined, day: undefined } }, `audit: ${event.type}`);
    try {
      await this.#records.insert(record);
    } catch (error) {
      this.#logger.error(
        { err: { name: (error as Error)?.name, message: (error as Error)?.message }, type: event.type },
        'audit record could not be stored',
      );
    }
  }
}

export function createAuditLog(deps: AuditLogDeps): AuditLog {
  return new AuditLog(deps);
}
