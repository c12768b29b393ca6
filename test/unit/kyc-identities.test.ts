import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidTransaction, ServerError } from '../../src/errors.ts';
import { selectClaims } from '../../src/kyc/claims.ts';
import { deriveKey, seal } from '../../src/kyc/crypto.ts';
import { demoIdentities, seedDemoIdentities } from '../../src/kyc/demo.ts';
import { createPerson, type KycHarness, kycHarness, person, tx } from '../protocol/kyc/harness.ts';

let h: KycHarness;
afterEach(() => h?.close());

const pin = [{ factor: 'pin' as const, value: '246810' }];

describe('identities at rest', () => {
  it('keeps no plaintext personal data in the store, and a key id with each record', async () => {
    h = await kycHarness();
    await createPerson(h);
    const raw = h.rawRows().join('\n');
    for (const secret of [
      'Nadia',
      'نادية',
      'nadia.karim@example.org',
      '+971501234567',
      '1991-03-09',
      '4455667788',
      'Sharjah',
    ]) {
      expect(raw).not.toContain(secret);
    }
    const [doc] = (
      h.db.prepare("SELECT body FROM docs WHERE coll = 'identities'").all() as { body: string }[]
    ).map((row) => JSON.parse(row.body));
    expect(doc.sealed.kid).toMatch(/^kyc-/);
    expect(Object.keys(doc.sealed).sort()).toEqual(['ct', 'iv', 'kid', 'tag']);
  });

  it('uses a fresh IV for every sealed record (10,000 records, no repeat)', () => {
    const key = deriveKey('x'.repeat(32), 'identity-records');
    const ivs = new Set<string>();
    for (let i = 0; i < 10_000; i++) ivs.add(seal(key, { i }, `id-${i}`).iv);
    expect(ivs.size).toBe(10_000);
  });

  it('turns a flipped ciphertext byte into a handled error with an audit log line', async () => {
    h = await kycHarness();
    const identity = await createPerson(h);
    const row = h.db.prepare("SELECT body FROM docs WHERE coll = 'identities'").get() as { body: string };
    const doc = JSON.parse(row.body);
    const ct = Buffer.from(doc.sealed.ct, 'base64url');
    ct[5] = ct[5]! ^ 0x01;
    doc.sealed.ct = ct.toString('base64url');
    h.db.prepare("UPDATE docs SET body = ? WHERE coll = 'identities'").run(JSON.stringify(doc));

    const error = await h.context.identities.get(identity.accountId).catch((e) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect(error.status).toBe(500);
    expect(error.description).not.toContain('Nadia');
    expect(
      h.logs.some((line) => line.audit === 'kyc_record_unreadable' && line.accountId === identity.accountId),
    ).toBe(true);
    await expect(
      h.mock.authenticate(
        '4455667788',
        [{ factor: 'kbi', value: { name: 'Nadia Karim', birthdate: '1991-03-09' } }],
        tx(),
      ),
    ).rejects.toBeInstanceOf(ServerError);
  });

  it('refuses a sealed record moved onto another account', async () => {
    h = await kycHarness();
    const a = await createPerson(h);
    const b = await createPerson(h, { individualId: '1231231231' });
    const rows = h.db.prepare("SELECT id, body FROM docs WHERE coll = 'identities'").all() as {
      id: string;
      body: string;
    }[];
    const bodyA = JSON.parse(rows.find((r) => r.id === a.accountId)!.body);
    const bodyB = JSON.parse(rows.find((r) => r.id === b.accountId)!.body);
    bodyB.sealed = bodyA.sealed;
    h.db
      .prepare("UPDATE docs SET body = ? WHERE coll = 'identities' AND id = ?")
      .run(JSON.stringify(bodyB), b.accountId);
    await expect(h.context.identities.get(b.accountId)).rejects.toBeInstanceOf(ServerError);
  });
});

describe('subjects and KYC exchange', () => {
  it('gives each relying party its own stable pairwise subject', async () => {
    h = await kycHarness();
    await createPerson(h);
    const a1 = await h.mock.authenticate('4455667788', pin, tx('rp-a'));
    const a2 = await h.mock.authenticate('4455667788', pin, tx('rp-a'));
    const b = await h.mock.authenticate('4455667788', pin, tx('rp-b'));
    const sector = await h.mock.authenticate('4455667788', pin, { ...tx('rp-c'), sectorIdentifier: 'rp-a' });
    expect(a1.subject).toBe(a2.subject);
    expect(a1.subject).not.toBe(b.subject);
    expect(a1.subject).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sector.subject).toBe(a1.subject);
    expect(a1.subject).not.toContain(a1.accountId);
    expect(a1.kycToken).not.toBe(a2.kycToken);
  });

  it('releases only the accepted claims, localized by claims_locales', async () => {
    h = await kycHarness();
    await createPerson(h, { verification: { trust_framework: 'demo' } });
    const { kycToken } = await h.mock.authenticate('4455667788', pin, tx('rp-a'));
    const plain = await h.mock.exchangeKyc(kycToken, ['name', 'birthdate'], [], { clientId: 'rp-a' });
    expect(plain).toEqual({
      claims: { name: 'Nadia Karim', birthdate: '1991-03-09' },
      // One `verification` element (the earlier form) covers every claim: here the released ones.
      verifications: [{ verification: { trust_framework: 'demo' }, claims: ['name', 'birthdate'] }],
    });
    const arabic = await h.mock.exchangeKyc(kycToken, ['name', 'address', 'email'], ['ar', 'en']);
    expect(arabic.claims).toEqual({
      name: 'نادية كريم',
      'name#ar': 'نادية كريم',
      'name#en': 'Nadia Karim',
      address: { locality: 'الشارقة', country: 'AE' },
      'address#ar': { locality: 'الشارقة', country: 'AE' },
      'address#en': { locality: 'Sharjah', country: 'AE' },
      email: 'nadia.karim@example.org',
    });
  });

  it('refuses a KYC token from another client or after 300 s', async () => {
    h = await kycHarness();
    await createPerson(h);
    const { kycToken } = await h.mock.authenticate('4455667788', pin, tx('rp-a'));
    await expect(h.mock.exchangeKyc(kycToken, ['name'], [], { clientId: 'rp-b' })).rejects.toBeInstanceOf(
      InvalidTransaction,
    );
    await expect(h.mock.exchangeKyc('made-up', ['name'], [])).rejects.toBeInstanceOf(InvalidTransaction);
    h.clock.advanceSeconds(301);
    await expect(h.mock.exchangeKyc(kycToken, ['name'], [], { clientId: 'rp-a' })).rejects.toBeInstanceOf(
      InvalidTransaction,
    );
    const raw = h.rawRows().join('\n');
    expect(raw).not.toContain(kycToken);
  });

  it('reports a pending KYC without claims, and claims for an account without a login', async () => {
    h = await kycHarness();
    const pending = await createPerson(h, { pending: true });
    const ready = await createPerson(h, { individualId: '3213213213' });
    expect(await h.mock.claimsForAccount(pending.accountId, ['name'], [])).toEqual({
      claims: {},
      pending: true,
    });
    expect(await h.mock.claimsForAccount(ready.accountId, ['given_name'], ['ar'])).toEqual({
      claims: { given_name: 'نادية', 'given_name#ar': 'نادية' },
    });
    expect(await h.mock.accountFor('321-321-3213')).toBe(ready.accountId);
    expect(await h.mock.accountFor('0000000000')).toBeUndefined();
  });

  it('picks the untagged value when no requested locale exists', () => {
    const claims = person().claims;
    expect(selectClaims(claims, ['name'], ['fr'], 'en')).toEqual({ name: 'Nadia Karim' });
    expect(selectClaims(claims, ['name#ar', 'nickname'], [], 'en')).toEqual({ 'name#ar': 'نادية كريم' });
  });
});

describe('registry and messages to people', () => {
  it('serves each client from its configured system', async () => {
    h = await kycHarness({
      systems: { mock: {}, national: { type: 'http', baseUrl: 'http://127.0.0.1:9' } },
      clientSystems: { 'gov-portal': 'national' },
    });
    expect(h.registry.names()).toEqual(['mock', 'national']);
    expect(h.registry.forClient('gov-portal').name).toBe('national');
    expect(h.registry.forClient('anyone-else').name).toBe('mock');
    expect(h.registry.defaultSystem().name).toBe('mock');
    expect(() => h.registry.get('nope')).toThrow(ServerError);
  });

  it('sends a message to a person by account id or individual ID, e-mail first', async () => {
    h = await kycHarness();
    const identity = await createPerson(h);
    const byAccount = await h.registry.sendToIndividual(identity.accountId, {
      subject: 'Your transaction code',
      text: 'Code 4821',
      purpose: 'tx_code',
    });
    expect(byAccount.maskedTo).toBe('n***@example.org');
    const bySms = await h.registry.sendToIndividual('4455667788', {
      subject: 's',
      text: 't',
      channel: 'sms',
    });
    expect(bySms.maskedTo).toBe('*** **67');
    expect(h.sent.map((m) => [m.channel, m.to, m.purpose])).toEqual([
      ['email', 'nadia.karim@example.org', 'tx_code'],
      ['sms', '+971501234567', 'notice'],
    ]);
  });
});

describe('demo identities', () => {
  it('seeds the demo people once and writes what to type for each', async () => {
    h = await kycHarness();
    const first = await seedDemoIdentities(h.services, h.context);
    const second = await seedDemoIdentities(h.services, h.context);
    expect(first.created).toBe(demoIdentities().length);
    expect(second.created).toBe(0);
    const file = join(h.services.config.resolved.dataDir, 'demo-identities.json');
    expect(first.file).toBe(file);
    expect(existsSync(file)).toBe(true);
    const listed = JSON.parse(readFileSync(file, 'utf8')).identities as {
      individualId: string;
      pin: string;
      password: string;
      kbi: Record<string, string>;
      kycPending: boolean;
    }[];
    expect(listed.length).toBeGreaterThanOrEqual(5);
    expect(listed.filter((p) => p.kycPending)).toHaveLength(1);
    for (const p of listed) {
      await expect(
        h.mock.authenticate(p.individualId, [{ factor: 'pin', value: p.pin }], tx()),
      ).resolves.toBeDefined();
      await expect(
        h.mock.authenticate(p.individualId, [{ factor: 'password', value: p.password }], tx()),
      ).resolves.toBeDefined();
      await expect(
        h.mock.authenticate(p.individualId, [{ factor: 'kbi', value: p.kbi }], tx()),
      ).resolves.toBeDefined();
    }
  });

  it('ship realistic people: names in English and Arabic, address, contacts and a small photo', () => {
    for (const p of demoIdentities()) {
      expect(p.claims).toMatchObject({ name: expect.any(String), 'name#ar': expect.any(String) });
      for (const claim of [
        'given_name',
        'family_name',
        'birthdate',
        'gender',
        'email',
        'phone_number',
        'address',
      ]) {
        expect(p.claims[claim]).toBeDefined();
      }
      expect(p.claims.picture).toMatch(/^data:image\/svg\+xml;base64,/);
      expect((p.claims.picture as string).length).toBeLessThan(1000);
    }
  });
});
