import { hkdfSync } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { FormatId, StatusEntry } from '../credentials/formats/types.ts';
import { sha256Base64url } from '../crypto/hash.ts';
import { hmac } from '../kyc/crypto.ts';
import { timeOrderedId } from '../random.ts';
import type { Store, StoredDoc } from '../store/spi.ts';

/**
 * The issuance ledger (collection `ledger`): one record per issued credential with what operations
 * need (revocation, audit, notification events) and nothing personal. Never claims, never the
 * credential, never the account id: ARCHITECTURE.md "Data that must never leak".
 */
export type LedgerEvent = 'credential_accepted' | 'credential_failure' | 'credential_deleted';

export interface LedgerRecord extends StoredDoc {
  configurationId: string;
  definitionId: string;
  definitionVersion: number;
  format: FormatId;
  statusEntries: StatusEntry[];
  /** RFC 7638 thumbprint of the holder key; absent for bearer credentials. */
  holderThumbprint?: string;
  /** Wallet client_id, when the token had one (not personal). */
  clientId?: string;
  /** SHA-256 of the grant id: lets the notification endpoint accept events only from the same access token. */
  grantHash: string;
  /** Groups the credentials of one credential response; the wallet reports events against it. */
  notificationId: string;
  /** Epoch ms. */
  issuedAt: number;
  validFrom: number;
  validUntil?: number;
  /** Latest wallet event (OpenID4VCI 1.0 §11) and when it arrived. */
  event?: LedgerEvent;
  eventAt?: number;
  status: 'issued' | 'revoked' | 'suspended';
}

export const LEDGER_COLLECTION = { name: 'ledger', indexes: ['notificationId', 'configurationId'] };

/**
 * Whom a credential was issued to, without saying who (collection `ledger_issued_to`, beside the
 * ledger so its records and the admin API's view of them stay as they are): one document per token
 * status list entry, `_id` = SHA-256 of the entry, holding only an HMAC of the identity system and
 * account id under a key derived from `keys.encryptionSecret`, and expiring with the credential. It
 * lets a presentation of the credential (the wallet login) tell whether the person it logs in is the
 * person it was issued to; nobody can read the account back from it.
 */
export const ISSUED_TO_COLLECTION = { name: 'ledger_issued_to' };

interface IssuedToRecord extends StoredDoc {
  accountHash: string;
}

/** The account a credential is issued to (never stored as such). */
export interface IssuedTo {
  readonly identitySystem: string;
  readonly accountId: string;
}

export interface Ledger {
  /** A new record id, time first (`timeOrderedId`). */
  newId(): string;
  /** Records an issued credential; with `issuedTo` (and a key), also whom it went to (as an HMAC). */
  record(entry: Omit<LedgerRecord, 'status'>, issuedTo?: IssuedTo): Promise<void>;
  /**
   * Whether the credential with this token status list entry was issued to `account`: undefined
   * when the ledger does not know (issued before this was recorded, expired, or no key).
   */
  issuedTo(entry: { uri: string; idx: number }, account: IssuedTo): Promise<boolean | undefined>;
  byNotification(notificationId: string): Promise<LedgerRecord[]>;
  setEvent(id: string, event: LedgerEvent): Promise<void>;
  get(id: string): Promise<LedgerRecord | undefined>;
  list(
    filter: {
      configurationId?: string;
      notificationId?: string;
      format?: string;
      status?: LedgerRecord['status'];
    },
    limit: number,
  ): Promise<LedgerRecord[]>;
  setStatus(id: string, status: LedgerRecord['status']): Promise<LedgerRecord | undefined>;
}

const entryId = (entry: { uri: string; idx: number }) => sha256Base64url(`token|${entry.idx}|${entry.uri}`);

/** `encryptionSecret` (config `keys.encryptionSecret`) keys the issued-to HMAC; without it none is kept. */
export function createLedger(store: Store, clock: Clock, encryptionSecret?: string): Ledger {
  const ledger = store.collection<LedgerRecord>(LEDGER_COLLECTION);
  const issued = store.collection<IssuedToRecord>(ISSUED_TO_COLLECTION);
  const key =
    encryptionSecret !== undefined
      ? Buffer.from(hkdfSync('sha256', encryptionSecret, 'idissuer-ledger-v1', 'issued-to', 32))
      : undefined;
  // HMAC-SHA256 through the KYC helper, which imports the key once (not once per credential).
  const accountHash = (account: IssuedTo) => hmac(key!, `${account.identitySystem}|${account.accountId}`);
  return {
    newId: () => timeOrderedId(clock.now(), 16),
    async record(entry, issuedTo) {
      await ledger.insert({ ...entry, status: 'issued' } as LedgerRecord);
      if (!key || !issuedTo) return;
      // Omit<> over the index signature loses the named fields' types.
      const { statusEntries, validUntil } = entry as LedgerRecord;
      const hash = accountHash(issuedTo);
      for (const status of statusEntries) {
        if (status.kind !== 'token') continue;
        await issued.put({
          _id: entryId(status),
          accountHash: hash,
          ...(validUntil ? { expiresAt: validUntil } : {}),
        });
      }
    },
    async issuedTo(entry, account) {
      if (!key) return undefined;
      const record = await issued.get(entryId(entry));
      return record ? record.accountHash === accountHash(account) : undefined;
    },
    byNotification: (notificationId) => ledger.find({ notificationId }),
    async setEvent(id, event) {
      await ledger.update(id, {}, { event, eventAt: clock.now() });
    },
    get: (id) => ledger.get(id),
    list: (filter, limit) =>
      ledger.find(
        Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined)) as Record<
          string,
          string
        >,
        { limit },
      ),
    setStatus: (id, status) => ledger.update(id, {}, { status }),
  };
}
