import { Router } from '@koa/router';
import type { AuditLog } from '../../audit/audit.ts';
import { createAuditedOffer } from '../../vci/audited-offer.ts';
import type { Offers } from '../../vci/offers.ts';
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
    const { created } = await createAuditedOffer(offers, audit, await readJson(ctx, 16 * 1024));
    ctx.status = 201;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = created;
  });
  return router;
}
