import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load.ts';
import { type HolderKey, holderKey, proofJwt, startVci, type VciHarness } from './harness.ts';

/**
 * The issuer-wide key attestation switch (config vci.keyAttestationsRequired): every configuration
 * without its own `key_attestations_required` gets the issuer's, in the metadata (every jwt proof
 * type, as EUDI's wallet library from 0.12 on demands) and at the credential endpoint (a proof
 * without a key attestation is invalid_proof). A configuration's own requirement still wins.
 */
describe('vci.keyAttestationsRequired (issuer-wide)', () => {
  let h: VciHarness;
  let token: string;
  let provider: { privateKey: HolderKey['privateKey']; kid: string };
  const now = () => Math.floor(h.app.clock.now() / 1000);

  beforeAll(async () => {
    const trusted = await generateKeyPair('ES256', { extractable: true });
    provider = { privateKey: trusted.privateKey, kid: 'wallet-provider-wide' };
    const trustedJwk = { ...(await exportJWK(trusted.publicKey)), kid: provider.kid, alg: 'ES256' };
    h = await startVci({
      overrides: {
        vci: {
          keyAttestationTrustedJwks: [trustedJwk],
          keyAttestationsRequired: { key_storage: ['iso_18045_moderate', 'iso_18045_high'] },
        },
      },
    });
    // One configuration with its own, stricter requirement.
    const base = (await h.admin('GET', '/credential-configurations/proof-of-age')).body;
    const created = await h.admin('POST', '/credential-configurations', {
      ...base,
      id: 'age-user-auth',
      version: undefined,
      retired: undefined,
      scope: 'age_user_auth',
      formats: { ldp_vc: { configurationId: 'AgeUserAuth_ldp_vc' } },
      binding: { ...base.binding, keyAttestationsRequired: { user_authentication: ['iso_18045_high'] } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const who = await h.person();
    token = h.mintToken({
      accountId: who.accountId,
      credentialConfigurationIds: ['AgeCredential_sd_jwt', 'AgeUserAuth_ldp_vc'],
      consentedClaims: ['birthdate'],
    });
  });
  afterAll(() => h?.stop());

  const attestation = (keys: JWK[], levels: { key_storage: string; user_authentication: string }) =>
    new SignJWT({
      attested_keys: keys,
      key_storage: [levels.key_storage],
      user_authentication: [levels.user_authentication],
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'key-attestation+jwt', kid: provider.kid })
      .setIssuedAt(now())
      .setExpirationTime(now() + 3600)
      .sign(provider.privateKey);
  const ask = (id: string, jwt: string) =>
    h.post(
      '/credential',
      { credential_configuration_id: id, proofs: { jwt: [jwt] } },
      { authorization: `Bearer ${token}` },
    );
  const attested = async (key: HolderKey, levels: { key_storage: string; user_authentication: string }) =>
    proofJwt(key, h.url, await h.nonce(), {
      iat: now(),
      header: { key_attestation: await attestation([key.jwk], levels) },
    });

  it('publishes the requirement on every jwt proof type; a configuration keeps its own', async () => {
    const m = (await (await fetch(`${h.url}/.well-known/openid-credential-issuer`)).json()) as any;
    const configurations = Object.entries(m.credential_configurations_supported) as [string, any][];
    const withProofs = configurations.filter(([, c]) => c.proof_types_supported);
    expect(withProofs.length).toBeGreaterThan(3);
    for (const [id, c] of withProofs) {
      const expected =
        id === 'AgeUserAuth_ldp_vc'
          ? { user_authentication: ['iso_18045_high'] }
          : { key_storage: ['iso_18045_moderate', 'iso_18045_high'] };
      expect(c.proof_types_supported.jwt.key_attestations_required, id).toEqual(expected);
      expect(c.proof_types_supported.attestation.key_attestations_required, id).toEqual(expected);
    }
  });

  it('refuses a proof without a key attestation as invalid_proof, issues with one', async () => {
    const key = await holderKey();
    const plain = await ask(
      'AgeCredential_sd_jwt',
      await proofJwt(key, h.url, await h.nonce(), { iat: now() }),
    );
    expect(plain.status).toBe(400);
    expect(plain.body.error).toBe('invalid_proof');
    // A level the issuer does not list is refused too.
    const low = await ask(
      'AgeCredential_sd_jwt',
      await attested(key, { key_storage: 'iso_18045_basic', user_authentication: 'iso_18045_high' }),
    );
    expect(low.status, low.text).toBe(400);
    expect(low.body.error).toBe('invalid_proof');
    const ok = await ask(
      'AgeCredential_sd_jwt',
      await attested(key, { key_storage: 'iso_18045_moderate', user_authentication: 'iso_18045_basic' }),
    );
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.credentials).toHaveLength(1);
  });

  it("checks a configuration's own requirement instead of the issuer's", async () => {
    const key = await holderKey();
    // Meets the issuer-wide key_storage but not the configuration's user_authentication.
    const issuerLevel = await ask(
      'AgeUserAuth_ldp_vc',
      await attested(key, { key_storage: 'iso_18045_high', user_authentication: 'iso_18045_basic' }),
    );
    expect(issuerLevel.status, issuerLevel.text).toBe(400);
    expect(issuerLevel.body.error).toBe('invalid_proof');
    // Meets the configuration's, not the issuer's (key_storage basic): issued.
    const own = await ask(
      'AgeUserAuth_ldp_vc',
      await attested(key, { key_storage: 'iso_18045_basic', user_authentication: 'iso_18045_high' }),
    );
    expect(own.status, own.text).toBe(200);
  });
});

describe('vci.keyAttestationsRequired validation', () => {
  it('is off by default and takes {} or level lists, from the environment as JSON too', () => {
    expect(loadConfig({ env: {} }).vci.keyAttestationsRequired).toBeNull();
    expect(
      loadConfig({ env: {}, overrides: { vci: { keyAttestationsRequired: {} } } }).vci
        .keyAttestationsRequired,
    ).toEqual({});
    expect(
      loadConfig({ env: { ISSUER__vci__keyAttestationsRequired: '{"key_storage":["iso_18045_high"]}' } }).vci
        .keyAttestationsRequired,
    ).toEqual({ key_storage: ['iso_18045_high'] });
  });

  it.each([
    [{ key_storage: 'iso_18045_high' }],
    [{ key_storage: [''] }],
    [{ other: [] }],
    [['iso_18045_high']],
    ['yes'],
  ])('refuses %j', (value) => {
    expect(() => loadConfig({ env: {}, overrides: { vci: { keyAttestationsRequired: value } } })).toThrow(
      ConfigError,
    );
  });
});
