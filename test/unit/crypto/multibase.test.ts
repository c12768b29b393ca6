import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Base58Error, base58btcDecode, base58btcEncode } from '../../../src/crypto/multibase.ts';

describe('base58btc (multibase z)', () => {
  it('encodes the published vectors, one 1 per leading zero byte', () => {
    // draft-msporny-base58 §5 test vectors.
    expect(base58btcEncode(Buffer.from('Hello World!'))).toBe('2NEpo7TZRRrLZSi2U');
    expect(base58btcEncode(Buffer.from('The quick brown fox jumps over the lazy dog.'))).toBe(
      'USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z',
    );
    expect(base58btcEncode(Uint8Array.of(0, 0, 0x28, 0x7f, 0xb4, 0xcd))).toBe('11233QC4');
    expect(base58btcEncode(Buffer.from('hello world'))).toBe('StV1DL6CwTryKyV');
    expect(base58btcEncode(Uint8Array.of())).toBe('');
    expect(base58btcEncode(Uint8Array.of(0, 0, 1))).toBe('112');
  });

  it('decodes what it encodes, leading zero bytes included', () => {
    fc.assert(
      fc.property(fc.nat({ max: 4 }), fc.uint8Array({ maxLength: 96 }), (zeros, tail) => {
        const bytes = Uint8Array.from([...new Uint8Array(zeros), ...tail]);
        const encoded = base58btcEncode(bytes);
        expect(encoded.startsWith('1'.repeat(zeros))).toBe(true);
        expect(base58btcDecode(encoded)).toEqual(bytes);
      }),
    );
  });

  it('refuses a character outside the alphabet, naming it', () => {
    expect(() => base58btcDecode('2NEpo0TZ')).toThrow(Base58Error);
    expect(() => base58btcDecode('2NEpo0TZ')).toThrow('invalid base58btc character "0"');
  });
});
