import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holderKey, preAuthorizedCode, proofJwt, startVci, type VciHarness } from './harness.ts';

/**
 * Nothing personal or secret stays behind from issuance (ARCHITECTURE.md "Data that must never leak";
 * SECURITY.md row 26 for the issuance part): after offer, tx_code, token, credential and notification,
 * no raw row outside the identity store and the development outbox holds the person's claims, their
 * individual ID, the tx_code or the pre-authorized code, and no log line does either.
 */
describe('issuance leaves no personal data or secrets behind', () => {
  let h: VciHarness;
  let file: string;
  beforeAll(async () => {
    h = await startVci({ overrides: { store: { embeddedFile: 'sentinel.db' } } });
    file = join(h.app.dataDir, 'sentinel.db');
  });
  afterAll(() => h.stop());

  it('stores no claims, individual ID, tx_code or pre-authorized code', async () => {
    const who = await h.person({
      claims: {
        given_name: 'Zqxsentinelgiven',
        family_name: 'Zqxsentinelfamily',
        birthdate: '1977-03-04',
        address: { locality: 'Zqxsentineltown', country: 'MA' },
      },
    });
    const offer = await h.offer(
      ['NationalIdCredential_ldp_vc', 'AgeCredential_ldp_vc'],
      who.individualId,
      true,
    );
    const code: string = preAuthorizedCode(offer);
    const txCode = await h.txCode(who.email);
    const token = (await h.token(code, txCode)).body.access_token;
    const res = await h.post(
      '/credential',
      {
        credential_configuration_id: 'NationalIdCredential_ldp_vc',
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
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body)).toContain('Zqxsentinelgiven');
    await h.post(
      '/notification',
      { notification_id: res.body.notification_id, event: 'credential_accepted' },
      { authorization: `Bearer ${token}` },
    );

    const db = new DatabaseSync(file, { readOnly: true });
    const rows = db
      .prepare("SELECT coll, id, body FROM docs WHERE coll NOT IN ('identities', 'outbox', 'kyc_outbox')")
      .all() as { coll: string; id: string; body: string }[];
    const counters = db.prepare('SELECT key FROM counters').all() as { key: string }[];
    db.close();
    const text = [...rows.map((r) => `${r.coll} ${r.id} ${r.body}`), ...counters.map((c) => c.key)].join(
      '\n',
    );
    for (const marker of ['Zqxsentinel', '1977-03-04', who.individualId, who.email, code])
      expect(text).not.toContain(marker);
    expect(text).not.toMatch(new RegExp(`\\b${txCode}\\b`));
    const ledger = rows.filter((r) => r.coll === 'ledger');
    expect(ledger.length).toBeGreaterThan(0);
    const logs = JSON.stringify(h.app.logs);
    for (const marker of ['Zqxsentinel', who.individualId, code, txCode]) expect(logs).not.toContain(marker);
  });
});
