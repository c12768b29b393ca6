import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVci, type VciHarness } from '../vci/harness.ts';

/**
 * Admin input that people and wallets will see (names, display strings) is plain text: no control
 * characters, no bidi overrides or isolates (they reorder what an operator or a person reads, e.g.
 * "Trojan Source" style spoofing) and no lone surrogates (not text at all). Retiring (deleting an
 * identity, retiring a credential configuration) is idempotent; a retired configuration is final.
 */
const UNSAFE: [string, string][] = [
  ['NUL', 'Sara\u0000Haddad'],
  ['BEL', 'Sara\u0007'],
  ['ESC (terminal escape)', 'Sara \u001b[31mHaddad'],
  ['DEL', 'Sara\u007f'],
  ['C1 NEL', 'Sara\u0085Haddad'],
  ['LRE', '\u202aSara'],
  ['RLO', 'Sara \u202eddadaH'],
  ['PDF', 'Sara\u202c'],
  ['LRI', '\u2066Sara'],
  ['PDI', 'Sara\u2069'],
  ['lone high surrogate', 'Sara \ud83d'],
  ['lone low surrogate', 'Sara \udc69'],
  ['line feed in a name', 'Sara\nHaddad'],
];

const person = (individualId: string, claims: Record<string, unknown> = {}) => ({
  individual_id: individualId,
  claims: { name: 'Sara Haddad', 'name#ar': 'سارة حداد', email: 'sara@example.org', ...claims },
});

describe('admin text input and retiring', () => {
  let h: VciHarness;
  beforeAll(async () => {
    h = await startVci();
  });
  afterAll(() => h.stop());

  const auditCount = async (type: string) =>
    (await h.admin('GET', `/audit?type=${type}&limit=1000`)).body.records.length as number;

  describe('identities', () => {
    it.each(UNSAFE)(
      'refuses %s in a name with 400 invalid_request naming the field',
      async (_label, text) => {
        const res = await h.admin('POST', '/identities', person('7000000001', { given_name: text }));
        expect(res.status).toBe(400);
        expect(res.body.error).toBe('invalid_request');
        expect(res.body.error_description).toMatch(/^claims\.given_name: /);
        // The offending text is not echoed back (nor, through the error, into logs).
        expect(res.body.error_description).not.toContain('Sara');
      },
    );

    it('names the field for language variants, address parts and updates', async () => {
      const variant = await h.admin('POST', '/identities', person('7000000002', { 'name#ar': 'سارة\u202e' }));
      expect(variant.body.error_description).toMatch(/^claims\.name#ar: /);
      const address = await h.admin(
        'POST',
        '/identities',
        person('7000000003', { address: { locality: 'Beirut\u2067', country: 'LB' } }),
      );
      expect(address.body.error_description).toMatch(/^claims\.address\.locality: /);
      const created = await h.admin('POST', '/identities', person('7000000004'));
      expect(created.status).toBe(201);
      const patched = await h.admin('PATCH', `/identities/${created.body.account_id}`, {
        claims: { family_name: 'Haddad\u0000' },
      });
      expect(patched.status).toBe(400);
      expect(patched.body.error_description).toMatch(/^claims\.family_name: /);
      const key = await h.admin('POST', '/identities', person('7000000007', { 'name#e\u202en': 'x' }));
      expect(key.status).toBe(400);
      expect(key.body.error_description).toMatch(/^claims\.name#e\\u202en: /);
      const evidence = await h.admin('PATCH', `/identities/${created.body.account_id}`, {
        verification: { trust_framework: 'eidas', evidence: [{ type: 'document\u202e' }] },
      });
      expect(evidence.status).toBe(400);
      expect(evidence.body.error_description).toMatch(/^verification\.evidence\.0\.type: /);
    });

    it('accepts ordinary text in any script, emoji, and line breaks in a formatted address', async () => {
      const res = await h.admin(
        'POST',
        '/identities',
        person('7000000005', {
          given_name: 'Zoë 👩🏽‍⚕️',
          'family_name#ar': 'حدّاد',
          address: { formatted: '12 Rue Hamra\r\nBeirut', country: 'LB' },
        }),
      );
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    });

    it('deletes an identity idempotently: the second DELETE succeeds too and audits nothing more', async () => {
      const created = await h.admin('POST', '/identities', person('7000000006'));
      const before = await auditCount('identity_deleted');
      const first = await h.admin('DELETE', `/identities/${created.body.account_id}`);
      const second = await h.admin('DELETE', `/identities/${created.body.account_id}`);
      expect([first.status, second.status]).toEqual([204, 204]);
      expect(await auditCount('identity_deleted')).toBe(before + 1);
      expect((await h.admin('GET', `/identities/${created.body.account_id}`)).status).toBe(404);
    });
  });

  describe('credential configurations', () => {
    const definition = async (id: string, configurationId: string) => {
      const base = (await h.admin('GET', '/credential-configurations/proof-of-age')).body;
      const { version: _v, retired: _r, ...rest } = base;
      return {
        ...rest,
        id,
        scope: id,
        formats: { ldp_vc: { configurationId } },
      } as Record<string, any>;
    };

    it.each([
      ['/display/0/name', (d: any) => (d.display[0].name = 'Proof\u202eof age')],
      ['/display/0/description', (d: any) => (d.display[0].description = 'Over 18 \ud800')],
      ['/display/0/name', (d: any) => (d.display[0].name = 'Proof\u0000')],
      [
        '/claims/0/display/0/name',
        (d: any) => (d.claims[0].display = [{ name: 'Over\u2066 18', locale: 'en' }]),
      ],
    ])('refuses unsafe text at %s with 400 invalid_request naming the field', async (field, spoil) => {
      const def = await definition('spoiled', 'SpoiledCredential_ldp_vc');
      spoil(def);
      const res = await h.admin('POST', '/credential-configurations', def);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect(res.body.error_description).toContain(field);
      expect(res.body.problems).toContainEqual(expect.objectContaining({ configuration: 'spoiled', field }));
    });

    it('retires idempotently: the second retire answers the same and adds no version', async () => {
      const created = await h.admin(
        'POST',
        '/credential-configurations',
        await definition('over-age', 'OverAge_ldp_vc'),
      );
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const first = await h.admin('POST', '/credential-configurations/over-age/retire');
      const second = await h.admin('POST', '/credential-configurations/over-age/retire');
      const third = await h.admin('DELETE', '/credential-configurations/over-age');
      expect([first.status, second.status, third.status]).toEqual([200, 200, 200]);
      expect(second.body).toEqual(first.body);
      expect(third.body).toEqual(first.body);
      expect(first.body).toMatchObject({ retired: true, version: 2 });
      const versions = await h.admin('GET', '/credential-configurations/over-age?versions=true');
      expect(versions.body.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    });

    it('refuses to update a retired configuration with 409 conflict', async () => {
      const def = await definition('retired-then-updated', 'RetiredThenUpdated_ldp_vc');
      expect((await h.admin('POST', '/credential-configurations', def)).status).toBe(201);
      await h.admin('POST', '/credential-configurations/retired-then-updated/retire');
      const res = await h.admin('PUT', '/credential-configurations/retired-then-updated', def);
      expect(res.status).toBe(409);
      expect(res.body.error).toBe('conflict');
      expect(res.body.error_description).toMatch(/retired/);
      const after = await h.admin('GET', '/credential-configurations/retired-then-updated');
      expect(after.body).toMatchObject({ retired: true, version: 2 });
      // Its configuration ids stay out of the metadata.
      const metadata = (await (await fetch(`${h.url}/.well-known/openid-credential-issuer`)).json()) as any;
      expect(metadata.credential_configurations_supported.RetiredThenUpdated_ldp_vc).toBeUndefined();
    });
  });
});
