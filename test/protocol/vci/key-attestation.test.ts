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

  /**
   * The EUDI wallet library from 0.12 on: one jwt proof signed with attested_keys[0], its header
   * `{alg, typ, kid: "0", key_attestation}`, and one credential expected per attested key.
   * eu-digital-identity-wallet/eudi-lib-jvm-openid4vci-kt at e1336d6631084f342f925a07f11f01162c611fd5,
   * src/main/kotlin/eu/europa/ec/eudi/openid4vci/:
   * - internal/JwtSigner.kt:75-80: the header starts with `alg`; internal/JwtProofSigners.kt:45-53:
   *   then `typ` openid4vci-proof+jwt, `kid` = the key index as a string, `key_attestation` = the JWT;
   * - internal/RequestIssuanceImpl.kt:244 and Specs.kt:172: the index is always 0
   *   (KEY_ATTESTATION_JWT_PROOF_SIGNING_KEY_INDEX); :351-366: the wallet itself checks that the proof
   *   verifies with attested_keys[0];
   * - internal/JwtProofSigners.kt:24-30: claims aud, iat, iss?, nonce?; RequestIssuanceImpl.kt:332-341:
   *   no `iss` for a pre-authorized grant without attestation-based client authentication;
   * - KeyAttestationJWT.kt:68-79: the key attestation's claims (iat, exp, attested_keys, key_storage,
   *   user_authentication, certification, nonce, status, key_storage_status), Specs.kt:51 its typ;
   *   RequestIssuanceImpl.kt:243 and :276-300: as many attested keys as the batch takes.
   */
  describe('the EUDI key_attestation header form (kid indexes attested_keys, Appendix F.1)', () => {
    const eudiAttestation = (keys: JWK[], nonce: string, alg = 'ES256') =>
      new SignJWT({
        attested_keys: keys,
        key_storage: ['iso_18045_high'],
        user_authentication: ['iso_18045_high'],
        certification: 'https://wallet-provider.example/certification',
        nonce,
        key_storage_status: {
          status: { status_list: { idx: 7, uri: 'https://wallet-provider.example/sl' } },
          exp: now() + 86_400,
        },
      })
        .setProtectedHeader({ alg, typ: 'key-attestation+jwt', kid: attester.kid })
        .setIssuedAt(now())
        .setExpirationTime(now() + 3600)
        .sign(attester.privateKey);
    /** JwtSigner.kt:75-80 + JwtProofSigners.kt:45-53, signed by attested key `signer`. */
    const eudiProof = async (signer: HolderKey, keyAttestation: string, nonce: string, kid = '0') =>
      new SignJWT({ aud: h.url, iat: now(), nonce })
        .setProtectedHeader({
          alg: 'ES256',
          typ: 'openid4vci-proof+jwt',
          kid,
          key_attestation: keyAttestation,
        })
        .sign(signer.privateKey);
    /** One fresh c_nonce, an attestation of every key, the proof signed by attested_keys[0]. */
    const signedByFirstAttested = async (keys: HolderKey[]) => {
      const nonce = await h.nonce();
      const attestation = await eudiAttestation(
        keys.map((k) => k.jwk),
        nonce,
      );
      return eudiProof(keys[0]!, attestation, nonce);
    };
    const subjectX = (c: any) =>
      JSON.parse(Buffer.from(c.credential.credentialSubject.id.slice(8), 'base64url').toString()).x;

    it('issues one credential per attested key for a proof signed by attested_keys[0]', async () => {
      const keys = [await holderKey(), await holderKey(), await holderKey()];
      const proof = await signedByFirstAttested(keys);
      const res = await ask('AgeHigh_ldp_vc', { jwt: [proof] });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.credentials.map(subjectX)).toEqual(keys.map((k) => k.jwk.x));
    });

    it('issues per attested key for the attestation proof type as EUDI sends it (Appendix F.3)', async () => {
      // RequestIssuanceImpl.kt:261-274: the key attestation alone, its nonce the c_nonce;
      // IssuanceRequestJsonMapper.kt:122-127: sent as proofs.attestation.
      const keys = [await holderKey(), await holderKey()];
      const attestationProof = await eudiAttestation(
        keys.map((k) => k.jwk),
        await h.nonce(),
      );
      const res = await ask('AgeHigh_ldp_vc', { attestation: [attestationProof] });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.credentials.map(subjectX)).toEqual(keys.map((k) => k.jwk.x));
    });

    it('refuses a kid that is no index of attested_keys, or names a key that did not sign', async () => {
      const keys = [await holderKey(), await holderKey()];
      const cases: [string, () => Promise<string>, string][] = [
        [
          'out of range',
          async () => {
            const nonce = await h.nonce();
            return eudiProof(keys[0]!, await eudiAttestation([keys[0]!.jwk], nonce), nonce, '1');
          },
          'the proof kid must be an index into the key attestation attested_keys',
        ],
        [
          'not a plain decimal index',
          async () => {
            const nonce = await h.nonce();
            return eudiProof(keys[0]!, await eudiAttestation([keys[0]!.jwk], nonce), nonce, '00');
          },
          'the proof kid must be an index into the key attestation attested_keys',
        ],
        [
          'the index of a key that did not sign',
          async () => {
            const nonce = await h.nonce();
            const att = await eudiAttestation(
              keys.map((k) => k.jwk),
              nonce,
            );
            return eudiProof(keys[0]!, att, nonce, '1');
          },
          'the proof signature is invalid',
        ],
        [
          'an attestation alg outside proof_signing_alg_values_supported',
          async () => {
            const nonce = await h.nonce();
            const es384 = await generateKeyPair('ES384');
            const att = await new SignJWT({ attested_keys: [keys[0]!.jwk], key_storage: ['iso_18045_high'] })
              .setProtectedHeader({ alg: 'ES384', typ: 'key-attestation+jwt', kid: attester.kid })
              .setIssuedAt(now())
              .setExpirationTime(now() + 3600)
              .sign(es384.privateKey);
            return eudiProof(keys[0]!, att, nonce);
          },
          'the key attestation alg is not allowed',
        ],
      ];
      for (const [name, make, description] of cases) {
        const res = await ask('AgeHigh_ldp_vc', { jwt: [await make()] });
        expect(res.status, name).toBe(400);
        expect(res.body, name).toEqual({ error: 'invalid_proof', error_description: description });
      }
      // Without key_attestation a bare "0" is no key at all (F.1: kid is then a DID URL).
      const bare = await new SignJWT({ aud: h.url, iat: now(), nonce: await h.nonce() })
        .setProtectedHeader({ alg: 'ES256', typ: 'openid4vci-proof+jwt', kid: '0' })
        .sign(keys[0]!.privateKey);
      expect((await ask('AgeCredential_ldp_vc', { jwt: [bare] })).body.error).toBe('invalid_proof');
    });

    it('refuses more attested keys than the batch size (invalid_credential_request)', async () => {
      const keys = await Promise.all(Array.from({ length: 11 }, () => holderKey()));
      const proof = await signedByFirstAttested(keys);
      const res = await ask('AgeHigh_ldp_vc', { jwt: [proof] });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        error: 'invalid_credential_request',
        error_description: 'at most 10 keys per request',
      });
    });

    it('advertises key_attestations_required only where a configuration opts in', async () => {
      const m = (await (await fetch(`${h.url}/.well-known/openid-credential-issuer`)).json()) as any;
      const configs = m.credential_configurations_supported;
      expect(configs.AgeHigh_ldp_vc.proof_types_supported.jwt.key_attestations_required).toEqual({
        key_storage: ['iso_18045_high'],
      });
      // Opt-in: a configuration without the requirement says nothing (§12.2.4: "MUST NOT be present").
      expect(configs.AgeCredential_ldp_vc.proof_types_supported.jwt).not.toHaveProperty(
        'key_attestations_required',
      );
    });
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
