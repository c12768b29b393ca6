import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { checkAdminFetches } from '../../helpers/openapi.ts';

// Every admin call of this suite is checked against docs/openapi/admin.yaml.
checkAdminFetches();

const person = {
  individual_id: '9012345678',
  claims: {
    name: 'Sara Haddad',
    'name#ar': 'سارة حداد',
    birthdate: '1988-05-17',
    email: 'sara.haddad@example.org',
    phone_number: '+96170123456',
    address: { locality: 'Beirut', country: 'LB' },
  },
  pin: '135790',
  password: 'Cedars-of-Lebanon',
};

describe('admin identities API', () => {
  let app: TestApp;
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${app.url}/admin${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${app.adminToken}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    app = await startTestApp({ overrides: { kyc: { scryptCost: 1024, notify: { outboxEnabled: true } } } });
  });
  afterAll(() => app.stop());

  it('creates, reads, lists, updates and deletes an identity, never cached', async () => {
    const created = await call('POST', '/identities', person);
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const view = (await created.json()) as Record<string, unknown>;
    expect(view).toMatchObject({
      individual_id: '9012345678',
      kyc_pending: false,
      has_pin: true,
      has_password: true,
      claims: { name: 'Sara Haddad', 'name#ar': 'سارة حداد' },
    });
    expect(JSON.stringify(view)).not.toContain('135790');
    const accountId = view.account_id as string;
    expect(created.headers.get('location')).toBe(`${app.url}/admin/identities/${accountId}`);

    const read = await call('GET', `/identities/${accountId}`);
    expect(read.status).toBe(200);
    expect(((await read.json()) as { claims: unknown }).claims).toEqual(person.claims);

    const list = (await (await call('GET', '/identities')).json()) as {
      identities: { account_id: string }[];
    };
    expect(list.identities.map((i) => i.account_id)).toContain(accountId);

    const lookup = await call('POST', '/identities/lookup', { individual_id: '9012-345-678' });
    expect(((await lookup.json()) as { account_id: string }).account_id).toBe(accountId);

    const patched = await call('PATCH', `/identities/${accountId}`, { kyc_pending: true, pin: null });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ kyc_pending: true, has_pin: false, has_password: true });

    expect((await call('DELETE', `/identities/${accountId}`)).status).toBe(204);
    const gone = await call('GET', `/identities/${accountId}`);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ error: 'not_found' });
  });

  it('rejects invalid input naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ ...person, individual_id: '1' }, 'individual_id'],
      [{ ...person, claims: { ...person.claims, birthdate: '17/05/1988' } }, 'claims.birthdate'],
      [{ ...person, claims: { ...person.claims, 'birthdate#ar': 'x' } }, 'claims.birthdate#ar'],
      [{ ...person, claims: { ...person.claims, ssn: '1' } }, 'claims.ssn'],
      [{ ...person, pin: '12a4' }, 'pin'],
      [{ ...person, extra: 1 }, 'extra'],
    ];
    for (const [body, field] of cases) {
      const response = await call('POST', '/identities', body);
      expect(response.status).toBe(400);
      const error = (await response.json()) as { error: string; error_description: string };
      expect(error.error).toBe('invalid_request');
      expect(error.error_description.startsWith(`${field}:`)).toBe(true);
    }
  });

  it('refuses a second identity with the same individual ID', async () => {
    const body = { ...person, individual_id: '5550001111' };
    expect((await call('POST', '/identities', body)).status).toBe(201);
    const again = await call('POST', '/identities', { ...body, individual_id: '555 000 1111' });
    expect(again.status).toBe(409);
  });

  it('requires the admin token', async () => {
    const response = await fetch(`${app.url}/admin/identities`);
    expect(response.status).toBe(401);
  });

  it('lists outbox messages newest first, filtered by recipient', async () => {
    const systems = app.running.parts.kyc.identitySystems;
    await systems.sendToIndividual('5550001111', { subject: 'one', text: 'first' });
    await systems.sendToIndividual('5550001111', { subject: 'two', text: 'second' });
    const response = await call('GET', `/outbox?to=${encodeURIComponent(person.claims.email)}`);
    expect(response.status).toBe(200);
    const { messages } = (await response.json()) as { messages: { subject: string; to: string }[] };
    expect(messages.map((m) => m.subject)).toEqual(['two', 'one']);
    expect(messages.every((m) => m.to === person.claims.email)).toBe(true);
  });
});
