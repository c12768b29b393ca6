import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVci, type VciHarness } from './harness.ts';

describe('admin API for credential configurations', () => {
  let h: VciHarness;
  beforeAll(async () => {
    h = await startVci();
  });
  afterAll(() => h.stop());

  const metadata = async () =>
    (await (await fetch(`${h.url}/.well-known/openid-credential-issuer`)).json()) as any;

  it('lists and gets definitions', async () => {
    const list = await h.admin('GET', '/credential-configurations');
    expect(list.status).toBe(200);
    expect(list.body.configurations.map((c: { id: string }) => c.id)).toEqual([
      'national-id-ed25519-2020',
      'national-id',
      'proof-of-age-ed25519-2020',
      'proof-of-age',
    ]);
    const one = await h.admin('GET', '/credential-configurations/proof-of-age');
    expect(one.body.claims[0].path).toEqual(['ageOver18']);
    expect((await h.admin('GET', '/credential-configurations/nope')).status).toBe(404);
  });

  it('creates a definition, rejects a bad one naming configuration, field and reason, updates as a new version and retires', async () => {
    const base = (await h.admin('GET', '/credential-configurations/proof-of-age')).body;
    const adult = {
      ...base,
      id: 'adult',
      version: undefined,
      scope: 'adult',
      formats: { ldp_vc: { configurationId: 'AdultCredential_ldp_vc' } },
      claims: [base.claims[0]],
      schema: 'proof-of-age.schema.json',
    };
    delete adult.version;
    delete adult.retired;
    // The schema requires ageOver21 too: rejected, with the reason.
    const bad = await h.admin('POST', '/credential-configurations', adult);
    expect(bad.status).toBe(400);
    expect(bad.body.problems).toContainEqual(
      expect.objectContaining({ configuration: 'adult', reason: expect.stringContaining('ageOver21') }),
    );
    const unknownTerm = await h.admin('POST', '/credential-configurations', {
      ...adult,
      claims: [...base.claims, { path: ['shoeSize'], source: 'nickname' }],
    });
    expect(unknownTerm.body.problems).toContainEqual(
      expect.objectContaining({ field: '/contexts', reason: expect.stringContaining('shoeSize') }),
    );

    const created = await h.admin('POST', '/credential-configurations', { ...adult, claims: base.claims });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.version).toBe(1);
    expect((await metadata()).credential_configurations_supported.AdultCredential_ldp_vc.scope).toBe('adult');

    const renamed = await h.admin('PUT', '/credential-configurations/adult', {
      ...adult,
      claims: base.claims,
      display: [{ name: 'Adult', locale: 'en' }],
    });
    expect(renamed.body.version).toBe(2);
    expect(
      (await metadata()).credential_configurations_supported.AdultCredential_ldp_vc.credential_metadata
        .display,
    ).toEqual([{ name: 'Adult', locale: 'en' }]);
    const versions = await h.admin('GET', '/credential-configurations/adult?versions=true');
    expect(versions.body.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);

    const retired = await h.admin('POST', '/credential-configurations/adult/retire');
    expect(retired.body.retired).toBe(true);
    expect((await metadata()).credential_configurations_supported.AdultCredential_ldp_vc).toBeUndefined();
    const offer = await h.admin('POST', '/credential-offers', {
      credential_configuration_ids: ['AdultCredential_ldp_vc'],
      individual_id: '1',
    });
    expect(offer.status).toBe(400);
  });
});
