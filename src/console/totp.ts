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

export type TotpHash = 'sha1' | 'sha256' | 'sha512';

/**
 * The HOTP value (RFC 4226 §5.3) for one counter. The console uses the defaults (SHA-1, 6 digits);
 * the others are RFC 6238's variants, there so its Appendix B test vectors can be checked whole.
 */
export function hotp(
  secret: Buffer,
  counter: number,
  options: { digits?: number; hash?: TotpHash } = {},
): string {
  const digits = options.digits ?? DIGITS;
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(options.hash ?? 'sha1', secret)
    .update(message)
    .digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits;
  return String(code).padStart(digits, '0');
}

/** The time step (RFC 6238 §4.2: T = floor((now - T0) / X), T0 = 0, X = 30 s) of an instant. */
export const totpStep = (epochMs: number): number => Math.floor(epochMs / STEP_MS);

export const totpAt = (secret: string, epochMs: number): string =>
  hotp(base32Decode(secret), totpStep(epochMs));

/**
 * The time step whose code `code` is, among the current step and one either side; undefined when
 * none matches. Every candidate is compared (in constant time) whatever the outcome. The caller
 * refuses a step at or before the last one it accepted for the same secret (RFC 6238 §5.2: "the
 * verifier MUST NOT accept the second attempt of the same OTP after the successful validation").
 */
export function matchTotp(secret: string, code: string, nowMs: number): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const key = base32Decode(secret);
  const step = totpStep(nowMs);
  let matched: number | undefined;
  for (const counter of [step + 1, step, step - 1].filter((c) => c >= 0)) {
    if (timingSafeEqual(Buffer.from(hotp(key, counter)), Buffer.from(code))) matched ??= counter;
  }
  return matched;
}

/** The enrolment URI authenticator apps read (Key Uri Format, as Google Authenticator defines it). */
export const totpUri = (secret: string, issuer: string, username: string): string =>
  `otpauth://totp/${encodeURIComponent(`${issuer}:${username}`)}?secret=${secret}&issuer=${encodeURIComponent(issuer)}&algorithm=SHA1&digits=6&period=30`;
