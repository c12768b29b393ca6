import type { AuditLog } from '../audit/audit.ts';
import type { Clock } from '../clock.ts';
import { NotFound } from '../errors.ts';
import { randomId } from '../random.ts';
import type { Store, StoredDoc } from '../store/spi.ts';
import { createAuditedOffer } from '../vci/audited-offer.ts';
import type { Offers } from '../vci/offers.ts';
import type { PreAuthorizedCodes } from '../vci/pre-authorized.ts';

/**
 * Offers made at the console desk (collection `console_offers`): which configurations, by whom,
 * whether a tx_code was sent, and the hash of the pre-authorized code, from which the offer's state
 * is read (waiting, redeemed, expired). Nothing personal and nothing redeemable is kept: not the
 * individual ID, not the code, not the offer link (the QR code is shown once, in the answer that
 * made it).
 */
export type OfferState = 'waiting' | 'redeemed' | 'expired';

export interface ConsoleOfferDoc extends StoredDoc {
  operatorId: string;
  configurationIds: string[];
  codeHash: string;
  txCode: boolean;
  /** Masked address the tx_code went to (e.g. `l***@example.org`), when one was sent. */
  txCodeSentTo?: string;
  createdAt: number;
  offerExpiresAt: number;
  redeemedAt?: number;
}

export interface ConsoleOffer {
  readonly id: string;
  readonly configurationIds: readonly string[];
  readonly txCode: boolean;
  readonly txCodeSentTo?: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly state: OfferState;
}

/** How long the desk's list remembers an offer after it was made, in ms (a week). */
const KEEP_MS = 7 * 86_400_000;

export function createConsoleOffers(deps: {
  store: Store;
  clock: Clock;
  audit: AuditLog;
  offers: Offers;
  codes: Pick<PreAuthorizedCodes, 'stateOf'>;
}) {
  const { clock, audit, offers, codes } = deps;
  const made = deps.store.collection<ConsoleOfferDoc>({ name: 'console_offers', indexes: ['operatorId'] });

  async function stateOf(doc: ConsoleOfferDoc): Promise<OfferState> {
    if (doc.redeemedAt !== undefined) return 'redeemed';
    const code = await codes.stateOf(doc.codeHash);
    if (code === 'redeemed') {
      await made.update(doc._id, {}, { redeemedAt: clock.now() });
      return 'redeemed';
    }
    return code === 'waiting' && doc.offerExpiresAt > clock.now() ? 'waiting' : 'expired';
  }

  const view = async (doc: ConsoleOfferDoc): Promise<ConsoleOffer> => ({
    id: doc._id,
    configurationIds: doc.configurationIds,
    txCode: doc.txCode,
    ...(doc.txCodeSentTo ? { txCodeSentTo: doc.txCodeSentTo } : {}),
    createdAt: doc.createdAt,
    expiresAt: doc.offerExpiresAt,
    state: await stateOf(doc),
  });

  return {
    /** Makes a pre-authorized offer for a person (validated by the offer service before any write). */
    async create(
      operatorId: string,
      input: { individualId: string; configurationIds: string[]; txCode: boolean },
    ) {
      const { created, codeHash } = await createAuditedOffer(offers, audit, {
        credential_configuration_ids: input.configurationIds,
        individual_id: input.individualId,
        tx_code: input.txCode,
      });
      const now = clock.now();
      const sentTo = 'tx_code_sent_to' in created ? created.tx_code_sent_to : undefined;
      const doc: ConsoleOfferDoc = {
        _id: randomId(16),
        operatorId,
        configurationIds: created.credential_offer.credential_configuration_ids as string[],
        codeHash: codeHash!,
        txCode: input.txCode,
        ...(typeof sentTo === 'string' ? { txCodeSentTo: sentTo } : {}),
        createdAt: now,
        offerExpiresAt: now + created.expires_in * 1000,
        expiresAt: now + KEEP_MS,
      };
      await made.insert(doc);
      return { offer: await view(doc), created };
    },

    async get(id: string): Promise<ConsoleOffer> {
      const doc = /^[A-Za-z0-9_-]{22}$/.test(id) ? await made.get(id) : undefined;
      if (!doc) throw new NotFound('no such offer');
      return view(doc);
    },

    /** The newest offers first, at most `limit`. */
    async recent(limit: number): Promise<ConsoleOffer[]> {
      const docs = await made.find({}, { limit: 10_000 });
      return Promise.all(docs.reverse().slice(0, limit).map(view));
    },
  };
}

export type ConsoleOffers = ReturnType<typeof createConsoleOffers>;
