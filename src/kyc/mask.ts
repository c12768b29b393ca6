import { createHmac } from 'node:crypto';
import type { OtpChannel } from './spi.ts';

/** `a***@example.org`: enough for the person to recognise, too little to harvest. */
export function maskEmail(email: string): string {
  const [local = '', domain = ''] = email.split('@');
  return `${local.slice(0, 1)}***@${domain}`;
}

/**
 * `*** **34`: the last two digits only. No country code: the decoy shown for an unknown
 * Individual ID (below) could not guess the right one, so the prefix would tell the two apart.
 */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  return `*** **${digits.slice(-2).padStart(2, '0')}`;
}

export const maskDestination = (channel: OtpChannel, to: string): string =>
  channel === 'email' ? maskEmail(to) : maskPhone(to);

/** Domains a decoy e-mail mask picks from: the widest-used mailbox providers. */
const DECOY_EMAIL_DOMAINS = ['gmail.com', 'outlook.com', 'yahoo.com', 'hotmail.com'];

/**
 * The destination shown when no code is sent (unknown Individual ID, no contact on the channel),
 * so send-otp answers the same for known and unknown IDs (SECURITY.md row 47). Deterministic: an
 * HMAC of the ID under a server key, so asking twice shows the same "destination", as it would
 * for a real person. E-mail decoys can only guess the domain: a deployment whose people use other
 * domains should send codes by SMS (`otpChannels` order).
 */
export function decoyDestination(key: Buffer, channel: OtpChannel, individualId: string): string {
  const mac = createHmac('sha256', key).update(`otp-decoy|${channel}|${individualId}`).digest();
  if (channel === 'sms') return `*** **${String(mac.readUInt16BE(0) % 100).padStart(2, '0')}`;
  const letter = String.fromCharCode(97 + (mac[2]! % 26));
  return `${letter}***@${DECOY_EMAIL_DOMAINS[mac[3]! % DECOY_EMAIL_DOMAINS.length]}`;
}
