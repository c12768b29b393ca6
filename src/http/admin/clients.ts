import { Router } from '@koa/router';
import type { Context } from 'koa';
import type { AuditLog } from '../../audit/audit.ts';
import { Conflict, NotFound } from '../../errors.ts';
import { checkRegistration } from '../../oidc/client-policy.ts';
import type { ClientRegistry } from '../../oidc/clients.ts';
import { UniqueViolation } from '../../store/spi.ts';
import { readJson } from '../body.ts';

/**
 * Relying-party management (mounted under /admin): RFC 7591-style JSON. Registrations are checked
 * by oidc-provider's own client schema (so what is stored is what the provider accepts), plus our
 * policy (src/oidc/client-policy.ts). Errors name the field:
 * `{"error":"invalid_client_metadata","error_description":"jwks ..."}`.
 */
export function clientAdminRoutes(deps: {
  clients: ClientRegistry;
  /** oidc-provider's Client.validate: throws its InvalidClientMetadata/InvalidRedirectUri. */
  validate(metadata: Record<string, unknown>): Promise<void>;
  audit?: AuditLog;
}): Router {
  const router = new Router();

  router.post('/clients', async (ctx) => {
    const metadata = await checked(ctx, deps.validate);
    const id = metadata.client_id as string;
    try {
      await deps.clients.create(id, metadata);
    } catch (error) {
      if (error instanceof UniqueViolation)
        throw new Conflict(`a client with client_id "${id}" already exists`);
      throw error;
    }
    await deps.audit?.record({ type: 'client_created', clientId: id });
    ctx.status = 201;
    ctx.set('Location', `${ctx.path}/${encodeURIComponent(id)}`);
    ctx.body = await deps.clients.find(id);
  });

  router.get('/clients', async (ctx) => {
    ctx.body = { clients: await deps.clients.list() };
  });

  router.get('/clients/:id', async (ctx) => {
    const client = await deps.clients.find(ctx.params.id!);
    if (!client) throw new NotFound('no such client');
    ctx.body = client;
  });

  router.put('/clients/:id', async (ctx) => {
    const id = ctx.params.id!;
    if (!(await deps.clients.find(id))) throw new NotFound('no such client');
    const metadata = await checked(ctx, deps.validate, id);
    await deps.clients.replace(id, metadata);
    await deps.audit?.record({ type: 'client_updated', clientId: id });
    ctx.body = await deps.clients.find(id);
  });

  router.delete('/clients/:id', async (ctx) => {
    if (!(await deps.clients.delete(ctx.params.id!))) throw new NotFound('no such client');
    await deps.audit?.record({ type: 'client_deleted', clientId: ctx.params.id! });
    ctx.status = 204;
  });

  return router;
}

/** Reads and checks the registration; `clientId` is fixed on update, chosen (or generated) on create. */
async function checked(
  ctx: Context,
  validate: (metadata: Record<string, unknown>) => Promise<void>,
  fixedId?: string,
): Promise<Record<string, unknown>> {
  return checkRegistration(await readJson(ctx, 256 * 1024), validate, fixedId);
}
