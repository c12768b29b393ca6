import { CompactEncrypt, compactDecrypt, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holderKey, preAuthorizedCode, proofJwt, startVci, type VciHarness } from './harness.ts';

/**
 * Credential request encryption (OpenID4VCI 1.0 §8.2, §9.1, §10 and §12.2.4
 * `credential_request_encryption`), with the wallet built as the EUDI reference wallet's library
 * builds it: eu-digital-identity-wallet/eudi-lib-jvm-openid4vci-kt at
 * e1336d6631084f342f925a07f11f01162c611fd5 (0.13.x), src/main/kotlin/eu/europa/ec/eudi/openid4vci/
 * - internal/http/CredentialIssuerMetadataJsonParser.kt:738-743: metadata advertising
 *   credential_response_encryption without credential_request_encryption is refused as a whole;
 *   :521-527: `jwks` and `enc_values_supported` required, `encryption_required` read;
 * - Issuance.kt:216-235 (RequestEncryptionSpecFactory.DEFAULT): the first issuer `enc` the wallet
 *   supports, and the first key of `jwks` whose `alg` the wallet supports (a key without `alg` is
 *   never chosen);
 * - internal/http/CredentialEndpointClient.kt:200-218: the request body is the JWE and
 *   `Content-Type: application/jwt`; :220-231: the JWE header carries `alg`, `enc`, the issuer's
 *   key as `jwk` and its `kid`; the plaintext is the request as a JWT claims set;
 *   :242-280: a success answer must be `application/jwt` when response encryption was asked;
 * - internal/http/IssuanceRequestJsonMapper.kt:32-53 and :67-78: the encrypted request carries
 *   `credential_response_encryption` {jwk, enc, zip?}; :218-227: the deferred request is
 *   {transaction_id, credential_response_encryption?}.
 * jose's CompactEncrypt plays the wallet; every answer goes over real HTTP.
 */

const AGE = 'AgeCredential_ldp_vc';
/** What a wallet on the EUDI library supports by default (nimbus ECDH-ES / AES-GCM). */
const WALLET_ALGS = ['ECDH-ES', 'RSA-OAEP-256'];
const WALLET_ENCS = ['A128GCM', 'A192GCM', 'A256GCM'];

interface RequestEncryptionMetadata {
  jwks: { keys: JWK[] };
  enc_values_supported: string[];
  encryption_required: boolean;
  zip_values_supported?: string[];
}

async function metadataOf(h: VciHarness): Promise<Record<string, any>> {
  return (await (await fetch(`${h.url}/.well-known/openid-credential-issuer`)).json()) as Record<string, any>;
}

/** Issuance.kt:216-235: the recipient key and enc the EUDI wallet picks. */
function eudiRequestSpec(meta: RequestEncryptionMetadata): { key: JWK; enc: string } {
  const enc = meta.enc_values_supported.find((e) => WALLET_ENCS.includes(e));
  const key = meta.jwks.keys.find((k) => k.alg !== undefined && WALLET_ALGS.includes(k.alg));
  if (!enc || !key) throw new Error('the EUDI wallet could not formulate a request encryption spec');
  return { key, enc };
}

/** CredentialEndpointClient.kt:220-231: EncryptedJWT with alg, enc, jwk (the issuer key) and kid. */
async function eudiEncrypt(
  payload: Record<string, unknown> | string,
  meta: RequestEncryptionMetadata,
  header: Record<string, unknown> = {},
): Promise<string> {
  const { key, enc } = eudiRequestSpec(meta);
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return new CompactEncrypt(new TextEncoder().encode(text))
    .setProtectedHeader({ alg: key.alg!, enc, jwk: key, kid: key.kid!, ...header } as {
      alg: string;
      enc: string;
    })
    .encrypt(await importJWK(key, (header.alg as string | undefined) ?? key.alg));
}

/**
 * The wallet's response key as internal/KeyGenerator.kt:52-57 makes it (use enc, a UUID kid, alg,
 * and nimbus's `iat` member from issueTime), sent as IssuanceRequestJsonMapper.kt:41-50 does: the
 * public JWK and enc.
 */
async function responseKey() {
  const { publicKey, privateKey } = await generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
  const jwk = {
    ...(await exportJWK(publicKey)),
    use: 'enc',
    kid: crypto.randomUUID(),
    alg: 'ECDH-ES',
    iat: Math.floor(Date.now() / 1000),
  };
  return { jwk, privateKey };
}

/** A token for the proof-of-age credential of a new person (the grant minted directly). */
async function ageToken(h: VciHarness): Promise<string> {
  const who = await h.person();
  return h.mintToken({
    accountId: who.accountId,
    credentialConfigurationIds: [AGE],
    consentedClaims: ['birthdate'],
  });
}

async function openResponse(text: string, privateKey: Parameters<typeof compactDecrypt>[1]) {
  const { plaintext } = await compactDecrypt(text, privateKey);
  return JSON.parse(new TextDecoder().decode(plaintext));
}

describe('credential request encryption (encryption supported, not required)', () => {
  let h: VciHarness;
  let token: string;
  let meta: RequestEncryptionMetadata;
  const now = () => Math.floor(h.app.clock.now() / 1000);

  beforeAll(async () => {
    h = await startVci();
    token = await ageToken(h);
    meta = (await metadataOf(h)).credential_request_encryption;
  });
  afterAll(() => h.stop());

  const sendJwt = (path: string, jwe: string, bearer = token) =>
    h.post(path, jwe, { authorization: `Bearer ${bearer}`, 'content-type': 'application/jwt' });
  const ageRequest = async () => ({
    credential_configuration_id: AGE,
    proofs: { jwt: [await proofJwt(await holderKey(), h.url, await h.nonce(), { iat: now() })] },
  });

  it('publishes credential_request_encryption beside credential_response_encryption, as EUDI requires', async () => {
    const metadata = await metadataOf(h);
    // CredentialIssuerMetadataJsonParser.kt:738-743: one without the other fails the whole metadata.
    expect(metadata.credential_response_encryption).toBeDefined();
    expect(metadata.credential_request_encryption).toEqual({
      jwks: { keys: [expect.any(Object)] },
      enc_values_supported: metadata.credential_response_encryption.enc_values_supported,
      encryption_required: false,
    });
    // §12.2.4: "Each JWK in the set MUST have a kid"; §10: "The `alg` parameter MUST be present".
    const [key] = meta.jwks.keys;
    expect(Object.keys(key!).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ECDH-ES', use: 'enc' });
    // §12.2.4: no zip_values_supported means no compression.
    expect(meta.zip_values_supported).toBeUndefined();
    // The key is the key store's encryption key, never a signing key of the issuer.
    const signing = (await (await fetch(`${h.url}/jwks/credentials`)).json()) as { keys: JWK[] };
    expect(signing.keys.map((k) => k.kid)).not.toContain(key!.kid);
  });

  it('issues for an encrypted request and answers an encrypted response (EUDI, credential endpoint)', async () => {
    const wallet = await responseKey();
    const jwe = await eudiEncrypt(
      { ...(await ageRequest()), credential_response_encryption: { jwk: wallet.jwk, enc: 'A256GCM' } },
      meta,
    );
    const res = await sendJwt('/credential', jwe);
    expect(res.status, res.text).toBe(200);
    // CredentialEndpointClient.kt:255-257: an encrypted answer must be application/jwt.
    expect(res.headers['content-type']).toMatch(/^application\/jwt/);
    const answer = await openResponse(res.text, wallet.privateKey);
    expect(answer.credentials).toHaveLength(1);
    expect(answer.credentials[0].credential.credentialSubject.ageOver18).toBe(true);
    expect(answer.notification_id).toEqual(expect.any(String));
  });

  it('issues for an encrypted request without response encryption (plain JSON answer)', async () => {
    const res = await sendJwt('/credential', await eudiEncrypt(await ageRequest(), meta));
    expect(res.status, res.text).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.credentials).toHaveLength(1);
  });

  it('still takes a plain JSON request when encryption is not required', async () => {
    const res = await h.post('/credential', await ageRequest(), { authorization: `Bearer ${token}` });
    expect(res.status, res.text).toBe(200);
  });

  it('takes an encrypted deferred credential request and encrypts the deferred answer', async () => {
    const who = await h.person({ kyc_pending: true });
    const t = (await h.token(preAuthorizedCode(await h.offer([AGE], who.individualId)))).body.access_token;
    const first = await sendJwt('/credential', await eudiEncrypt(await ageRequest(), meta), t);
    expect(first.status, first.text).toBe(202);
    expect((await h.admin('PATCH', `/identities/${who.accountId}`, { kyc_pending: false })).status).toBe(200);
    const wallet = await responseKey();
    // IssuanceRequestJsonMapper.kt:218-227: {transaction_id, credential_response_encryption}.
    const poll = await eudiEncrypt(
      {
        transaction_id: first.body.transaction_id,
        credential_response_encryption: { jwk: wallet.jwk, enc: 'A128GCM' },
      },
      meta,
    );
    const done = await sendJwt('/deferred_credential', poll, t);
    expect(done.status, done.text).toBe(200);
    expect(done.headers['content-type']).toMatch(/^application\/jwt/);
    const answer = await openResponse(done.text, wallet.privateKey);
    expect(answer.credentials[0].credential.credentialSubject.ageOver18).toBe(true);
  });

  it('keeps decrypting to a rotated key while it is still published, and publishes the new one', async () => {
    const old = meta;
    const rotated = await h.admin('POST', '/keys/rotate?purpose=encryption');
    expect(rotated.status).toBe(201);
    const [fresh] = rotated.body.rotated;
    const now = (await metadataOf(h)).credential_request_encryption as RequestEncryptionMetadata;
    // Newest first: a wallet picking the first key it can use (Issuance.kt:231-233) takes the new one.
    expect(now.jwks.keys.map((k) => k.kid)).toEqual([fresh.kid, old.jwks.keys[0]!.kid]);
    // A wallet that read the metadata before the rotation still gets through.
    expect((await sendJwt('/credential', await eudiEncrypt(await ageRequest(), old))).status).toBe(200);
    expect((await sendJwt('/credential', await eudiEncrypt(await ageRequest(), now))).status).toBe(200);
    meta = now;
  });

  it('refuses each bad JWE with the spec error and issues nothing', async () => {
    const request = await ageRequest();
    const { key } = eudiRequestSpec(meta);
    const tamperTag = (jwe: string) => {
      const parts = jwe.split('.');
      const tag = Buffer.from(parts[4]!, 'base64url');
      tag[0]! ^= 0x01;
      parts[4] = tag.toString('base64url');
      return parts.join('.');
    };
    const otherKey = await exportJWK((await generateKeyPair('ECDH-ES', { crv: 'P-256' })).publicKey);
    const cases: [string, () => Promise<string>, Record<string, string>][] = [
      [
        'a kid the issuer does not publish',
        async () =>
          new CompactEncrypt(new TextEncoder().encode(JSON.stringify(request)))
            .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', kid: 'not-our-key' })
            .encrypt(await importJWK(otherKey, 'ECDH-ES')),
        {
          error: 'invalid_encryption_parameters',
          error_description: 'the request JWE kid must name a key of credential_request_encryption.jwks',
        },
      ],
      [
        'no kid',
        async () =>
          new CompactEncrypt(new TextEncoder().encode(JSON.stringify(request)))
            .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM' })
            .encrypt(await importJWK(key, 'ECDH-ES')),
        {
          error: 'invalid_encryption_parameters',
          error_description: 'the request JWE kid must name a key of credential_request_encryption.jwks',
        },
      ],
      [
        'an alg other than the key alg (§10)',
        () => eudiEncrypt(request, meta, { alg: 'ECDH-ES+A128KW' }),
        { error: 'invalid_encryption_parameters', error_description: 'the request JWE alg must be ECDH-ES' },
      ],
      [
        'an enc outside enc_values_supported',
        () => eudiEncrypt(request, meta, { enc: 'A128CBC-HS256' }),
        {
          error: 'invalid_encryption_parameters',
          error_description: 'the request JWE enc must be one of A256GCM, A128GCM',
        },
      ],
      [
        'compression (no zip_values_supported)',
        () => eudiEncrypt(request, meta, { zip: 'DEF' }),
        { error: 'invalid_encryption_parameters', error_description: 'compression (zip) is not supported' },
      ],
      [
        'an altered authentication tag',
        async () => tamperTag(await eudiEncrypt(request, meta)),
        {
          error: 'invalid_encryption_parameters',
          error_description: 'the credential request cannot be decrypted',
        },
      ],
      [
        'a signed JWT instead of a JWE',
        async () => proofJwt(await holderKey(), h.url, 'n', { iat: now() }),
        {
          error: 'invalid_credential_request',
          error_description: 'an application/jwt request must be a compact JWE',
        },
      ],
      [
        'a plaintext that is no JSON object',
        () => eudiEncrypt('["credential_configuration_id"]', meta),
        {
          error: 'invalid_credential_request',
          error_description: 'the decrypted request is not a JSON object',
        },
      ],
    ];
    const ledger = h.app.services.store.collection({ name: 'ledger' });
    const before = (await ledger.find({})).length;
    for (const [name, make, expected] of cases) {
      for (const path of ['/credential', '/deferred_credential']) {
        const res = await sendJwt(path, await make());
        expect(res.status, `${name} at ${path}`).toBe(400);
        expect(res.body, `${name} at ${path}`).toEqual(expected);
      }
    }
    expect((await ledger.find({})).length).toBe(before);
    // The c_nonce inside the refused requests was never spent: the same request, well encrypted, issues.
    const res = await sendJwt('/credential', await eudiEncrypt(request, meta));
    expect(res.status, res.text).toBe(200);
  });
});

describe('credential request encryption required (vci.requireRequestEncryption)', () => {
  let h: VciHarness;
  let token: string;
  const now = () => Math.floor(h.app.clock.now() / 1000);

  beforeAll(async () => {
    h = await startVci({ overrides: { vci: { requireRequestEncryption: true } } });
    token = await ageToken(h);
  });
  afterAll(() => h.stop());

  it('says encryption_required and refuses plain JSON at both endpoints, spending nothing', async () => {
    const meta: RequestEncryptionMetadata = (await metadataOf(h)).credential_request_encryption;
    expect(meta.encryption_required).toBe(true);
    const request = {
      credential_configuration_id: AGE,
      proofs: { jwt: [await proofJwt(await holderKey(), h.url, await h.nonce(), { iat: now() })] },
    };
    const refused = {
      error: 'invalid_encryption_parameters',
      error_description:
        'this issuer requires the request encrypted to credential_request_encryption (application/jwt)',
    };
    const bearer = { authorization: `Bearer ${token}` };
    const plain = await h.post('/credential', request, bearer);
    expect(plain.status).toBe(400);
    expect(plain.body).toEqual(refused);
    expect((await h.post('/deferred_credential', { transaction_id: 'x' }, bearer)).body).toEqual(refused);
    // The same proof and c_nonce, encrypted, are accepted: the refusal spent nothing.
    const res = await h.post('/credential', await eudiEncrypt(request, meta), {
      ...bearer,
      'content-type': 'application/jwt',
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.credentials).toHaveLength(1);
  });
});
