import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, type Ledger } from '../../../src/vci/ledger.ts';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { checkAdminFetches } from '../../helpers/openapi.ts';

// Every admin call of this suite is checked against docs/openapi/admin.yaml.
checkAdminFetches();

/**
 * GET /admin/ledger pages with `limit` and an opaque `cursor` (`next_cursor` in each page but the
 * last), in insertion order. Records are seeded into the app's own store (issuing hundreds of real
 * credentials would only slow the test down); every read goes through real HTTP.
 */
describe('admin ledger paging', () => {
  let app: TestApp;
  let ledger: Ledger;
  const ids: string[] = [];

  const get = async (query: string) => {
    const res = await fetch(`${app.url}/admin/ledger${query}`, {
      headers: { Authorization: `Bearer ${app.adminToken}` },
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  const seed = async (count: number, configurationId: string) => {
    for (let i = 0; i < count; i++) {
      const id = ledger.newId();
      ids.push(id);
      await ledger.record({
        _id: id,
        configurationId,
        definitionId: 'national-id',
        definitionVersion: 1,
        format: 'ldp_vc',
        statusEntries: [],
        grantHash: 'g',
        notificationId: `n-${configurationId}`,
        issuedAt: app.clock.now(),
        validFrom: app.clock.now(),
      });
    }
  };

  /** Follows next_cursor from the first page to the last; returns every id and the page sizes. */
  const walk = async (query: string) => {
    const seen: string[] = [];
    const sizes: number[] = [];
    let page = await get(`?${query}`);
    for (;;) {
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      sizes.push(page.body.records.length);
      seen.push(...page.body.records.map((r: { _id: string }) => r._id));
      if (!page.body.next_cursor) break;
      page = await get(`?${query}&cursor=${encodeURIComponent(page.body.next_cursor)}`);
    }
    return { seen, sizes };
  };

  beforeAll(async () => {
    app = await startTestApp();
    ledger = createLedger(app.services.store, app.clock);
    // More than the largest page (1,000) and more than the default page (100).
    await seed(1_150, 'NationalIdCredential_ldp_vc');
    await seed(7, 'AgeCredential_ldp_vc');
  });
  afterAll(() => app.stop());

  it('walks more records than the largest page, each exactly once, in insertion order', async () => {
    const { seen, sizes } = await walk('limit=1000');
    expect(sizes).toEqual([1000, 157]);
    expect(seen).toEqual(ids);
  });

  it('pages 100 at a time by default and says when there is more', async () => {
    const first = await get('');
    expect(first.body.records).toHaveLength(100);
    expect(typeof first.body.next_cursor).toBe('string');
    const { seen } = await walk('');
    expect(seen).toEqual(ids);
  });

  it('keeps the filter across pages and ends without next_cursor', async () => {
    const { seen, sizes } = await walk('configuration_id=AgeCredential_ldp_vc&limit=3');
    expect(sizes).toEqual([3, 3, 1]);
    expect(seen).toEqual(ids.slice(-7));
  });

  it('gives records added while paging on a later page, never twice', async () => {
    const first = await get('?configuration_id=AgeCredential_ldp_vc&limit=5');
    await seed(2, 'AgeCredential_ldp_vc');
    const rest = await get(
      `?configuration_id=AgeCredential_ldp_vc&limit=5&cursor=${encodeURIComponent(first.body.next_cursor)}`,
    );
    expect(rest.body.records.map((r: { _id: string }) => r._id)).toEqual(ids.slice(-4));
    expect(rest.body.next_cursor).toBeUndefined();
  });

  it('refuses a bad limit or cursor with 400 invalid_request naming the parameter', async () => {
    const first = await get('?limit=2');
    for (const query of [
      '?limit=0',
      '?limit=1001',
      '?limit=ten',
      '?cursor=not-a-cursor',
      `?cursor=${encodeURIComponent(Buffer.from('{"o":-4}').toString('base64url'))}`,
      // A cursor belongs to the filters it was issued for.
      `?configuration_id=AgeCredential_ldp_vc&cursor=${encodeURIComponent(first.body.next_cursor)}`,
    ]) {
      const res = await get(query);
      expect(res.status, query).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect(res.body.error_description, query).toMatch(/^(limit|cursor)\b/);
    }
  });
});
