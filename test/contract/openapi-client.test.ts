import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import createClient from 'openapi-fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENERATED, generateAdminClientTypes } from '../../scripts/openapi-client.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { redeem } from './admin-tour.ts';
import type { paths } from './generated/admin-api.ts';

/**
 * A client generated from docs/openapi/admin.yaml by a standard generator (openapi-typescript for
 * the types, openapi-fetch for the calls) runs an operator's day against a demo service: it creates
 * an offer, a wallet redeems it, the client finds the credential in the ledger and revokes it.
 */
describe('the admin client generated from the document', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { DEMO: 'on' }, overrides: { kyc: { scryptCost: 1024 } } });
  });
  afterAll(() => app.stop());

  it('is what openapi-typescript generates from the document now (run scripts/openapi-client.ts)', async () => {
    expect(readFileSync(GENERATED, 'utf8')).toBe(await generateAdminClientTypes());
  });

  it('creates an offer, reads the ledger and revokes a credential', async () => {
    const admin = createClient<paths>({
      baseUrl: new URL(app.url).origin,
      headers: { Authorization: `Bearer ${app.adminToken}` },
    });
    const demo = JSON.parse(readFileSync(join(app.dataDir, 'demo-identities.json'), 'utf8')) as {
      identities: { individualId: string }[];
    };
    const offer = await admin.POST('/admin/credential-offers', {
      body: {
        credential_configuration_ids: ['AgeCredential_ldp_vc'],
        individual_id: demo.identities[0]!.individualId,
      },
    });
    expect(offer.response.status).toBe(201);
    expect(offer.data!.credential_offer.credential_configuration_ids).toEqual(['AgeCredential_ldp_vc']);
    await redeem(app.url, offer.data!);

    const page = await admin.GET('/admin/ledger', {
      params: { query: { configuration_id: 'AgeCredential_ldp_vc', limit: 10 } },
    });
    expect(page.response.status).toBe(200);
    const [record] = page.data!.records;
    expect(record).toMatchObject({ configurationId: 'AgeCredential_ldp_vc', status: 'issued' });

    const revoked = await admin.POST('/admin/ledger/{id}/{action}', {
      params: { path: { id: record!._id, action: 'revoke' } },
    });
    expect(revoked.data).toEqual({ id: record!._id, status: 'revoked', changed: 1 });
    const after = await admin.GET('/admin/ledger/{id}', { params: { path: { id: record!._id } } });
    expect(after.data).toMatchObject({ status: 'revoked', current_status: 'revoked' });

    // Errors come back as the document's error body.
    const unknown = await admin.GET('/admin/ledger/{id}', { params: { path: { id: 'nope' } } });
    expect(unknown.response.status).toBe(404);
    expect(unknown.error).toEqual({ error: 'not_found', error_description: 'no such ledger record' });
  });
});
