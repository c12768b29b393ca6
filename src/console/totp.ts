import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * TOTP (RFC 6238, https://www.rfc-editor.org/rfc/rfc6238) over HOTP (RFC 4226 §5.3): HMAC-SHA1,
 * 30-second steps, 6 digits, the defaults every authenticator app uses; one step either side is
 * accepted for clock drift (RFC 6238 §5.2).
 */
const STEP_MS = 30_000;
const DIGITS = 6;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32Encode(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

export function base32Decode(text: string): Buffer {
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const char of text.replace(/=+$/, '').toUpperCase()) {
    const index = BASE32.indexOf(char);
    if (index < 0) throw new Error('not base32');
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** A new 160-bit secret (RFC 4226 §4 R6 recommends 160 bits), base32 as apps take it. */
export const generateTotpSecret = (): string => base32Encode(randomBytes(20));

/** The HOTP value (RFC 4226 §5.3) for one counter. */
export function hotp(secret: Buffer, counter: number): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', secret).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** DIGITS;
  return String(code).padStart(DIGITS, '0');
}

export const totpAt = (secret: string, epochMs: number): string =>
  hotp(base32Decode(secret), Math.floor(epochMs / STEP_MS));

export function verifyTotp(secret: string, code: string, nowMs: number): boolean {
  if (!/^\d{6}$/.test(code)) return false;
  const key = base32Decode(secret);
  const step = Math.floor(nowMs / STEP_MS);
  let ok = false;
  for (const counter of [step - 1, step, step + 1]) {
    ok = timingSafeEqual(Buffer.from(hotp(key, counter)), Buffer.from(code)) || ok;
  }
  return ok;
}

/** The enrolment URI authenticator apps read (Key Uri Format, as Google Authenticator defines it). */
export const totpUri = (secret: string, issuer: string, username: string): string =>
  `otpauth://totp/${encodeURIComponent(`${issuer}:${username}`)}?secret=${secret}&issuer=${encodeURIComponent(issuer)}&algorithm=SHA1&digits=6&period=30`;
