import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { compactDecrypt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  burst,
  type HolderKey,
  holderKey,
  INVALID_TOKEN_CHALLENGE,
  NO_NONCE,
  preAuthorizedCode,
  proofJwt,
  startVci,
  UNKNOWN_NONCE,
  type VciHarness,
} from './harness.ts';

const NATIONAL = 'NationalIdCredential_ldp_vc';
const AGE = 'AgeCredential_ldp_vc';

describe('credential endpoint', () => {
  let h: VciHarness;
  let token: string;
  let accountId: string;
  beforeAll(async () => {
    h = await startVci();
    const who = await h.person();
    accountId = who.accountId;
    const offer = await h.offer([NATIONAL, AGE], who.individualId);
    const code = preAuthorizedCode(offer);
    const redeemed = await h.token(code);
    expect(redeemed.status, JSON.stringify(redeemed.body)).toBe(200);
    // Tests below move the clock by hours; a test-minted token for the same grant does not expire.
    token = h.mintToken({
      accountId,
      credentialConfigurationIds: [NATIONAL, AGE],
      consentedClaims: [...new Set(['birthdate', 'given_name', 'family_name', 'name', 'gender', 'address'])],
    });
  });
  afterAll(() => h.stop());

  const now = () => Math.floor(h.app.clock.now() / 1000);
  const ask = (body: unknown, bearer = token) =>
    h.post('/credential', body, { authorization: `Bearer ${bearer}` });
  const request1 = async (key: HolderKey, tweak: Parameters<typeof proofJwt>[3] = {}, nonce?: string) => ({
    credential_configuration_id: AGE,
    proofs: { jwt: [await proofJwt(key, h.url, nonce ?? (await h.nonce()), tweak)] },
  });

  describe('nonce endpoint (§7)', () => {
    it('answers a fresh authenticated c_nonce with no-store, and stores nothing for it', async () => {
      const used = h.app.services.store.collection({ name: 'vci_nonces' });
      const before = (await used.find({})).length;
      const res = await h.post('/nonce', undefined);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      // Version, expiry, 128 random bits, 128-bit MAC.
      const raw = Buffer.from(res.body.c_nonce, 'base64url');
      expect(raw.length).toBe(37);
      expect(raw.readUInt32BE(1)).toBe(Math.ceil(h.app.clock.now() / 1000) + 300);
      expect(await h.nonce()).not.toBe(res.body.c_nonce);
      expect((await used.find({})).length).toBe(before);
    });

    it('refuses a nonce it did not make (any byte changed, other encodings) and an expired one', async () => {
      const key = await holderKey();
      const nonce = await h.nonce();
      const raw = Buffer.from(nonce, 'base64url');
      const forged = [1, 4, 10, 30, 36].map((i) => {
        const copy = Buffer.from(raw);
        copy[i]! ^= 0x01;
        return copy.toString('base64url');
      });
      // The same bytes spelled differently (padding) are not a second nonce.
      for (const bad of [...forged, `${nonce}=`, nonce.slice(0, -1), '']) {
        const res = await ask(await request1(key, {}, bad));
        expect(res.status, bad).toBe(400);
        // An empty nonce leaves the claim out of the proof altogether.
        expect(res.body, bad).toEqual(bad === '' ? NO_NONCE : UNKNOWN_NONCE);
      }
      expect((await ask(await request1(key, {}, nonce))).status).toBe(200);

      const late = await h.nonce();
      h.app.clock.advanceSeconds(301);
      const expired = await ask(await request1(key, { iat: now() }, late));
      h.app.clock.advanceSeconds(-301);
      expect(expired.status).toBe(400);
      expect(expired.body).toEqual(UNKNOWN_NONCE);
    });
  });

  describe('proof replay and bad proofs (SECURITY.md row 23)', () => {
    it('rejects the same proof a second time with invalid_nonce', async () => {
      const key = await holderKey();
      const body = await request1(key);
      expect((await ask(body)).status).toBe(200);
      const again = await ask(body);
      expect(again.status).toBe(400);
      expect(again.body).toEqual(UNKNOWN_NONCE);
    });

    it('issues exactly one credential for a 20-way burst of the same proof', async () => {
      const key = await holderKey();
      const body = await request1(key);
      const results = await burst(20, () => ask(body));
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      const refused = results.filter((r) => r.status !== 200);
      expect(refused).toHaveLength(19);
      for (const r of refused)
        expect({ status: r.status, body: r.body }).toEqual({ status: 400, body: UNKNOWN_NONCE });
    });

    it('rejects an expired nonce and a nonce this issuer never gave', async () => {
      const key = await holderKey();
      const nonce = await h.nonce();
      h.app.clock.advanceSeconds(301);
      const fresh = h.mintToken({
        accountId,
        credentialConfigurationIds: [AGE],
        consentedClaims: ['birthdate'],
      });
      const expired = await ask(
        await request1(key, { iat: Math.floor(h.app.clock.now() / 1000) }, nonce),
        fresh,
      );
      expect(expired.body).toEqual(UNKNOWN_NONCE);
      const foreign = await ask(
        await request1(
          key,
          { iat: Math.floor(h.app.clock.now() / 1000) },
          'bm9uY2UtZnJvbS1hbm90aGVyLWlzc3Vlcg',
        ),
        fresh,
      );
      expect(foreign.body).toEqual(UNKNOWN_NONCE);
      const missing = await ask(
        {
          credential_configuration_id: AGE,
          proofs: {
            jwt: [await proofJwt(key, h.url, undefined, { iat: Math.floor(h.app.clock.now() / 1000) })],
          },
        },
        fresh,
      );
      expect(missing.body).toEqual(NO_NONCE);
    });

    const bad: [string, (key: HolderKey) => Promise<string>][] = [
      ['aud is another issuer', (k) => proofJwt(k, 'https://other.example', 'n', { iat: now() })],
      ['iat far in the past', (k) => proofJwt(k, h.url, 'n', { iat: now() - 3600 })],
      ['iat in the future', (k) => proofJwt(k, h.url, 'n', { iat: now() + 3600 })],
      ['typ is JWT', (k) => proofJwt(k, h.url, 'n', { iat: now(), header: { typ: 'JWT' } })],
      [
        'both kid and jwk',
        (k) => proofJwt(k, h.url, 'n', { iat: now(), header: { kid: `${k.did}#${k.did.slice(8)}` } }),
      ],
      [
        'a private key in jwk',
        async (_k) => {
          const { privateKey } = await generateKeyPair('ES256', { extractable: true });
          const priv = await exportJWK(privateKey);
          return new SignJWT({ aud: h.url, nonce: 'n' })
            .setProtectedHeader({ alg: 'ES256', typ: 'openid4vci-proof+jwt', jwk: priv })
            .setIssuedAt(now())
            .sign(privateKey);
        },
      ],
      [
        'iss is not the client_id',
        (k) => proofJwt(k, h.url, 'n', { iat: now(), payload: { iss: 'someone-else' } }),
      ],
      [
        'kid with an unsupported DID method',
        (k) =>
          proofJwt(k, h.url, 'n', {
            iat: now(),
            binding: 'did:key',
            header: { kid: 'did:web:evil.example#k' },
          }),
      ],
      [
        'a signature by another key',
        async (k) => {
          const other = await holderKey();
          const jwt = await proofJwt(other, h.url, 'n', { iat: now(), header: { jwk: k.jwk } });
          return jwt;
        },
      ],
    ];
    // The description each bad proof gets (OpenID4VCI 1.0 §8.3.1.2: invalid_proof).
    const because: Record<string, string> = {
      'aud is another issuer': 'the proof aud must be the credential issuer identifier',
      'iat far in the past': 'the proof iat is too old',
      'iat in the future': 'the proof iat is in the future',
      'typ is JWT': 'the proof typ must be openid4vci-proof+jwt',
      'both kid and jwk': 'the proof header must carry exactly one of kid, jwk and x5c',
      'a private key in jwk': 'the proof jwk must be a public asymmetric key',
      'iss is not the client_id': 'the proof iss must be the client_id of the access token',
      'kid with an unsupported DID method': 'kid must be a DID URL of a supported method (did:key, did:jwk)',
      'a signature by another key': 'the proof signature is invalid',
    };
    for (const [name, make] of bad) {
      it(`rejects a proof with ${name} as invalid_proof, without spending the nonce`, async () => {
        const key = await holderKey();
        const nonce = await h.nonce();
        const proof = await make(key);
        const res = await ask(
          { credential_configuration_id: AGE, proofs: { jwt: [proof] } },
          name === 'iss is not the client_id'
            ? h.mintToken({
                accountId,
                clientId: 'wallet-1',
                credentialConfigurationIds: [AGE],
                consentedClaims: ['birthdate'],
              })
            : token,
        );
        expect(res.status).toBe(400);
        expect(res.body).toEqual({ error: 'invalid_proof', error_description: because[name] });
        // The nonce fetched for this attempt is still good.
        expect((await ask(await request1(key, { iat: now() }, nonce))).status).toBe(200);
      });
    }

    it('rejects alg none and HS256 proofs', async () => {
      const ALG_NOT_ALLOWED = 'the proof alg must be one of ES256, EdDSA, Ed25519';
      const key = await holderKey();
      const header = Buffer.from(
        JSON.stringify({ alg: 'none', typ: 'openid4vci-proof+jwt', jwk: key.jwk }),
      ).toString('base64url');
      const payload = Buffer.from(
        JSON.stringify({ aud: h.url, iat: now(), nonce: await h.nonce() }),
      ).toString('base64url');
      expect(
        (await ask({ credential_configuration_id: AGE, proofs: { jwt: [`${header}.${payload}.`] } })).body,
      ).toEqual({ error: 'invalid_proof', error_description: ALG_NOT_ALLOWED });
      const hs = await new SignJWT({ aud: h.url, nonce: await h.nonce() })
        .setProtectedHeader({
          alg: 'HS256',
          typ: 'openid4vci-proof+jwt',
          jwk: { kty: 'oct', k: 'c2VjcmV0' } as never,
        })
        .setIssuedAt(now())
        .sign(new TextEncoder().encode('secret-secret-secret-secret-32by'));
      expect((await ask({ credential_configuration_id: AGE, proofs: { jwt: [hs] } })).body).toEqual({
        error: 'invalid_proof',
        error_description: ALG_NOT_ALLOWED,
      });
    });

    it('rejects a request without a proof for a key-bound credential', async () => {
      const res = await ask({ credential_configuration_id: AGE });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        error: 'invalid_proof',
        error_description: 'this credential is bound to a key: a proof is required',
      });
    });
  });

  describe('holder binding and batches (SECURITY.md row 25)', () => {
    it('binds each credential of a batch to its own proof key (did:key subject, did:jwk, jwk)', async () => {
      const keys = [await holderKey('EdDSA'), await holderKey('ES256'), await holderKey('ES256')];
      const nonce = await h.nonce();
      const jwts = [
        await proofJwt(keys[0]!, h.url, nonce, { binding: 'did:key', iat: now() }),
        await proofJwt(keys[1]!, h.url, nonce, { iat: now() }),
        await proofJwt(keys[2]!, h.url, nonce, {
          iat: now(),
          header: {
            kid: `did:jwk:${Buffer.from(JSON.stringify(keys[2]!.jwk)).toString('base64url')}#0`,
            jwk: undefined,
          },
        }),
      ];
      const res = await ask({ credential_configuration_id: AGE, proofs: { jwt: jwts } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const subjects = res.body.credentials.map(
        (c: { credential: { credentialSubject: { id: string } } }) => c.credential.credentialSubject.id,
      );
      expect(subjects[0]).toBe(keys[0]!.did);
      expect(subjects[1]).toMatch(/^did:jwk:/);
      expect(JSON.parse(Buffer.from(subjects[1].slice(8), 'base64url').toString())).toMatchObject({
        x: keys[1]!.jwk.x,
        y: keys[1]!.jwk.y,
      });
      expect(JSON.parse(Buffer.from(subjects[2].slice(8), 'base64url').toString())).toMatchObject({
        x: keys[2]!.jwk.x,
      });
      expect(new Set(subjects).size).toBe(3);
      const ledger = await h.admin('GET', `/ledger?notification_id=${res.body.notification_id}`);
      expect(ledger.body.records).toHaveLength(3);
      expect(JSON.stringify(ledger.body)).not.toMatch(/Layla|Mansour|1994|ageOver/);
    });

    it('accepts a proof key carried in an x5c certificate', async () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const { X509CertificateGenerator } = await import('../../../src/credentials/x509/x509.ts');
      const { webcrypto } = await import('node:crypto');
      const cryptoKeys = {
        privateKey: await webcrypto.subtle.importKey(
          'pkcs8',
          privateKey.export({ format: 'der', type: 'pkcs8' }),
          { name: 'ECDSA', namedCurve: 'P-256' },
          true,
          ['sign'],
        ),
        publicKey: await webcrypto.subtle.importKey(
          'spki',
          publicKey.export({ format: 'der', type: 'spki' }),
          { name: 'ECDSA', namedCurve: 'P-256' },
          true,
          ['verify'],
        ),
      };
      const cert = await X509CertificateGenerator.createSelfSigned({
        name: 'CN=wallet key',
        keys: cryptoKeys,
        signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 3_600_000),
      });
      const der = Buffer.from(cert.rawData).toString('base64');
      expect(new X509Certificate(Buffer.from(der, 'base64')).publicKey.asymmetricKeyType).toBe('ec');
      const jwt = await new SignJWT({ aud: h.url, nonce: await h.nonce() })
        .setProtectedHeader({ alg: 'ES256', typ: 'openid4vci-proof+jwt', x5c: [der] })
        .setIssuedAt(now())
        .sign(privateKey);
      const res = await ask({ credential_configuration_id: AGE, proofs: { jwt: [jwt] } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    });

    it('refuses a batch that reuses a key, and more proofs than the batch size', async () => {
      const key = await holderKey();
      const nonce = await h.nonce();
      const twice = [
        await proofJwt(key, h.url, nonce, { iat: now() }),
        await proofJwt(key, h.url, nonce, { iat: now() }),
      ];
      expect((await ask({ credential_configuration_id: AGE, proofs: { jwt: twice } })).body).toEqual({
        error: 'invalid_proof',
        error_description: 'every proof in a batch must use a distinct key',
      });
      const many = await Promise.all(
        Array.from({ length: 11 }, async () => proofJwt(await holderKey(), h.url, nonce, { iat: now() })),
      );
      expect((await ask({ credential_configuration_id: AGE, proofs: { jwt: many } })).body).toEqual({
        error: 'invalid_credential_request',
        error_description: 'at most 10 proofs per request',
      });
    });
  });

  describe('time claims (SECURITY.md row 36)', () => {
    it('rounds validFrom and the proof time to the hour, so two issuances minutes apart look alike', async () => {
      h.app.clock.set(Date.UTC(2026, 10, 25, 10, 7, 13));
      const a = await ask(await request1(await holderKey(), { iat: now() }));
      h.app.clock.advanceSeconds(17 * 60);
      const b = await ask(await request1(await holderKey(), { iat: now() }));
      const [ca, cb] = [a.body.credentials[0].credential, b.body.credentials[0].credential];
      expect(ca.validFrom).toBe('2026-11-25T10:00:00Z');
      expect(cb.validFrom).toBe(ca.validFrom);
      expect(ca.validUntil).toBe('2027-11-25T10:00:00Z');
      expect(ca.proof.created).toBe(cb.proof.created);
    });
  });

  describe('response encryption (SECURITY.md row 37)', () => {
    it('answers a compact JWE the wallet decrypts (ECDH-ES, A256GCM)', async () => {
      const { publicKey, privateKey } = await generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
      const jwk = { ...(await exportJWK(publicKey)), alg: 'ECDH-ES', use: 'enc', kid: 'w1' };
      const res = await ask({
        ...(await request1(await holderKey(), { iat: now() })),
        credential_response_encryption: { jwk, enc: 'A256GCM' },
      });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/jwt/);
      const { plaintext, protectedHeader } = await compactDecrypt(res.text, privateKey);
      expect(protectedHeader).toMatchObject({ alg: 'ECDH-ES', enc: 'A256GCM', kid: 'w1' });
      expect(JSON.parse(new TextDecoder().decode(plaintext)).credentials).toHaveLength(1);
    });

    it('answers RSA-OAEP-256 with A128GCM', async () => {
      const { publicKey, privateKey } = await generateKeyPair('RSA-OAEP-256', { extractable: true });
      const jwk = { ...(await exportJWK(publicKey)), alg: 'RSA-OAEP-256' };
      const res = await ask({
        ...(await request1(await holderKey(), { iat: now() })),
        credential_response_encryption: { jwk, enc: 'A128GCM' },
      });
      const { plaintext } = await compactDecrypt(res.text, privateKey);
      expect(JSON.parse(new TextDecoder().decode(plaintext)).notification_id).toEqual(expect.any(String));
    });

    const badEncryption: [string, () => Promise<Record<string, unknown>>][] = [
      [
        'an unsupported alg',
        async () => ({
          jwk: { ...(await exportJWK((await generateKeyPair('ECDH-ES')).publicKey)), alg: 'ECDH-ES+A128KW' },
          enc: 'A256GCM',
        }),
      ],
      [
        'an unsupported enc',
        async () => ({
          jwk: { ...(await exportJWK((await generateKeyPair('ECDH-ES')).publicKey)), alg: 'ECDH-ES' },
          enc: 'A128CBC-HS256',
        }),
      ],
      [
        'a private key',
        async () => ({
          jwk: {
            ...(await exportJWK((await generateKeyPair('ECDH-ES', { extractable: true })).privateKey)),
            alg: 'ECDH-ES',
          },
          enc: 'A256GCM',
        }),
      ],
      ['no jwk', async () => ({ enc: 'A256GCM' })],
    ];
    // OpenID4VCI 1.0 §8.3.1.2: invalid_encryption_parameters, with the reason.
    const encryptionBecause: Record<string, string> = {
      'an unsupported alg': "the key's alg must be one of ECDH-ES, RSA-OAEP-256",
      'an unsupported enc': 'enc must be one of A256GCM, A128GCM',
      'a private key': 'credential_response_encryption.jwk must be a public key',
      'no jwk': 'credential_response_encryption.jwk is required',
    };
    for (const [name, make] of badEncryption) {
      it(`refuses ${name} with invalid_encryption_parameters, never plaintext`, async () => {
        const res = await ask({
          ...(await request1(await holderKey(), { iat: now() })),
          credential_response_encryption: await make(),
        });
        expect(res.status).toBe(400);
        expect(res.body).toEqual({
          error: 'invalid_encryption_parameters',
          error_description: encryptionBecause[name],
        });
      });
    }
  });

  describe('authorization (SECURITY.md row 38)', () => {
    it('answers invalid_token without or with a bad access token', async () => {
      const none = await h.post('/credential', await request1(await holderKey(), { iat: now() }));
      // RFC 6750 §3.1: no credentials -> 401 with a bare Bearer challenge; a bad token -> invalid_token.
      expect(none.status).toBe(401);
      expect(none.body).toEqual({ error: 'invalid_token', error_description: 'an access token is required' });
      expect(none.headers['www-authenticate']).toBe(
        'DPoP algs="ES256 EdDSA Ed25519 PS256 RS256", Bearer realm="credential"',
      );
      const forged = await ask(await request1(await holderKey(), { iat: now() }), 'forged');
      expect(forged.status).toBe(401);
      expect(forged.body).toEqual({
        error: 'invalid_token',
        error_description: 'the access token is invalid, expired or revoked',
      });
      expect(forged.headers['www-authenticate']).toBe(INVALID_TOKEN_CHALLENGE);
    });

    it('issues nothing for an account deleted after its token was issued', async () => {
      const gone = await h.person();
      const offer = await h.offer([AGE], gone.individualId);
      const code = preAuthorizedCode(offer);
      const redeemed = await h.token(code);
      expect(redeemed.status).toBe(200);
      expect((await h.admin('DELETE', `/identities/${gone.accountId}`)).status).toBe(204);
      const res = await ask(await request1(await holderKey(), { iat: now() }), redeemed.body.access_token);
      // OpenID4VCI 1.0 §8.3.1.2: credential_request_denied is a 400 answer.
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        error: 'credential_request_denied',
        error_description: 'the identity system no longer holds data for this person',
      });
    });

    it('refuses configurations the token does not cover, unknown ones and __proto__', async () => {
      const narrow = h.mintToken({
        accountId,
        credentialConfigurationIds: [AGE],
        consentedClaims: ['birthdate'],
      });
      const res = await ask(
        {
          credential_configuration_id: NATIONAL,
          proofs: { jwt: [await proofJwt(await holderKey(), h.url, await h.nonce(), { iat: now() })] },
        },
        narrow,
      );
      expect(res.body).toEqual({
        error: 'unknown_credential_configuration',
        error_description: 'the access token does not cover this credential configuration',
      });
      for (const id of ['NoSuchCredential', '__proto__', 'constructor', 'toString']) {
        const r = await ask({ credential_configuration_id: id, proofs: { jwt: ['a.b.c'] } });
        expect(r.status).toBe(400);
        expect(r.body, id).toEqual({
          error: 'unknown_credential_configuration',
          error_description: 'the credential_configuration_id is not supported',
        });
      }
      const ident = await ask({ credential_identifier: 'nope', proofs: { jwt: ['a.b.c'] } });
      expect(ident.body).toEqual({
        error: 'unknown_credential_identifier',
        error_description: 'the credential_identifier is not known for this access token',
      });
      const both = await ask({ credential_identifier: 'x', credential_configuration_id: AGE });
      expect(both.body).toEqual({
        error: 'invalid_credential_request',
        error_description:
          'credential_identifier must not be combined with credential_configuration_id or format',
      });
    });

    it('issues only consented claims: a missing mandatory claim is credential_request_denied', async () => {
      const noConsent = h.mintToken({ accountId, credentialConfigurationIds: [AGE], consentedClaims: [] });
      const res = await ask(await request1(await holderKey(), { iat: now() }), noConsent);
      expect(res.body).toEqual({
        error: 'credential_request_denied',
        error_description:
          'the identity data released for this person does not cover the claims this credential requires',
      });
      const partial = h.mintToken({
        accountId,
        credentialConfigurationIds: [NATIONAL],
        consentedClaims: ['given_name', 'family_name', 'birthdate'],
      });
      const ok = await ask(
        {
          credential_configuration_id: NATIONAL,
          proofs: { jwt: [await proofJwt(await holderKey(), h.url, await h.nonce(), { iat: now() })] },
        },
        partial,
      );
      expect(ok.status).toBe(200);
      const subject = ok.body.credentials[0].credential.credentialSubject;
      expect(subject.givenName).toBe('Layla');
      expect(subject.address).toBeUndefined();
      expect(subject.fullName).toBeUndefined();
    });

    it('issues with credential_identifier from authorization_details', async () => {
      const t = h.mintToken({
        accountId,
        credentialConfigurationIds: [AGE],
        consentedClaims: ['birthdate'],
        authorizationDetails: [
          { type: 'openid_credential', credential_configuration_id: AGE, credential_identifiers: ['age-1'] },
        ],
      });
      const res = await ask(
        {
          credential_identifier: 'age-1',
          proofs: { jwt: [await proofJwt(await holderKey(), h.url, await h.nonce(), { iat: now() })] },
        },
        t,
      );
      expect(res.status).toBe(200);
    });
  });

  describe('draft 13 request shape', () => {
    it('answers {credential, c_nonce} to format + credential_definition + proof', async () => {
      const res = await ask({
        format: 'ldp_vc',
        credential_definition: {
          '@context': ['https://www.w3.org/ns/credentials/v2'],
          type: ['VerifiableCredential', 'AgeCredential'],
        },
        proof: {
          proof_type: 'jwt',
          jwt: await proofJwt(await holderKey(), h.url, await h.nonce(), { iat: now() }),
        },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.credential.type).toEqual(['VerifiableCredential', 'AgeCredential']);
      expect(res.body.c_nonce).toEqual(expect.any(String));
      expect(res.body.c_nonce_expires_in).toBe(300);
      expect(res.body.credentials).toBeUndefined();
    });

    it('answers invalid_proof with a fresh c_nonce when the draft-13 proof has no usable nonce', async () => {
      const res = await ask({
        format: 'ldp_vc',
        credential_definition: { type: ['VerifiableCredential', 'AgeCredential'] },
        proof: {
          proof_type: 'jwt',
          jwt: await proofJwt(await holderKey(), h.url, undefined, { iat: now() }),
        },
      });
      expect(res.body).toEqual({
        error: 'invalid_proof',
        error_description: 'the proof must carry a c_nonce from the nonce endpoint',
        c_nonce: expect.any(String),
        c_nonce_expires_in: 300,
      });
      const retry = await ask({
        format: 'ldp_vc',
        credential_definition: { type: ['VerifiableCredential', 'AgeCredential'] },
        proof: {
          proof_type: 'jwt',
          jwt: await proofJwt(await holderKey(), h.url, res.body.c_nonce, { iat: now() }),
        },
      });
      expect(retry.status).toBe(200);
    });

    it('names an unknown type unsupported_credential_type', async () => {
      const res = await ask({
        format: 'ldp_vc',
        credential_definition: { type: ['VerifiableCredential', 'Nope'] },
        proof: { proof_type: 'jwt', jwt: 'a.b.c' },
      });
      expect(res.body).toEqual({
        error: 'unsupported_credential_type',
        error_description: 'no credential of this type is offered in this format',
      });
    });
  });

  describe('notification endpoint (§11)', () => {
    it('records credential_accepted in the ledger and answers 204; unknown ids are invalid_notification_id', async () => {
      const issued = await ask(await request1(await holderKey(), { iat: now() }));
      const notify = (body: unknown, bearer = token) =>
        h.post('/notification', body, { authorization: `Bearer ${bearer}` });
      const res = await notify({
        notification_id: issued.body.notification_id,
        event: 'credential_accepted',
      });
      expect(res.status).toBe(204);
      expect(
        (await notify({ notification_id: issued.body.notification_id, event: 'credential_accepted' })).status,
      ).toBe(204);
      const ledger = await h.admin('GET', `/ledger?notification_id=${issued.body.notification_id}`);
      expect(ledger.body.records[0].event).toBe('credential_accepted');
      // OpenID4VCI 1.0 §11.3: invalid_notification_id / invalid_notification_request, status 400.
      const unknown = await notify({ notification_id: 'unknown', event: 'credential_deleted' });
      expect(unknown.status).toBe(400);
      expect(unknown.body).toEqual({
        error: 'invalid_notification_id',
        error_description: 'the notification_id is not known for this access token',
      });
      const stolen = await notify({
        notification_id: issued.body.notification_id,
        event: 'credential_stolen',
      });
      expect(stolen.status).toBe(400);
      expect(stolen.body).toEqual({
        error: 'invalid_notification_request',
        error_description: 'event must be credential_accepted, credential_failure or credential_deleted',
      });
      const other = h.mintToken({
        accountId,
        credentialConfigurationIds: [AGE],
        consentedClaims: ['birthdate'],
      });
      expect(
        (await notify({ notification_id: issued.body.notification_id, event: 'credential_deleted' }, other))
          .body,
      ).toEqual(unknown.body);
    });
  });

  describe('revocation through the admin ledger', () => {
    it('revokes one credential: the independent verifier sees it revoked', async () => {
      const { verifyLdpVc } = await import('../../interop/verifiers.ts');
      const issued = await ask(await request1(await holderKey(), { iat: now() }));
      const vc = issued.body.credentials[0].credential;
      const ledger = await h.admin('GET', `/ledger?notification_id=${issued.body.notification_id}`);
      const id = ledger.body.records[0]._id;
      expect((await h.admin('POST', `/ledger/${id}/revoke`)).body.status).toBe('revoked');
      const result = await verifyLdpVc(vc, h.url, new Date(h.app.clock.now()));
      expect(result.revoked).toBe(true);
    });
  });

  describe('deferred issuance (§9)', () => {
    it('answers 202 with a transaction_id while the registry is pending, then the credential once', async () => {
      const who = await h.person({ kyc_pending: true });
      const offer = await h.offer([AGE], who.individualId);
      const code = preAuthorizedCode(offer);
      const t = (await h.token(code)).body.access_token;
      const first = await ask(await request1(await holderKey(), { iat: now() }), t);
      expect(first.status).toBe(202);
      expect(first.body).toEqual({ transaction_id: expect.any(String), interval: 5 });
      const poll = (bearer = t) =>
        h.post(
          '/deferred_credential',
          { transaction_id: first.body.transaction_id },
          { authorization: `Bearer ${bearer}` },
        );
      // OpenID4VCI 1.0 §9.2: still pending -> 202 with the same transaction_id and an interval.
      const pending = await poll();
      expect(pending.status).toBe(202);
      expect(pending.body).toEqual({ transaction_id: first.body.transaction_id, interval: 5 });
      // OpenID4VCI 1.0 §9.3: another holder's transaction_id is invalid_transaction_id.
      const foreign = await poll(token);
      expect(foreign.status).toBe(400);
      expect(foreign.body).toEqual({
        error: 'invalid_transaction_id',
        error_description: 'the transaction_id is unknown, expired or was issued to another access token',
      });
      expect((await h.admin('PATCH', `/identities/${who.accountId}`, { kyc_pending: false })).status).toBe(
        200,
      );
      const done = await poll();
      expect(done.status).toBe(200);
      expect(done.body.credentials[0].credential.credentialSubject.ageOver18).toBe(true);
      // A transaction answered once is gone (§9.3).
      expect((await poll()).body).toEqual(foreign.body);
    });
  });
});
