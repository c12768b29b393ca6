import type { Clock } from '../clock.ts';
import type { FormatId, StatusEntry } from '../credentials/formats/types.ts';
import { randomId } from '../random.ts';
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

export interface Ledger {
  newId(): string;
  record(entry: Omit<LedgerRecord, 'status'>): Promise<void>;
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

export function createLedger(store: Store, clock: Clock): Ledger {
  const ledger = store.collection<LedgerRecord>(LEDGER_COLLECTION);
  return {
    newId: () => randomId(16),
    record: (entry) => ledger.insert({ ...entry, status: 'issued' } as LedgerRecord),
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
