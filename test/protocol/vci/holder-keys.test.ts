import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HolderKey, holderKey, proofJwt, startVci, type VciHarness } from './harness.ts';

/**
 * Holder keys are compared by value (issue 10, item 2; SECURITY.md row 25): a batch must use
 * distinct keys, and one key spelled two ways (unused base64url bits set, padding, a leading zero
 * octet, a did:jwk wrapping either) is still one key. Non-canonical spellings are refused with
 * invalid_proof (RFC 7515 §2, RFC 7518 §2 and §6.2.1.2, RFC 7638 §3).
 */

const AGE = 'AgeCredential_ldp_vc';
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The same bytes with the unused low bits of the last base64url character set. */
function trailingBits(value: string): string {
  const last = ALPHABET.indexOf(value.at(-1)!);
  const spare = (value.length * 6) % 8; // bits of the last character that carry no data
  expect(spare).toBeGreaterThan(0);
  return value.slice(0, -1) + ALPHABET[last | 1];
}

const leadingZero = (value: string) =>
  Buffer.concat([Buffer.alloc(1), Buffer.from(value, 'base64url')]).toString('base64url');

describe('holder keys by value', () => {
  let h: VciHarness;
  let token: string;
  let attester: { privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']; kid: string };
  beforeAll(async () => {
    const trusted = await generateKeyPair('ES256', { extractable: true });
    attester = { privateKey: trusted.privateKey, kid: 'wallet-provider-keys' };
    h = await startVci({
      overrides: {
        vci: {
          keyAttestationTrustedJwks: [
            { ...(await exportJWK(trusted.publicKey)), kid: attester.kid, alg: 'ES256' },
          ],
        },
      },
    });
    const who = await h.person();
    token = h.mintToken({
      accountId: who.accountId,
      credentialConfigurationIds: [AGE],
      consentedClaims: ['birthdate'],
    });
  });
  afterAll(() => h.stop());

  const now = () => Math.floor(h.app.clock.now() / 1000);
  const ask = (proofs: Record<string, string[]>) =>
    h.post('/credential', { credential_configuration_id: AGE, proofs }, { authorization: `Bearer ${token}` });
  const proofWith = async (key: HolderKey, jwk: JWK, nonce: string) =>
    proofJwt(key, h.url, nonce, { header: { jwk }, iat: now() });
  const didJwkProof = async (key: HolderKey, jwk: JWK, nonce: string) =>
    proofJwt(key, h.url, nonce, {
      binding: 'did:key',
      header: { kid: `did:jwk:${Buffer.from(JSON.stringify(jwk)).toString('base64url')}#0` },
      iat: now(),
    });

  // OpenID4VCI 1.0 §8.3.1.2: invalid_proof, saying which member is not canonical.
  const notCanonical = (why: string) => ({
    error: 'invalid_proof',
    error_description: `the proof key is not canonically encoded: ${why}`,
  });
  const respellings: [string, (jwk: JWK) => JWK, string][] = [
    [
      'unused bits set in the last character of x',
      (jwk) => ({ ...jwk, x: trailingBits(jwk.x!) }),
      '"x" is not the canonical base64url of its bytes',
    ],
    [
      'unused bits set in the last character of y',
      (jwk) => ({ ...jwk, y: trailingBits(jwk.y!) }),
      '"y" is not the canonical base64url of its bytes',
    ],
    ['base64 padding on x', (jwk) => ({ ...jwk, x: `${jwk.x}=` }), '"x" must be unpadded base64url'],
    [
      'a leading zero octet on x',
      (jwk) => ({ ...jwk, x: leadingZero(jwk.x!) }),
      '"x" must be 32 octets for curve P-256',
    ],
  ];

  for (const [name, respell, why] of respellings) {
    it(`refuses a batch that reuses one EC key spelled with ${name} (invalid_proof)`, async () => {
      const key = await holderKey('ES256');
      const nonce = await h.nonce();
      const res = await ask({
        jwt: [await proofWith(key, key.jwk, nonce), await proofWith(key, respell(key.jwk), nonce)],
      });
      expect(res.status, res.text).toBe(400);
      expect(res.body).toEqual(notCanonical(why));
    });

    it(`refuses a single proof whose jwk has ${name} (invalid_proof), and the nonce stays usable`, async () => {
      const key = await holderKey('ES256');
      const nonce = await h.nonce();
      const res = await ask({ jwt: [await proofWith(key, respell(key.jwk), nonce)] });
      expect(res.status, res.text).toBe(400);
      expect(res.body).toEqual(notCanonical(why));
      expect((await ask({ jwt: [await proofWith(key, key.jwk, nonce)] })).status).toBe(200);
    });
  }

  it('refuses a batch that reuses an Ed25519 key with unused bits set, and through a did:jwk', async () => {
    const key = await holderKey('EdDSA');
    const nonce = await h.nonce();
    const respelled = { ...key.jwk, x: trailingBits(key.jwk.x!) };
    for (const second of [await proofWith(key, respelled, nonce), await didJwkProof(key, respelled, nonce)]) {
      const res = await ask({ jwt: [await proofWith(key, key.jwk, nonce), second] });
      expect(res.status, res.text).toBe(400);
      expect(res.body).toEqual(notCanonical('"x" is not the canonical base64url of its bytes'));
    }
  });

  it('still issues a batch on distinct canonical keys (jwk and did:jwk)', async () => {
    const [a, b] = [await holderKey('ES256'), await holderKey('EdDSA')];
    const nonce = await h.nonce();
    const res = await ask({ jwt: [await proofWith(a, a.jwk, nonce), await didJwkProof(b, b.jwk, nonce)] });
    expect(res.status, res.text).toBe(200);
    expect(res.body.credentials).toHaveLength(2);
  });

  it('refuses a key attestation naming one key twice in two spellings (invalid_proof)', async () => {
    const key = await holderKey('ES256');
    const attest = (keys: JWK[], nonce: string) =>
      new SignJWT({ attested_keys: keys, key_storage: ['iso_18045_high'], nonce })
        .setProtectedHeader({ alg: 'ES256', typ: 'key-attestation+jwt', kid: attester.kid })
        .setIssuedAt(now())
        .setExpirationTime(now() + 600)
        .sign(attester.privateKey);
    const twice = await ask({
      attestation: [await attest([key.jwk, { ...key.jwk, x: trailingBits(key.jwk.x!) }], await h.nonce())],
    });
    expect(twice.status, twice.text).toBe(400);
    expect(twice.body).toEqual({
      error: 'invalid_proof',
      error_description:
        'an attested key is not canonically encoded: "x" is not the canonical base64url of its bytes',
    });
    const once = await ask({ attestation: [await attest([key.jwk], await h.nonce())] });
    expect(once.status, once.text).toBe(200);
  });
});
