import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holderKey, preAuthorizedCode, proofJwt, startVci, type VciHarness } from './harness.ts';

/** Every configuration the metadata advertises can actually be issued (never advertise what does not work). */
describe('every advertised configuration issues', () => {
  let h: VciHarness;
  let token: string;
  let ids: string[];
  beforeAll(async () => {
    h = await startVci();
    const who = await h.person();
    const metadata = (await (await fetch(`${h.url}/.well-known/openid-credential-issuer`)).json()) as any;
    ids = Object.keys(metadata.credential_configurations_supported);
    const offer = await h.offer(ids, who.individualId);
    token = (await h.token(preAuthorizedCode(offer))).body.access_token;
  });
  afterAll(() => h.stop());

  it('answers a credential of the right shape for each configuration', async () => {
    expect(ids.length).toBeGreaterThanOrEqual(2);
    for (const id of ids) {
      const key = await holderKey('ES256');
      const res = await h.post(
        '/credential',
        {
          credential_configuration_id: id,
          proofs: {
            jwt: [await proofJwt(key, h.url, await h.nonce(), { iat: Math.floor(h.app.clock.now() / 1000) })],
          },
        },
        { authorization: `Bearer ${token}` },
      );
      expect(res.status, `${id}: ${JSON.stringify(res.body)}`).toBe(200);
      const credential = res.body.credentials[0].credential;
      if (id.endsWith('_ldp_vc')) expect(credential.proof).toBeDefined();
      if (id.endsWith('_jwt_vc_json')) expect(decodeJwt(credential).sub).toMatch(/^did:jwk:/);
      if (id.endsWith('_sd_jwt')) {
        const payload = decodeJwt(credential.split('~')[0]);
        expect((payload.cnf as any).jwk).toMatchObject({ x: key.jwk.x, y: key.jwk.y });
        // SECURITY.md row 36: iat is always there, rounded down to the hour.
        expect((payload.iat as number) % 3600).toBe(0);
      }
      if (id.endsWith('_mso_mdoc')) expect(typeof credential).toBe('string');
    }
  });
});

describe('SD-JWT VC time claims and salts (SECURITY.md row 36)', () => {
  let h: VciHarness;
  beforeAll(async () => {
    h = await startVci();
  });
  afterAll(() => h.stop());

  it('gives two credentials issued minutes apart the same rounded time claims and distinct salts', async () => {
    const metadata = (await (await fetch(`${h.url}/.well-known/openid-credential-issuer`)).json()) as any;
    // Shipped in credential-configurations/national-id.json: a missing one is a failure, not a pass.
    expect(Object.keys(metadata.credential_configurations_supported)).toContain(
      'NationalIdCredential_sd_jwt',
    );
    const who = await h.person();
    const offer = await h.offer(['NationalIdCredential_sd_jwt'], who.individualId);
    const token = h.mintToken({
      accountId: who.accountId,
      credentialConfigurationIds: ['NationalIdCredential_sd_jwt'],
      consentedClaims: ['given_name', 'family_name', 'name', 'birthdate', 'gender', 'address'],
    });
    expect(offer.credential_offer).toBeDefined();
    const issue = async () => {
      const res = await h.post(
        '/credential',
        {
          credential_configuration_id: 'NationalIdCredential_sd_jwt',
          proofs: {
            jwt: [
              await proofJwt(await holderKey(), h.url, await h.nonce(), {
                iat: Math.floor(h.app.clock.now() / 1000),
              }),
            ],
          },
        },
        { authorization: `Bearer ${token}` },
      );
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.credentials[0].credential as string;
    };
    h.app.clock.set(Date.UTC(2026, 10, 25, 9, 3, 0));
    const a = await issue();
    h.app.clock.advanceSeconds(11 * 60);
    const b = await issue();
    const [pa, pb] = [decodeJwt(a.split('~')[0]!), decodeJwt(b.split('~')[0]!)];
    for (const claim of ['iat', 'nbf', 'exp'] as const) {
      expect(pa[claim], claim).toBe(pb[claim]);
      if (pa[claim] !== undefined) expect((pa[claim] as number) % 3600).toBe(0);
    }
    const salts = (sdjwt: string) =>
      sdjwt
        .split('~')
        .slice(1)
        .filter(Boolean)
        .map((d) => (JSON.parse(Buffer.from(d, 'base64url').toString()) as unknown[])[0]);
    const [sa, sb] = [salts(a), salts(b)];
    expect(sa.length).toBeGreaterThan(3);
    expect(new Set([...sa, ...sb]).size).toBe(sa.length + sb.length);
  });
});

describe('issuer that requires response encryption', () => {
  let h: VciHarness;
  beforeAll(async () => {
    h = await startVci({ overrides: { vci: { requireEncryption: true } } });
  });
  afterAll(() => h.stop());

  it('advertises it and refuses a plaintext request with invalid_encryption_parameters', async () => {
    const metadata = (await (await fetch(`${h.url}/.well-known/openid-credential-issuer`)).json()) as any;
    expect(metadata.credential_response_encryption.encryption_required).toBe(true);
    const who = await h.person();
    const offer = await h.offer(['AgeCredential_ldp_vc'], who.individualId);
    const token = (await h.token(preAuthorizedCode(offer))).body.access_token;
    const res = await h.post(
      '/credential',
      {
        credential_configuration_id: 'AgeCredential_ldp_vc',
        proofs: {
          jwt: [
            await proofJwt(await holderKey(), h.url, await h.nonce(), {
              iat: Math.floor(h.app.clock.now() / 1000),
            }),
          ],
        },
      },
      { authorization: `Bearer ${token}` },
    );
    // OpenID4VCI 1.0 §8.2 / §8.3.1.2: encryption required but not asked for -> invalid_encryption_parameters.
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'invalid_encryption_parameters',
      error_description: 'this issuer requires credential_response_encryption',
    });
  });
});
