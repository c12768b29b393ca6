import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { libraryCard } from '../../helpers/console.ts';

/**
 * The admin API changes credential types as the console does, and leaves the same audit trail:
 * `configuration_created`, `configuration_updated` and `configuration_retired` with the
 * configuration ids (no operator: the bearer token is automation). A rejected definition and a
 * repeated retire record nothing.
 */
describe('admin API credential-type changes in the audit trail', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app?.stop());

  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${app.url}/admin${path}`, {
      method,
      headers: {
        authorization: `Bearer ${app.adminToken}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  };
  const trail = async () => {
    await app.services.audit.settled();
    return (await app.services.audit.list({ limit: 100, days: 1 })).filter((r) =>
      r.type.startsWith('configuration_'),
    );
  };

  it('create, update and retire are audited with the configuration ids; refusals and repeats are not', async () => {
    const card = libraryCard();
    const bad = await admin('POST', '/credential-configurations', {
      ...card,
      formats: { ldp_vc: { ...card.formats.ldp_vc, cryptosuite: 'rot13-2025' } },
    });
    expect(bad.status).toBe(400);
    expect(await trail()).toEqual([]);

    expect((await admin('POST', '/credential-configurations', card)).status).toBe(201);
    expect(
      (
        await admin('PUT', '/credential-configurations/library-card', {
          ...card,
          display: [{ name: 'Library card', locale: 'en' }],
        })
      ).status,
    ).toBe(200);
    expect((await admin('POST', '/credential-configurations/library-card/retire')).status).toBe(200);
    expect((await admin('DELETE', '/credential-configurations/library-card')).status).toBe(200);
    expect((await admin('PUT', '/credential-configurations/library-card', card)).status).toBe(409);

    const events = (await trail()).reverse();
    expect(events.map((r) => r.type)).toEqual([
      'configuration_created',
      'configuration_updated',
      'configuration_retired',
    ]);
    for (const event of events) {
      expect(event.configurationIds).toEqual(['LibraryCard_ldp_vc']);
      expect(event.operatorId).toBeUndefined();
    }
  });
});
