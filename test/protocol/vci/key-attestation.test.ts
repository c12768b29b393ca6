import { webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as x509 from '../../../src/credentials/x509/x509.ts';
import { type HolderKey, holderKey, proofJwt, startVci, UNKNOWN_NONCE, type VciHarness } from './harness.ts';

/**
 * Key attestations (OpenID4VCI 1.0 Appendix D; SECURITY.md row 25): a `key_attestation` in a jwt
 * proof and the `attestation` proof type. A test wallet provider is trusted by `kid`, a test CA
 * anchors `x5c` chains; every failure is invalid_proof.
 */
describe('key attestations', () => {
  let h: VciHarness;
  let token: string;
  let attester: { privateKey: CryptoKey; kid: string };
  let untrusted: { privateKey: CryptoKey };
  let leafKey: CryptoKeyPair;
  let leafDer: string;
  const now = () => Math.floor(h.app.clock.now() / 1000);

  beforeAll(async () => {
    const trusted = await generateKeyPair('ES256', { extractable: true });
    const trustedJwk = { ...(await exportJWK(trusted.publicKey)), kid: 'wallet-provider-1', alg: 'ES256' };
    attester = { privateKey: trusted.privateKey as CryptoKey, kid: 'wallet-provider-1' };
    untrusted = { privateKey: (await generateKeyPair('ES256')).privateKey as CryptoKey };

    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const caKeys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
    const notBefore = new Date(Date.now() - 86_400_000);
    const notAfter = new Date(Date.now() + 30 * 86_400_000);
    const ca = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'CN=Test Attestation CA',
      keys: caKeys,
      signingAlgorithm: alg,
      notBefore,
      notAfter,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
      ],
    });
    leafKey = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
    const leaf = await x509.X509CertificateGenerator.create({
      subject: 'CN=Key Storage Attester',
      issuer: ca.subject,
      publicKey: leafKey.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: alg,
      notBefore,
      notAfter,
      serialNumber: '02',
    });
    leafDer = Buffer.from(leaf.rawData).toString('base64');

    h = await startVci({
      overrides: {
        vci: { keyAttestationTrustedJwks: [trustedJwk], keyAttestationTrustedCaPems: [ca.toString('pem')] },
      },
    });
    const base = (await h.admin('GET', '/credential-configurations/proof-of-age')).body;
    const created = await h.admin('POST', '/credential-configurations', {
      ...base,
      id: 'age-high',
      version: undefined,
      retired: undefined,
      scope: 'age_high',
      formats: { ldp_vc: { configurationId: 'AgeHigh_ldp_vc' } },
      binding: { ...base.binding, keyAttestationsRequired: { key_storage: ['iso_18045_high'] } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const who = await h.person();
    token = h.mintToken({
      accountId: who.accountId,
      credentialConfigurationIds: ['AgeCredential_ldp_vc', 'AgeHigh_ldp_vc'],
      consentedClaims: ['birthdate'],
    });
  });
  afterAll(() => h.stop());

  const attestation = (
    keys: JWK[],
    opts: {
      signer?: CryptoKey;
      kid?: string;
      x5c?: string[];
      nonce?: string;
      exp?: number;
      level?: string;
    } = {},
  ) =>
    new SignJWT({
      attested_keys: keys,
      key_storage: [opts.level ?? 'iso_18045_high'],
      user_authentication: ['iso_18045_high'],
      ...(opts.nonce ? { nonce: opts.nonce } : {}),
    })
      .setProtectedHeader({
        alg: 'ES256',
        typ: 'key-attestation+jwt',
        ...(opts.x5c ? { x5c: opts.x5c } : { kid: opts.kid ?? attester.kid }),
      })
      .setIssuedAt(now())
      .setExpirationTime(opts.exp ?? now() + 3600)
      .sign(opts.signer ?? attester.privateKey);

  const ask = (id: string, proofs: Record<string, string[]>) =>
    h.post('/credential', { credential_configuration_id: id, proofs }, { authorization: `Bearer ${token}` });
  const withAttestation = async (key: HolderKey, att: string, nonce?: string) =>
    proofJwt(key, h.url, nonce ?? (await h.nonce()), { iat: now(), header: { key_attestation: att } });

  it('advertises key_attestations_required and the attestation proof type', async () => {
    const m = (await (await fetch(`${h.url}/.well-known/openid-credential-issuer`)).json()) as any;
    expect(m.credential_configurations_supported.AgeHigh_ldp_vc.proof_types_supported).toMatchObject({
      jwt: { key_attestations_required: { key_storage: ['iso_18045_high'] } },
      attestation: { key_attestations_required: { key_storage: ['iso_18045_high'] } },
    });
  });

  it('issues with a trusted key attestation in the jwt proof (kid and x5c)', async () => {
    const key = await holderKey();
    expect(
      (await ask('AgeHigh_ldp_vc', { jwt: [await withAttestation(key, await attestation([key.jwk]))] }))
        .status,
    ).toBe(200);
    const other = await holderKey();
    const viaChain = await attestation([other.jwk], { x5c: [leafDer], signer: leafKey.privateKey });
    const res = await ask('AgeHigh_ldp_vc', { jwt: [await withAttestation(other, viaChain)] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });

  it('issues one credential per attested key with the attestation proof type', async () => {
    const keys = [await holderKey(), await holderKey()];
    const res = await ask('AgeHigh_ldp_vc', {
      attestation: [
        await attestation(
          keys.map((k) => k.jwk),
          { nonce: await h.nonce() },
        ),
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.credentials).toHaveLength(2);
    const ids = res.body.credentials.map(
      (c: any) =>
        JSON.parse(Buffer.from(c.credential.credentialSubject.id.slice(8), 'base64url').toString()).x,
    );
    expect(ids).toEqual(keys.map((k) => k.jwk.x));
  });

  it('rejects forged, expired, foreign-key, wrong-nonce, untrusted-chain and too-weak attestations as invalid_proof', async () => {
    const key = await holderKey();
    const cases: [string, () => Promise<Record<string, string[]>>][] = [
      [
        'signed by an untrusted key',
        async () => ({
          jwt: [await withAttestation(key, await attestation([key.jwk], { signer: untrusted.privateKey }))],
        }),
      ],
      [
        'expired',
        async () => ({
          jwt: [await withAttestation(key, await attestation([key.jwk], { exp: now() - 600 }))],
        }),
      ],
      [
        'not attesting the proof key',
        async () => ({ jwt: [await withAttestation(key, await attestation([(await holderKey()).jwk]))] }),
      ],
      [
        'with a nonce other than the c_nonce',
        async () => ({
          jwt: [await withAttestation(key, await attestation([key.jwk], { nonce: 'another-nonce' }))],
        }),
      ],
      [
        'chained to an untrusted CA',
        async () => ({
          jwt: [
            await withAttestation(
              key,
              await attestation([key.jwk], { x5c: [leafDer], signer: untrusted.privateKey }),
            ),
          ],
        }),
      ],
      [
        'below the required key storage level',
        async () => ({
          jwt: [await withAttestation(key, await attestation([key.jwk], { level: 'iso_18045_basic' }))],
        }),
      ],
      [
        'missing where one is required',
        async () => ({ jwt: [await proofJwt(key, h.url, await h.nonce(), { iat: now() })] }),
      ],
      ['attestation proof without nonce', async () => ({ attestation: [await attestation([key.jwk])] })],
    ];
    // OpenID4VCI 1.0 §8.3.1.2 and Appendix D: a key attestation that does not hold is invalid_proof.
    const because: Record<string, string> = {
      'signed by an untrusted key': 'the key attestation signature is invalid',
      expired: 'the key attestation has expired',
      'not attesting the proof key': 'the key attestation does not attest the proof key',
      'with a nonce other than the c_nonce': 'the key attestation nonce is not the c_nonce of the proof',
      'chained to an untrusted CA': 'the key attestation signature is invalid',
      'below the required key storage level':
        'the attested key storage does not meet this credential requirement',
      'missing where one is required': 'this credential requires a key attestation',
      'attestation proof without nonce': 'a key attestation used as proof must carry the c_nonce',
    };
    for (const [name, make] of cases) {
      const res = await ask('AgeHigh_ldp_vc', await make());
      expect(res.status, name).toBe(400);
      expect(res.body, name).toEqual({ error: 'invalid_proof', error_description: because[name] });
    }
    // §8.3.1.2: a c_nonce this issuer never gave is invalid_nonce.
    const replay = await attestation([key.jwk], { nonce: 'never-issued' });
    expect((await ask('AgeHigh_ldp_vc', { attestation: [replay] })).body).toEqual(UNKNOWN_NONCE);
  });

  it('still checks an attestation sent where none is required', async () => {
    const key = await holderKey();
    const forged = await attestation([key.jwk], { signer: untrusted.privateKey });
    expect((await ask('AgeCredential_ldp_vc', { jwt: [await withAttestation(key, forged)] })).body).toEqual({
      error: 'invalid_proof',
      error_description: 'the key attestation signature is invalid',
    });
    expect(
      (
        await ask('AgeCredential_ldp_vc', {
          jwt: [await proofJwt(key, h.url, await h.nonce(), { iat: now() })],
        })
      ).status,
    ).toBe(200);
  });
});
