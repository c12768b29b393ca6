import { webcrypto } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, importX509, jwtVerify } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as x509 from '../../../src/credentials/x509/x509.ts';
import { sriSha256 } from '../../../src/vci/type-metadata.ts';
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
    // §12.2.4; walt.id and Inji Wallet read it unguarded. It must be the provider's RFC 8414 issuer.
    expect(m.authorization_servers).toEqual([h.url]);
    const as = (await (await request(`${h.url}/.well-known/oauth-authorization-server`)).body.json()) as any;
    expect(as.issuer).toBe(m.authorization_servers[0]);
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
    // Draft 13 members for deployed wallets, where no 1.0 parser breaks on them.
    expect(ldp.credential_definition.credentialSubject.givenName).toMatchObject({ mandatory: true });
    expect(m.credential_configurations_supported.AgeCredential_ldp_vc).toBeDefined();
    // ... and not where one does (test/unit/vci/metadata-parsers.test.ts says which).
    const jwtVc = m.credential_configurations_supported.NationalIdCredential_jwt_vc_json;
    expect(jwtVc.credential_definition).toEqual({ type: ['VerifiableCredential', 'NationalIdCredential'] });
    const sdJwt = m.credential_configurations_supported.NationalIdCredential_sd_jwt;
    expect(sdJwt.vct).toBe(`${h.url}/vct/national-id`);
    expect(sdJwt).not.toHaveProperty('claims');
    expect(sdJwt.credential_metadata.claims).toContainEqual(
      expect.objectContaining({ path: ['address', 'locality'] }),
    );
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

  it('signs metadata with an x5c chain to the IACA as well as a kid (§12.2.3; OIDF: "neither jwk nor x5c")', async () => {
    const res = await request(`${h.url}/.well-known/openid-credential-issuer`, {
      headers: { accept: 'application/jwt' },
    });
    const jwt = await res.body.text();
    const header = decodeProtectedHeader(jwt);
    expect(header.kid).toMatch(/^did:web:/);
    expect(header.x5c).toHaveLength(1);
    const at = new Date(h.app.clock.now());
    // The leaf certificate's key verifies the JWT (jose is handed the test clock's instant).
    const leafPem = new x509.X509Certificate(Buffer.from(header.x5c![0]!, 'base64')).toString('pem');
    const verified = await jwtVerify(jwt, await importX509(leafPem, 'ES256'), {
      currentDate: at,
      typ: 'openidvci-issuer-metadata+jwt',
      subject: h.url,
    });
    expect(verified.payload.credential_issuer).toBe(h.url);
    // The chain: the leaf is signed by the IACA served at /.well-known/iaca.pem, both valid then.
    const iaca = new x509.X509Certificate(await (await request(`${h.url}/.well-known/iaca.pem`)).body.text());
    const leaf = new x509.X509Certificate(Buffer.from(header.x5c![0]!, 'base64'));
    expect(leaf.issuer).toBe(iaca.subject);
    expect(await leaf.verify({ publicKey: iaca.publicKey, date: at })).toBe(true);
    expect(await iaca.verify({ date: at })).toBe(true);
    // A date outside the leaf's validity is refused: the dates are really checked.
    expect(
      await leaf.verify({ publicKey: iaca.publicKey, date: new Date(leaf.notAfter.getTime() + 1000) }),
    ).toBe(false);
    // The chain does not verify under another key.
    const other = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: 'CN=Other',
      notBefore: new Date(at.getTime() - 1000),
      notAfter: new Date(at.getTime() + 86_400_000),
      keys: (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
        'sign',
        'verify',
      ])) as webcrypto.CryptoKeyPair,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    });
    expect(await leaf.verify({ publicKey: other.publicKey, date: at })).toBe(false);
  });

  it('serves SD-JWT VC type metadata at each dc+sd-jwt vct URL (draft-ietf-oauth-sd-jwt-vc §6)', async () => {
    const m = (await (await request(`${h.url}/.well-known/openid-credential-issuer`)).body.json()) as any;
    const sdJwt = Object.values(m.credential_configurations_supported).filter(
      (c: any) => c.format === 'dc+sd-jwt',
    ) as any[];
    expect(sdJwt.length).toBeGreaterThan(0);
    for (const config of sdJwt) {
      expect(config.vct.startsWith(`${h.url}/`)).toBe(true);
      const res = await request(config.vct, { headers: { accept: 'application/json' } });
      expect(res.statusCode, config.vct).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const bytes = await res.body.text();
      const doc = JSON.parse(bytes);
      expect(doc.vct).toBe(config.vct);
      expect(doc.name).toEqual(expect.any(String));
      for (const d of doc.display)
        expect(d).toEqual({
          locale: expect.any(String),
          name: expect.any(String),
          ...(d.description ? { description: expect.any(String) } : {}),
        });
      // Every claim of the configuration, with its path, labels and disclosure policy (§9.4).
      expect(doc.claims.map((c: any) => c.path)).toEqual(
        config.credential_metadata.claims.map((c: any) => c.path),
      );
      for (const c of doc.claims) {
        expect(['always', 'allowed', 'never']).toContain(c.sd);
        for (const d of c.display ?? [])
          expect(d).toEqual({ locale: expect.any(String), label: expect.any(String) });
      }
      // The integrity value (W3C SRI, §6.5) names the bytes served.
      expect(res.headers.etag).toBe(`"${sriSha256(bytes)}"`);
      expect(sriSha256(bytes)).toMatch(/^sha256-[A-Za-z0-9+/]+=*$/);
    }
    const age = (await (await request(`${h.url}/vct/proof-of-age`)).body.json()) as any;
    expect(age.claims.find((c: any) => c.path[0] === 'ageOver18').sd).toBe('always');
    const unknown = await request(`${h.url}/vct/no-such-type`);
    expect(unknown.statusCode).toBe(404);
    expect(((await unknown.body.json()) as any).error).toBe('not_found');
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
