import { createPublicKey, type JsonWebKey, type KeyObject, sign, verify } from 'node:crypto';

/**
 * ES256 (RFC 7518 §3.4) over node:crypto's one-shot sign and verify, called with a bare KeyObject
 * and the signature in ASN.1 DER, converted here to and from JOSE's fixed-size r ‖ s.
 *
 * Why not `{ key, dsaEncoding: 'ieee-p1363' }`: on Node 24 passing the key inside an options object
 * costs ~25 µs per call beyond the signature itself (key preparation goes through its slow path),
 * about as much as a P-256 signature (~23 µs) and a third of a verification (~65 µs). Measured in
 * bench/cases/ecdsa.ts (`npm run bench -- es256`: 2.1× per signature, 1.8× per proof check with
 * PublicKeyCache); the conversion itself takes a few hundred nanoseconds.
 */

/** The size of r and of s for P-256. */
const P256_SCALAR_BYTES = 32;

/** JOSE r ‖ s (64 bytes) → DER `SEQUENCE { INTEGER r, INTEGER s }`; undefined for another length. */
export function p1363ToDer(signature: Uint8Array, scalarBytes = P256_SCALAR_BYTES): Buffer | undefined {
  if (signature.length !== 2 * scalarBytes) return undefined;
  const r = derInteger(signature.subarray(0, scalarBytes));
  const s = derInteger(signature.subarray(scalarBytes));
  const length = r.length + s.length;
  // 2 × (2 + 33) = 70 bytes at most for P-256: the short length form (< 128) always suffices.
  return Buffer.concat([Buffer.of(0x30, length), r, s], 2 + length);
}

/** An unsigned big-endian integer as DER INTEGER: no leading zero octets, one added for a set high bit. */
function derInteger(unsigned: Uint8Array): Buffer {
  let start = 0;
  while (start < unsigned.length - 1 && unsigned[start] === 0) start++;
  const value = unsigned.subarray(start);
  const pad = (value[0] ?? 0) & 0x80 ? 1 : 0;
  const out = Buffer.alloc(2 + pad + value.length);
  out[0] = 0x02;
  out[1] = pad + value.length;
  out.set(value, 2 + pad);
  return out;
}

/** DER `SEQUENCE { INTEGER r, INTEGER s }` as OpenSSL writes it → JOSE r ‖ s. */
export function derToP1363(der: Uint8Array, scalarBytes = P256_SCALAR_BYTES): Buffer {
  const out = Buffer.alloc(2 * scalarBytes);
  // OpenSSL's output for P-256: 0x30 len 0x02 rLen r 0x02 sLen s, lengths in the short form.
  if (der[0] !== 0x30 || der[2] !== 0x02) throw new Error('not a DER ECDSA signature');
  const rLength = der[3]!;
  const sAt = 4 + rLength;
  if (der[sAt] !== 0x02) throw new Error('not a DER ECDSA signature');
  const sLength = der[sAt + 1]!;
  copyScalar(der.subarray(4, sAt), out, 0, scalarBytes);
  copyScalar(der.subarray(sAt + 2, sAt + 2 + sLength), out, scalarBytes, scalarBytes);
  return out;
}

/** Right-aligns a DER integer's magnitude (leading zero octets dropped) into `size` bytes at `at`. */
function copyScalar(integer: Uint8Array, out: Buffer, at: number, size: number): void {
  let start = 0;
  while (start < integer.length - 1 && integer[start] === 0) start++;
  const value = integer.subarray(start);
  if (value.length > size) throw new Error('ECDSA scalar larger than the curve order');
  out.set(value, at + size - value.length);
}

/** ES256 signature of `data` in JOSE form (r ‖ s). */
export function es256Sign(privateKey: KeyObject, data: Uint8Array): Buffer {
  return derToP1363(sign('sha256', data, privateKey));
}

/** Whether `signature` (JOSE r ‖ s, 64 bytes) is a valid ES256 signature of `data`. */
export function es256Verify(publicKey: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  const der = p1363ToDer(signature);
  return der !== undefined && verify('sha256', data, publicKey, der);
}

/**
 * Public KeyObjects of JWKs, imported once: an import validates the point (~35 µs for P-256, half a
 * verification), and a wallet that asks for several credentials, or again later, signs its proofs
 * with the same key. Keyed by the members that define the key (kty, crv, x, y: the caller passes
 * canonical JWKs only), bounded, least recently used out first. Holds public keys only.
 */
export class PublicKeyCache {
  readonly #keys = new Map<string, KeyObject>();
  readonly #capacity: number;

  constructor(capacity = 4096) {
    this.#capacity = capacity;
  }

  get(jwk: { kty?: string; crv?: string; x?: string; y?: string }): KeyObject {
    // JSON, not a joined string: no choice of member values can make two keys share an entry.
    const id = JSON.stringify([jwk.kty, jwk.crv, jwk.x, jwk.y]);
    const cached = this.#keys.get(id);
    if (cached) {
      // Map keeps insertion order: re-inserting marks the key most recently used.
      this.#keys.delete(id);
      this.#keys.set(id, cached);
      return cached;
    }
    const { kty, crv, x, y } = jwk;
    const key = createPublicKey({ key: { kty, crv, x, ...(y ? { y } : {}) } as JsonWebKey, format: 'jwk' });
    if (this.#keys.size >= this.#capacity) this.#keys.delete(this.#keys.keys().next().value!);
    this.#keys.set(id, key);
    return key;
  }
}
