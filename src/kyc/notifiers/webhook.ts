import { createHmac, randomUUID } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import { type Notifier, NotifierError, type OutgoingMessage } from './types.ts';

export interface WebhookOptions {
  url: string;
  secret: string;
  timeoutMs: number;
}

/**
 * Sends each message as `POST <url>` with a JSON body, for an SMS gateway or a messaging service
 * behind a small adapter. The body is signed: `X-Signature: sha256=<hex HMAC-SHA256(secret,
 * "<X-Signature-Timestamp>.<body>")>`, so the receiver can check origin and freshness.
 */
export function webhookNotifier(options: WebhookOptions, clock: Clock): Notifier {
  return {
    name: 'webhook',
    async send(message: OutgoingMessage) {
      if (!options.url) throw new NotifierError('webhook', 'kyc.notify.webhook.url is not configured');
      const timestamp = String(Math.floor(clock.now() / 1000));
      const body = JSON.stringify({
        id: randomUUID(),
        channel: message.channel,
        to: message.to,
        subject: message.subject,
        text: message.text,
        purpose: message.purpose,
        sent_at: timestamp,
      });
      const signature = createHmac('sha256', options.secret).update(`${timestamp}.${body}`).digest('hex');
      let response: Response;
      try {
        response = await fetch(options.url, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'X-Signature': `sha256=${signature}`,
            'X-Signature-Timestamp': timestamp,
          },
          body,
          redirect: 'error',
          signal: AbortSignal.timeout(options.timeoutMs),
        });
      } catch (error) {
        const reason =
          (error as Error).name === 'TimeoutError'
            ? `no answer within ${options.timeoutMs} ms`
            : 'unreachable';
        throw new NotifierError('webhook', reason, { cause: error });
      }
      await response.body?.cancel();
      if (!response.ok) throw new NotifierError('webhook', `endpoint answered HTTP ${response.status}`);
    },
  };
}
