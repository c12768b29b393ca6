import type { JWK } from 'jose';
import { base58btcDecode, base58btcEncode } from './multibase.ts';

/**
 * Multikey encoding of public keys (W3C Controlled Identifiers 1.0 §2.2.2,
 * https://www.w3.org/TR/cid-1.0/#Multikey): multicodec header + raw key, multibase base58btc ('z').
 * Ed25519: header 0xed 0x01 + the 32-byte key. P-256: header 0x80 0x24 + the 33-byte compressed
 * point (SEC 1 §2.3.3).
 */

const ED25519_PUB = Uint8Array.of(0xed, 0x01);
const P256_PUB = Uint8Array.of(0x80, 0x24);

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
