import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVci, type VciHarness } from './harness.ts';

/**
 * The id in a credential_offer_uri is a bearer secret: it unseals an offer that carries a
 * pre-authorized code (SECURITY.md rows 22, 26 and 39). Access log lines must not hold it, whatever
 * the method or outcome, with or without a path in the public URL.
 */
describe('credential offer ids in access logs', () => {
  for (const pathPrefix of [undefined, '/issuer']) {
    describe(pathPrefix ? `under ${pathPrefix}` : 'at the host root', () => {
      let h: VciHarness;
      beforeAll(async () => {
        h = await startVci(pathPrefix ? { pathPrefix } : {});
      });
      afterAll(() => h.stop());

      it('writes the access line of every offer request without the offer id', async () => {
        const who = await h.person();
        const created = await h.offer(['AgeCredential_ldp_vc'], who.individualId);
        const uri: string = created.credential_offer_uri;
        const offerId = uri.slice(uri.lastIndexOf('/') + 1);
        expect(offerId).toMatch(/^[A-Za-z0-9_-]{32}$/);
        const statuses: number[] = [];
        for (const [method, url] of [
          ['HEAD', uri],
          ['GET', uri],
          ['GET', uri],
          ['POST', uri],
          ['GET', `${uri}/extra`],
          // The router matches paths case-insensitively, so the log must too.
          ['HEAD', uri.replace('/credential-offer/', '/CREDENTIAL-OFFER/')],
        ] as const) {
          const res = await request(url, { method });
          await res.body.text();
          statuses.push(res.statusCode);
        }
        expect(statuses).toEqual([200, 200, 404, 405, 404, 404]);
        const lines = h.app.logs.filter(
          (l) => l.msg === 'request' && /\/credential-offer\//i.test(String(l.path)),
        );
        expect(lines.length).toBeGreaterThanOrEqual(6);
        const redacted = new RegExp(`^${pathPrefix ?? ''}/credential-offer/\\[redacted\\](/extra)?$`, 'i');
        for (const line of lines) expect(line.path).toMatch(redacted);
        expect(JSON.stringify(h.app.logs)).not.toContain(offerId);
      });
    });
  }
});
