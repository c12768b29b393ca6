import { Router } from '@koa/router';
import type { ConfigurationRegistry } from '../../credentials/configurations/registry.ts';
import type { StatusService } from '../../credentials/status/service.ts';
import type { IssuerCa } from '../../credentials/x509/issuer-ca.ts';
import { InvalidRequest } from '../../errors.ts';
import type { KycRegistry } from '../../kyc/registry.ts';
import type { OidcState } from '../../oidc/state.ts';
import type { Services } from '../../services.ts';
import type { Ledger } from '../../vci/ledger.ts';
import type { Offers } from '../../vci/offers.ts';
import { auditRoutes } from './audit.ts';
import { requireAdmin } from './auth.ts';
import { clientAdminRoutes } from './clients.ts';
import { consentAdminRoutes } from './consents.ts';
import { credentialConfigurationRoutes } from './credential-configurations.ts';
import { identityAdminRoutes } from './identities.ts';
import { ledgerRoutes } from './ledger.ts';
import { offerRoutes } from './offers.ts';
import { openApiRoutes } from './openapi.ts';
import { outboxAdminRoutes } from './outbox.ts';
import { signerRevocationRoutes } from './signer-certificates.ts';

/** The built parts the admin API works on (src/compose.ts). */
export interface AdminParts {
  readonly services: Services;
  readonly kyc: { readonly identitySystems: KycRegistry };
  readonly credentials: {
    readonly issuerCa: IssuerCa;
    readonly status: StatusService;
    readonly configurations: ConfigurationRegistry;
  };
  readonly grants: { readonly offers: Offers };
  readonly oidc: {
    readonly state: Pick<OidcState, 'clients' | 'consents' | 'grants'>;
    revokeGrant(grantId: string): Promise<void>;
    validateClient(metadata: Record<string, unknown>): Promise<void>;
  };
  readonly vci: { readonly ledger: Ledger };
}

/**
 * The admin API under /admin, every route behind the admin bearer token: service and keys, the
 * audit trail, identities and the development outbox, credential configurations, offers, the
 * ledger, signer certificates, clients and consents.
 */
export function adminRouter(parts: AdminParts): Router {
  const { services, kyc, credentials, grants, oidc, vci } = parts;
  const { audit } = services;
  const router = new Router({ prefix: '/admin' });
  router.use(requireAdmin(services.config.admin.token));
  router.use(serviceRoutes(services).routes());
  router.use(auditRoutes(audit).routes());
  const { context } = kyc.identitySystems;
  const { state } = oidc;
  for (const routes of [
    identityAdminRoutes(services, context.identities),
    outboxAdminRoutes(services, context.notifications.outboxEnabled),
    credentialConfigurationRoutes(credentials.configurations, audit),
    offerRoutes(grants.offers, audit),
    ledgerRoutes({ ledger: vci.ledger, status: credentials.status, audit }),
    signerRevocationRoutes({
      issuerCa: credentials.issuerCa,
      keys: services.keys,
      audit,
      publicUrl: services.config.resolved.publicUrl,
    }),
    clientAdminRoutes({ clients: state.clients, audit, validate: oidc.validateClient }),
    consentAdminRoutes({
      consents: state.consents,
      grants: state.grants,
      revokeGrant: oidc.revokeGrant,
      audit,
    }),
    openApiRoutes(),
  ]) {
    router.use(routes.routes());
  }
  return router;
}

/** What the service is, and its signing keys: list and rotate. */
function serviceRoutes(services: Services): Router {
  const router = new Router();
  router.get('/', (ctx) => {
    ctx.body = {
      service: 'issuer',
      publicUrl: services.config.resolved.publicUrl,
      store: services.store.kind,
    };
  });
  router.get('/keys', (ctx) => {
    ctx.body = {
      keys: (['credential', 'oidc', 'encryption'] as const).flatMap((purpose) =>
        services.keys.published(purpose).map((key) => ({
          kid: key.kid,
          purpose: key.purpose,
          alg: key.alg,
          status: key.status,
          createdAt: new Date(key.createdAt).toISOString(),
          publishUntil: key.publishUntil ? new Date(key.publishUntil).toISOString() : null,
        })),
      ),
    };
  });
  router.post('/keys/rotate', async (ctx) => {
    const purpose = ctx.query.purpose ?? 'credential';
    if (purpose !== 'credential' && purpose !== 'oidc' && purpose !== 'encryption') {
      throw new InvalidRequest('purpose must be "credential", "oidc" or "encryption"');
    }
    const rotated = await services.keys.rotate(purpose);
    ctx.status = 201;
    ctx.body = { rotated: rotated.map((key) => ({ kid: key.kid, purpose: key.purpose, alg: key.alg })) };
  });
  return router;
}
