import type { JWK } from 'jose';

/**
 * Multikey encoding of public keys (W3C Controlled Identifiers 1.0 §2.2.2,
 * https://www.w3.org/TR/cid-1.0/#Multikey): multicodec header + raw key, multibase base58btc ('z').
 * Ed25519: header 0xed 0x01 + the 32-byte key. P-256: header 0x80 0x24 + the 33-byte compressed
 * point (SEC 1 §2.3.3).
 */

const ED25519_PUB = Uint8Array.of(0xed, 0x01);
const P256_PUB = Uint8Array.of(0x80, 0x24);

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** Bitcoin base58 (draft-msporny-base58), as used by multibase 'z'. */
export function base58btcEncode(bytes: Uint8Array): string {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  const digits: number[] = [];
  for (const byte of bytes) {
    let carry = byte;
    for (let i = 0; i < digits.length; i++) {
      carry += digits[i]! << 8;
      digits[i] = carry % 58;
      carry = Math.floor(carry / 58);
    }
    while (carry > 0) {
      digits.push(carry % 58);
      carry = Math.floor(carry / 58);
    }
  }
  let out = '1'.repeat(zeros);
  for (let i = digits.length - 1; i >= 0; i--) out += ALPHABET[digits[i]!];
  return out;
}

export function base58btcDecode(text: string): Uint8Array {
  let zeros = 0;
  while (zeros < text.length && text[zeros] === '1') zeros++;
  const bytes: number[] = [];
  for (const char of text) {
    let carry = ALPHABET.indexOf(char);
    if (carry < 0) throw new Error(`invalid base58btc character ${JSON.stringify(char)}`);
    for (let i = 0; i < bytes.length; i++) {
      carry += bytes[i]! * 58;
      bytes[i] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  const out = new Uint8Array(zeros + bytes.length);
  for (let i = 0; i < bytes.length; i++) out[zeros + i] = bytes[bytes.length - 1 - i]!;
  return out;
}

/** `publicKeyMultibase` of an Ed25519 (OKP) or P-256 (EC) public JWK. */
export function publicKeyMultibase(jwk: JWK): string {
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && jwk.x) {
    return `z${base58btcEncode(concat(ED25519_PUB, Buffer.from(jwk.x, 'base64url')))}`;
  }
  if (jwk.kty === 'EC' && jwk.crv === 'P-256' && jwk.x && jwk.y) {
    const y = Buffer.from(jwk.y, 'base64url');
    const prefix = Uint8Array.of((y[y.length - 1]! & 1) === 0 ? 0x02 : 0x03);
    return `z${base58btcEncode(concat(P256_PUB, prefix, Buffer.from(jwk.x, 'base64url')))}`;
  }
  throw new Error(`no Multikey encoding for ${jwk.kty}/${jwk.crv ?? ''} keys`);
}

/** The multicodec header and raw key bytes of a base58btc `publicKeyMultibase`. */
export function decodeMultikey(multibase: string): { codec: 'ed25519-pub' | 'p256-pub'; key: Uint8Array } {
  if (!multibase.startsWith('z')) throw new Error('publicKeyMultibase must be base58btc (z)');
  const bytes = base58btcDecode(multibase.slice(1));
  if (bytes[0] === 0xed && bytes[1] === 0x01 && bytes.length === 34) {
    return { codec: 'ed25519-pub', key: bytes.slice(2) };
  }
  if (bytes[0] === 0x80 && bytes[1] === 0x24 && bytes.length === 35)
    return { codec: 'p256-pub', key: bytes.slice(2) };
  throw new Error('unsupported Multikey: expected an Ed25519 or P-256 public key');
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((part) => [...part]));
}
