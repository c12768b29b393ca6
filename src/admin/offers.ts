import { Router } from '@koa/router';
import { readJson } from '../http/body.ts';
import type { Offers } from '../vci/offers.ts';

/**
 * `POST /admin/credential-offers` `{"credential_configuration_ids": [...], "individual_id": "...",
 * "tx_code": true}` → 201 with the offer by value, its `credential_offer_uri`, the
 * `openid-credential-offer://` URLs and a QR code (SVG). The tx_code goes to the person through the
 * identity system's notifier, never into this response.
 */
export function offerRoutes(offers: Offers): Router {
  const router = new Router();
  router.post('/credential-offers', async (ctx) => {
    const created = await offers.create(await readJson(ctx, 16 * 1024));
    ctx.status = 201;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = created;
  });
  return router;
}
