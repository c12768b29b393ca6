import { resolve } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { mapClaims } from '../../../src/credentials/configurations/mapping.ts';
import { createConfigurationRegistry } from '../../../src/credentials/configurations/registry.ts';
import type { CredentialDefinition } from '../../../src/credentials/configurations/types.ts';
import { ConfigurationError, validateDefinition } from '../../../src/credentials/configurations/validate.ts';
import type { FormatId } from '../../../src/credentials/formats/types.ts';
import { TestClock } from '../../helpers/clock.ts';
import { createMemoryStore } from '../../helpers/memory-store.ts';

const root = resolve(import.meta.dirname, '../../..');
const deps = {
  availableFormats: new Set<FormatId>(['ldp_vc', 'jwt_vc_json', 'dc+sd-jwt', 'mso_mdoc']),
  signingAlgs: new Set(['EdDSA', 'ES256']),
  schemasDir: resolve(root, 'schemas'),
  publicUrl: 'https://issuer.example',
};
const { default: nationalId } = await import('../../../credential-configurations/national-id.json', {
  with: { type: 'json' },
});
const copy = () => structuredClone(nationalId) as unknown as CredentialDefinition;

async function registry() {
  const clock = new TestClock();
  return createConfigurationRegistry({
    ...deps,
    configurationsDir: resolve(root, 'credential-configurations'),
    store: createMemoryStore(clock),
    clock,
    logger: pino({ level: 'silent' }),
  });
}

describe('credential configurations', () => {
  it('loads the shipped definitions into one configuration per format', async () => {
    const configs = await registry();
    expect(configs.list().map((c) => c.id)).toEqual(
      expect.arrayContaining([
        'NationalIdCredential_ldp_vc',
        'NationalIdCredential_sd_jwt',
        'AgeCredential_ldp_vc',
      ]),
    );
    expect(configs.claimsFor('AgeCredential_ldp_vc')).toEqual(['birthdate']);
    expect(configs.claimsFor('NationalIdCredential_ldp_vc')).toEqual(
      expect.arrayContaining(['given_name', 'family_name', 'name', 'birthdate', 'address']),
    );
    expect(configs.forScope('proof_of_age')).toEqual(['AgeCredential_ldp_vc']);
    expect(configs.forScope('proof_of_age_dc_sd_jwt')).toEqual(['AgeCredential_sd_jwt']);
    expect(configs.get('NationalIdCredential_sd_jwt')?.profile.vct).toBe(
      'https://issuer.example/vct/national-id',
    );
    expect(configs.get('__proto__')).toBeUndefined();
  });

  it('names the configuration, field and reason for a claim term the context does not define', async () => {
    const def = copy();
    def.claims.push({ path: ['shoeSize'], source: 'nickname' });
    const problems = await validateDefinition(def, deps);
    expect(problems).toContainEqual(
      expect.objectContaining({
        configuration: 'national-id',
        field: '/contexts',
        reason: expect.stringContaining('shoeSize'),
      }),
    );
  });

  it('rejects a mapping whose output the subject schema does not accept', async () => {
    const def = copy();
    def.claims[4] = {
      path: ['birthdate'],
      source: 'birthdate',
      transform: { type: 'date', format: 'DD/MM/YYYY' },
    };
    const problems = await validateDefinition(def, deps);
    expect(
      problems.some((p) => p.configuration === 'national-id' && p.reason.includes('national-id.schema.json')),
    ).toBe(true);
  });

  it('rejects unknown formats, algorithms and fields with their paths', async () => {
    const def = copy() as unknown as Record<string, unknown>;
    (def.formats as Record<string, unknown>).ldp_vc = { configurationId: 'x', cryptosuite: 'rot13' };
    def.colour = 'blue';
    const problems = await validateDefinition(def, deps);
    expect(problems).toContainEqual(expect.objectContaining({ field: '/formats/ldp_vc/cryptosuite' }));
    expect(problems).toContainEqual(expect.objectContaining({ field: '', reason: 'unknown field "colour"' }));
    const noMdoc = await validateDefinition(copy(), {
      ...deps,
      availableFormats: new Set<FormatId>(['ldp_vc']),
    });
    expect(noMdoc).toContainEqual(
      expect.objectContaining({
        field: '/formats/mso_mdoc',
        reason: expect.stringContaining('not available'),
      }),
    );
  });

  it('updates as a new version and retires through the registry', async () => {
    const configs = await registry();
    const def = copy();
    def.display[0]!.name = 'National ID card';
    const updated = await configs.update('national-id', def);
    expect(updated.version).toBe(2);
    expect(configs.get('NationalIdCredential_ldp_vc')?.definition.display[0]?.name).toBe('National ID card');
    await configs.retire('proof-of-age');
    expect(configs.get('AgeCredential_ldp_vc')).toBeUndefined();
    expect((await configs.versions('national-id')).map((d) => d.version)).toEqual([1, 2]);
    await expect(configs.create(copy())).rejects.toBeInstanceOf(ConfigurationError);
  });
});

describe('claim mapping', () => {
  const claims = {
    name: 'A B',
    'name#ar': 'أ ب',
    birthdate: '2008-06-02',
    gender: 'female',
    address: { locality: 'X' },
  };
  it('selects languages, reformats dates, derives ages and builds nested objects', () => {
    const { subject, missing } = mapClaims(
      [
        { path: ['n'], source: 'name', transform: { type: 'language' } },
        { path: ['m'], source: 'name', transform: { type: 'languageMap', languages: ['en', 'ar'] } },
        { path: ['d'], source: 'birthdate', transform: { type: 'date', format: 'DD/MM/YYYY' } },
        { path: ['over18'], source: 'birthdate', transform: { type: 'ageOver', years: 18 } },
        { path: ['y'], source: 'birthdate', transform: { type: 'year' } },
        { path: ['g'], source: 'gender', transform: { type: 'map', values: { female: 'F' } } },
        { path: ['a', 'l'], source: 'address.locality' },
        { path: ['e'], source: 'email', mandatory: true },
      ],
      claims,
      { locales: ['ar'], now: Date.UTC(2026, 5, 1) },
    );
    expect(subject).toEqual({
      n: 'أ ب',
      m: { en: 'A B', ar: 'أ ب' },
      d: '02/06/2008',
      over18: false,
      y: 2008,
      g: 'F',
      a: { l: 'X' },
    });
    expect(missing).toEqual(['e']);
    expect(
      mapClaims([{ path: ['o'], source: 'birthdate', transform: { type: 'ageOver', years: 18 } }], claims, {
        locales: [],
        now: Date.UTC(2026, 5, 2),
      }).subject,
    ).toEqual({ o: true });
  });
});
