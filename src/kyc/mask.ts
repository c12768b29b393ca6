import type { OtpChannel } from './spi.ts';

/** `a***@example.org`: enough for the person to recognise, too little to harvest. */
export function maskEmail(email: string): string {
  const [local = '', domain = ''] = email.split('@');
  return `${local.slice(0, 1)}***@${domain}`;
}

/** `+255 *** **34`: country code and the last two digits. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/[^\d+]/g, '');
  const country = digits.startsWith('+') ? `${digits.slice(0, 4)} ` : '';
  return `${country}*** **${digits.slice(-2)}`;
}

export const maskDestination = (channel: OtpChannel, to: string): string =>
  channel === 'email' ? maskEmail(to) : maskPhone(to);
