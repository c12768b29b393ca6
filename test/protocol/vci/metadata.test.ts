import { decodeJwt, decodeProtectedHeader } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holderKey, preAuthorizedCode, proofJwt, startVci, type VciHarness } from './harness.ts';

describe('credential issuer metadata (OpenID4VCI 1.0 §12.2)', () => {
  let h: VciHarness;
  beforeAll(async () => {
    h = await startVci();
  });
  afterAll(() => h.stop());

  it('publishes the 1.0 shape built from the configurations', async () => {
    const res = await request(`${h.url}/.well-known/openid-credential-issuer`);
    expect(res.statusCode).toBe(200);
    const m = (await res.body.json()) as any;
    expect(m.credential_issuer).toBe(h.url);
    expect(m.credential_endpoint).toBe(`${h.url}/credential`);
    expect(m.nonce_endpoint).toBe(`${h.url}/nonce`);
    expect(m.deferred_credential_endpoint).toBe(`${h.url}/deferred_credential`);
    expect(m.notification_endpoint).toBe(`${h.url}/notification`);
    expect(m.batch_credential_issuance).toEqual({ batch_size: 10 });
    expect(m.credential_response_encryption).toEqual({
      alg_values_supported: ['ECDH-ES', 'RSA-OAEP-256'],
      enc_values_supported: ['A256GCM', 'A128GCM'],
      encryption_required: false,
    });
    const ldp = m.credential_configurations_supported.NationalIdCredential_ldp_vc;
    expect(ldp).toMatchObject({
      format: 'ldp_vc',
      scope: 'national_id',
      cryptographic_binding_methods_supported: ['did:key', 'did:jwk', 'jwk'],
      credential_signing_alg_values_supported: ['eddsa-rdfc-2022'],
      proof_types_supported: { jwt: { proof_signing_alg_values_supported: ['ES256', 'EdDSA', 'Ed25519'] } },
      credential_definition: {
        '@context': ['https://www.w3.org/ns/credentials/v2', `${h.url}/contexts/claims-v1.jsonld`],
        type: ['VerifiableCredential', 'NationalIdCredential'],
      },
    });
    expect(ldp.credential_metadata.display.map((d: { locale: string }) => d.locale)).toEqual([
      'en',
      'ar',
      'fr',
    ]);
    expect(ldp.credential_metadata.claims).toContainEqual(
      expect.objectContaining({
        path: ['credentialSubject', 'address', 'locality'],
        display: expect.any(Array),
      }),
    );
    expect(ldp.credential_metadata.claims).toContainEqual(
      expect.objectContaining({ path: ['credentialSubject', 'givenName'], mandatory: true }),
    );
    // Draft 13 members for deployed wallets.
    expect(ldp.credential_definition.credentialSubject.givenName).toMatchObject({ mandatory: true });
    expect(m.credential_configurations_supported.AgeCredential_ldp_vc).toBeDefined();
  });

  it('never advertises a configuration whose format this build lacks', async () => {
    const m = (await (await request(`${h.url}/.well-known/openid-credential-issuer`)).body.json()) as any;
    const formats = new Set(Object.values(m.credential_configurations_supported).map((c: any) => c.format));
    for (const format of formats)
      expect(['ldp_vc', 'jwt_vc_json', 'dc+sd-jwt', 'mso_mdoc']).toContain(format);
  });

  it('answers Accept-Language with that language only', async () => {
    const res = await request(`${h.url}/.well-known/openid-credential-issuer`, {
      headers: { 'accept-language': 'ar' },
    });
    const m = (await res.body.json()) as any;
    expect(res.headers['content-language']).toBe('ar');
    expect(m.display).toEqual([{ name: 'جهة إصدار الهوية الوطنية', locale: 'ar' }]);
    expect(
      m.credential_configurations_supported.AgeCredential_ldp_vc.credential_metadata.display[0].locale,
    ).toBe('ar');
  });

  it('serves signed metadata as application/jwt and as signed_metadata (§12.2.3)', async () => {
    const res = await request(`${h.url}/.well-known/openid-credential-issuer`, {
      headers: { accept: 'application/jwt' },
    });
    expect(res.headers['content-type']).toMatch(/^application\/jwt/);
    const jwt = await res.body.text();
    expect(decodeProtectedHeader(jwt)).toMatchObject({ typ: 'openidvci-issuer-metadata+jwt', alg: 'ES256' });
    const claims = decodeJwt(jwt);
    expect(claims.sub).toBe(h.url);
    expect(claims.credential_endpoint).toBe(`${h.url}/credential`);
    const json = (await (await request(`${h.url}/.well-known/openid-credential-issuer`)).body.json()) as any;
    expect(typeof json.signed_metadata).toBe('string');
  });
});

describe('metadata for an issuer identifier with a path', () => {
  let h: VciHarness;
  beforeAll(async () => {
    h = await startVci({ pathPrefix: '/tenant-a' });
  });
  afterAll(() => h.stop());

  it('is served with the path inserted after the host (1.0) and appended (draft 13)', async () => {
    const origin = new URL(h.url).origin;
    for (const path of [
      '/.well-known/openid-credential-issuer/tenant-a',
      '/tenant-a/.well-known/openid-credential-issuer',
    ]) {
      const res = await request(`${origin}${path}`);
      expect(res.statusCode).toBe(200);
      const m = (await res.body.json()) as any;
      expect(m.credential_issuer).toBe(`${origin}/tenant-a`);
      expect(m.credential_endpoint).toBe(`${origin}/tenant-a/credential`);
    }
    const nonce = await request(`${origin}/tenant-a/nonce`, { method: 'POST' });
    expect(nonce.statusCode).toBe(200);
    await nonce.body.dump();
  });

  it('serves what credentials point to under the path: status lists, IACA and its CRL', async () => {
    const who = await h.person();
    const id = 'NationalIdCredential_jwt_vc_json';
    const token = (await h.token(preAuthorizedCode(await h.offer([id], who.individualId)))).body.access_token;
    const key = await holderKey();
    const proof = await proofJwt(key, h.url, await h.nonce(), { iat: Math.floor(h.app.clock.now() / 1000) });
    const issued = await h.post(
      '/credential',
      { credential_configuration_id: id, proofs: { jwt: [proof] } },
      { authorization: `Bearer ${token}` },
    );
    expect(issued.status, issued.text).toBe(200);
    const vc = decodeJwt(issued.body.credentials[0].credential) as any;
    const statusUrl: string =
      vc.vc?.credentialStatus?.statusListCredential ?? vc.credentialStatus.statusListCredential;
    expect(statusUrl.startsWith(`${h.url}/status/`)).toBe(true);
    for (const url of [statusUrl, `${h.url}/.well-known/iaca.pem`, `${h.url}/.well-known/iaca.crl`]) {
      const res = await request(url);
      expect(res.statusCode, url).toBe(200);
      await res.body.dump();
    }
  });
});
