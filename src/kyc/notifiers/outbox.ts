import { randomBytes } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import type { Store, StoredDoc } from '../../store/spi.ts';
import type { Notifier, OutgoingMessage } from './types.ts';

export interface OutboxDoc extends StoredDoc {
  channel: string;
  to: string;
  subject: string;
  text: string;
  purpose: string;
  createdAt: number;
  expiresAt: number;
}

export const outboxCollection = (store: Store) =>
  store.collection<OutboxDoc>({ name: 'outbox', indexes: ['to'] });

/**
 * Development notifier: keeps messages in the store (collection `outbox`, expiring) so people and
 * tests can read them at GET /admin/outbox. The only place OTPs and tx_codes are ever kept in
 * clear; enabled only in demo mode or with `kyc.notify.outboxEnabled`.
 */
export function outboxNotifier(deps: { store: Store; clock: Clock; ttlSeconds: number }): Notifier {
  const outbox = outboxCollection(deps.store);
  return {
    name: 'outbox',
    async send(message: OutgoingMessage) {
      const now = deps.clock.now();
      await outbox.insert({
        _id: randomBytes(12).toString('base64url'),
        channel: message.channel,
        to: message.to,
        subject: message.subject,
        text: message.text,
        purpose: message.purpose,
        createdAt: now,
        expiresAt: now + deps.ttlSeconds * 1000,
      });
    },
  };
}

/** Messages newest first, optionally only those sent to `to`. */
export async function readOutbox(
  store: Store,
  options: { to?: string; limit?: number } = {},
): Promise<OutboxDoc[]> {
  // find() returns insertion order (storage SPI), so reversing gives newest first.
  const docs = await outboxCollection(store).find(options.to ? { to: options.to } : {});
  return docs.reverse().slice(0, options.limit ?? 50);
}
