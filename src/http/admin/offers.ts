import { Router } from '@koa/router';
import { type AuditLog, sha256 } from '../../audit/audit.ts';
import type { Offers } from '../../vci/offers.ts';
import { PRE_AUTHORIZED_GRANT } from '../../vci/pre-authorized.ts';
import { readJson } from '../body.ts';

/**
 * `POST /admin/credential-offers` `{"credential_configuration_ids": [...], "individual_id": "...",
 * "tx_code": true}` → 201 with the offer by value, its `credential_offer_uri`, the
 * `openid-credential-offer://` URLs and a QR code (SVG). The tx_code goes to the person through the
 * identity system's notifier, never into this response. Each offer is audited by the hash of its
 * pre-authorized code (or issuer_state), never the code itself.
 */
export function offerRoutes(offers: Offers, audit: AuditLog): Router {
  const router = new Router();
  router.post('/credential-offers', async (ctx) => {
    const created = await offers.create(await readJson(ctx, 16 * 1024));
    const offer = created.credential_offer as {
      credential_configuration_ids: string[];
      grants: Record<string, Record<string, unknown>>;
    };
    const [grantType, grant] = Object.entries(offer.grants)[0] ?? [];
    const secret = grant?.['pre-authorized_code'] ?? grant?.issuer_state;
    await audit.record({
      type: 'offer_created',
      configurationIds: offer.credential_configuration_ids,
      ...(grantType
        ? { grantType: grantType === PRE_AUTHORIZED_GRANT ? 'pre-authorized_code' : grantType }
        : {}),
      ...(typeof secret === 'string' ? { codeHash: sha256(secret) } : {}),
    });
    ctx.status = 201;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = created;
  });
  return router;
}
