import { TemporarilyUnavailable } from '../../errors.ts';
import type { Services } from '../../services.ts';
import type { OtpChannel } from '../spi.ts';
import { consoleNotifier } from './console.ts';
import { outboxNotifier } from './outbox.ts';
import { smtpNotifier } from './smtp.ts';
import { type Notifier, NotifierError, type OutgoingMessage } from './types.ts';
import { webhookNotifier } from './webhook.ts';

export type { Notifier, OutgoingMessage } from './types.ts';
export { NotifierError } from './types.ts';

/** Delivery of messages to people, routed per channel by config `kyc.notify`. */
export interface Notifications {
  /** Whether the development outbox may be used and read (demo mode or `kyc.notify.outboxEnabled`). */
  readonly outboxEnabled: boolean;
  /**
   * Delivers one message through the channel's notifier. A failure is logged (notifier and reason,
   * never the content) and thrown as TemporarilyUnavailable.
   */
  deliver(message: OutgoingMessage): Promise<void>;
}

export function createNotifications(services: Services): Notifications {
  const { config, store, clock, logger } = services;
  const notify = config.kyc.notify;
  const outboxEnabled = config.resolved.demo || notify.outboxEnabled;
  const plugins: Record<string, () => Notifier> = {
    outbox: () => outboxNotifier({ store, clock, ttlSeconds: notify.outboxTtlSeconds }),
    console: () => consoleNotifier(),
    smtp: () => smtpNotifier(notify.smtp, clock),
    webhook: () => webhookNotifier(notify.webhook, clock),
  };
  const byChannel: Record<OtpChannel, Notifier> = {
    email: plugins[notify.email]!(),
    sms: plugins[notify.sms]!(),
  };
  for (const [channel, notifier] of Object.entries(byChannel)) {
    if (notifier.name === 'outbox' && !outboxEnabled) {
      logger.warn(
        { channel },
        'kyc.notify selects the outbox outside demo mode without kyc.notify.outboxEnabled: messages cannot be sent',
      );
    }
  }
  return {
    outboxEnabled,
    async deliver(message) {
      const notifier = byChannel[message.channel];
      try {
        if (notifier.name === 'outbox' && !outboxEnabled) {
          throw new NotifierError('outbox', 'the outbox is disabled outside demo mode: configure kyc.notify');
        }
        await notifier.send(message);
      } catch (error) {
        const reason = error instanceof NotifierError ? error.message : (error as Error).name;
        logger.error(
          { notifier: notifier.name, channel: message.channel, purpose: message.purpose, reason },
          'message delivery failed',
        );
        throw new TemporarilyUnavailable('the message could not be delivered, try again shortly', {
          headers: { 'Retry-After': '30' },
          cause: error,
        });
      }
    },
  };
}
