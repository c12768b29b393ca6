import type { OtpChannel } from '../spi.ts';

/** One message to one person. `text` may carry a code: notifiers never log it. */
export interface OutgoingMessage {
  readonly channel: OtpChannel;
  /** E-mail address or phone number. */
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  /** `otp`, `tx_code`, `notice`... */
  readonly purpose: string;
}

/** A delivery plugin: a plain object registered by name (config `kyc.notify.email` / `.sms`). */
export interface Notifier {
  readonly name: string;
  /** Resolves once the message is accepted downstream; rejects with NotifierError otherwise. */
  send(message: OutgoingMessage): Promise<void>;
}

/** A delivery failed; the message says why without repeating the message's content. */
export class NotifierError extends Error {
  override name = 'NotifierError';
  readonly notifier: string;
  constructor(notifier: string, reason: string, options?: { cause?: unknown }) {
    super(`${notifier} notifier: ${reason}`, options);
    this.notifier = notifier;
  }
}

/** Header and address values must not smuggle new lines (SMTP/header injection). */
export function assertSingleLine(value: string, what: string, notifier: string): void {
  if (/[\r\n\0]/.test(value)) throw new NotifierError(notifier, `${what} contains a line break`);
}
