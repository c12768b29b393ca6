/**
 * base58btc, the multibase `z` encoding (draft-msporny-base58, Bitcoin alphabet;
 * https://datatracker.ietf.org/doc/draft-multiformats-multibase/ §2.3): the bytes read as one big
 * number written in base 58, each leading zero byte as a `1`. Used by Multikey
 * (`publicKeyMultibase`), did:key and Data Integrity `proofValue`.
 */

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const CODES = Buffer.from(ALPHABET, 'latin1');

/** 58^4: limbs small enough that limb × 2^24 + carry stays an exact double (< 2^53). */
const LIMB = 58 ** 4;

export class Base58Error extends Error {
  override name = 'Base58Error';
}

/**
 * base58btc of `bytes`, as base58-universal encodes it. On the ldp_vc fast path (one call per
 * signature), so: the bytes read three at a time into little-endian base-58^4 limbs (a 64-byte
 * signature takes ~1/3 of the steps of a digit-by-digit conversion).
 */
export function base58btcEncode(bytes: Uint8Array): string {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  // Little-endian limbs of the big number, each < 58^4 (small integers: V8 keeps them unboxed).
  const limbs: number[] = [];
  // The first chunk takes the leftover bytes so every later chunk is exactly three bytes.
  let i = zeros;
  let width = (bytes.length - zeros) % 3 || 3;
  while (i < bytes.length) {
    let carry = 0;
    for (let k = 0; k < width; k++) carry = carry * 256 + bytes[i + k]!;
    const scale = 2 ** (8 * width);
    i += width;
    width = 3;
    for (let j = 0; j < limbs.length; j++) {
      const v = limbs[j]! * scale + carry;
      carry = Math.floor(v / LIMB);
      limbs[j] = v - carry * LIMB;
    }
    while (carry > 0) {
      limbs.push(carry % LIMB);
      carry = Math.floor(carry / LIMB);
    }
  }
  // Digits written from the end of a byte buffer: four per limb, least significant first, the top
  // limb without leading zeros.
  const digits = Buffer.allocUnsafe(zeros + limbs.length * 4);
  let at = digits.length;
  for (let j = 0; j < limbs.length; j++) {
    let limb = limbs[j]!;
    const last = j === limbs.length - 1;
    for (let d = 0; d < 4 && (!last || limb > 0); d++) {
      digits[--at] = CODES[limb % 58]!;
      limb = Math.floor(limb / 58);
    }
  }
  digits.fill(49, at - zeros, at); // '1' per leading zero byte
  return digits.toString('latin1', at - zeros);
}

/** The bytes of a base58btc string; Base58Error naming a character outside the alphabet. */
export function base58btcDecode(text: string): Uint8Array {
  let zeros = 0;
  while (zeros < text.length && text[zeros] === '1') zeros++;
  const bytes: number[] = [];
  for (const char of text) {
    let carry = ALPHABET.indexOf(char);
    if (carry < 0) throw new Base58Error(`invalid base58btc character ${JSON.stringify(char)}`);
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
