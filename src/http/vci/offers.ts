import type { Router } from '@koa/router';
import { NotFound } from '../../errors.ts';
import type { Offers } from '../../vci/offers.ts';
import { noStore } from '../middleware.ts';

/** OpenID4VCI 1.0 §4.1.3: an offer by reference, served once. */
export function credentialOfferRoutes(router: Router, offers: Offers, basePath: string): void {
  router.get(`${basePath}/credential-offer/:offerId`, async function serveCredentialOffer(ctx) {
    const offerId = String(ctx.params.offerId ?? '');
    // Link checkers and previews send HEAD (RFC 9110 §9.3.2: GET's headers, no content): it must
    // not use up the one GET the wallet has, so it only says whether the offer is still there.
    if (ctx.method === 'HEAD') {
      if (!(await offers.available(offerId)))
        throw new NotFound('this credential offer is unknown, expired or was already used');
      noStore(ctx);
      ctx.status = 200;
      ctx.type = 'application/json';
      return;
    }
    const offer = await offers.take(offerId);
    if (!offer) throw new NotFound('this credential offer is unknown, expired or was already used');
    noStore(ctx);
    ctx.body = offer;
  });
}
