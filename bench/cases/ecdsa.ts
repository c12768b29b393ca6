import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { es256Sign, es256Verify, PublicKeyCache } from '../../src/crypto/ecdsa.ts';
import type { BenchCase } from '../case.ts';

/**
 * ES256 through node:crypto, as src/crypto/ecdsa.ts does it (a bare KeyObject, DER converted to
 * JOSE's r ‖ s) against the options form (`{ key, dsaEncoding: 'ieee-p1363' }`), and a proof
 * check with the key imported from its JWK per call against one from PublicKeyCache. The input is
 * the size of a credential's JWS signing input.
 */
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = publicKey.export({ format: 'jwk' }) as { kty: string; crv: string; x: string; y: string };
const input = Buffer.alloc(900, 'e');
const signature = es256Sign(privateKey, input);
const cache = new PublicKeyCache();

const operation = (name: string, op: () => unknown, compareTo?: string): BenchCase => ({
  name,
  group: 'es256',
  setup: async () => op,
  ...(compareTo ? { compareTo } : {}),
});

export const cases: BenchCase[] = [
  operation('es256 sign, options form', () =>
    sign('sha256', input, { key: privateKey, dsaEncoding: 'ieee-p1363' }),
  ),
  operation(
    'es256 sign, bare key + DER conversion',
    () => es256Sign(privateKey, input),
    'es256 sign, options form',
  ),
  operation('es256 verify, JWK per call, options form', () =>
    verify('sha256', input, { key: jwk, format: 'jwk', dsaEncoding: 'ieee-p1363' }, signature),
  ),
  operation(
    'es256 verify, cached key + DER conversion',
    () => es256Verify(cache.get(jwk), input, signature),
    'es256 verify, JWK per call, options form',
  ),
];
