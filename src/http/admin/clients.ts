import { randomBytes } from 'node:crypto';
import { Router } from '@koa/router';
import type { Context } from 'koa';
import type { AuditLog } from '../../audit/audit.ts';
import { hasPrivateMembers } from '../../crypto/jwk.ts';
import { AppError, Conflict, NotFound } from '../../errors.ts';
import type { ClientRegistry } from '../../oidc/clients.ts';
import { UniqueViolation } from '../../store/spi.ts';
import { readJson } from '../body.ts';

/**
 * Relying-party management (mounted under /admin): RFC 7591-style JSON. Registrations are checked
 * by oidc-provider's own client schema (so what is stored is what the provider accepts), plus our
 * policy: private_key_jwt (with `jwks` or `jwks_uri`) or `none` (public wallets, PKCE), the
 * authorization code grant with optional refresh tokens, no private keys in `jwks`. Errors name
 * the field: `{"error":"invalid_client_metadata","error_description":"jwks ..."}`.
 */
const CLIENT_ID = /^[A-Za-z0-9._~-]{3,128}$/;
const GRANT_TYPES = new Set(['authorization_code', 'refresh_token']);

class InvalidClientMetadata extends AppError {
  constructor(description: string) {
    super(400, 'invalid_client_metadata', description);
    this.name = 'invalid_client_metadata';
  }
}

export function clientAdminRoutes(deps: {
  clients: ClientRegistry;
  /** oidc-provider's Client.validate: throws its InvalidClientMetadata/InvalidRedirectUri. */
  validate(metadata: Record<string, unknown>): Promise<void>;
  audit?: AuditLog;
}): Router {
  const router = new Router();

  /** Reads and checks the registration; `clientId` is fixed on update, chosen (or generated) on create. */
  async function checked(ctx: Context, fixedId?: string): Promise<Record<string, unknown>> {
    const body = await readJson(ctx, 256 * 1024);
    if (fixedId !== undefined && body.client_id !== undefined && body.client_id !== fixedId) {
      throw new InvalidClientMetadata('client_id must match the client being updated');
    }
    const clientId =
      fixedId ?? (body.client_id === undefined ? randomBytes(16).toString('base64url') : body.client_id);
    const metadata: Record<string, unknown> = {
      token_endpoint_auth_method: 'private_key_jwt',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      ...body,
      client_id: clientId,
    };
    // Public clients are wallets: RFC 9396 authorization_details of type openid_credential unless set.
    if (
      metadata.token_endpoint_auth_method === 'none' &&
      metadata.authorization_details_types === undefined
    ) {
      metadata.authorization_details_types = ['openid_credential'];
    }
    policy(metadata);
    try {
      await deps.validate(metadata);
    } catch (error) {
      const e = error as { error?: string; error_description?: string; message?: string };
      if (e.error) throw new InvalidClientMetadata(e.error_description ?? e.message ?? e.error);
      throw error;
    }
    return metadata;
  }

  router.post('/clients', async (ctx) => {
    const metadata = await checked(ctx);
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
    const metadata = await checked(ctx, id);
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

function policy(metadata: Record<string, unknown>): void {
  const id = metadata.client_id;
  if (typeof id !== 'string' || !CLIENT_ID.test(id)) {
    throw new InvalidClientMetadata('client_id must be 3-128 characters of A-Z a-z 0-9 . _ ~ -');
  }
  const method = metadata.token_endpoint_auth_method;
  if (method !== 'private_key_jwt' && method !== 'none') {
    throw new InvalidClientMetadata('token_endpoint_auth_method must be private_key_jwt or none');
  }
  if (method === 'private_key_jwt' && metadata.jwks === undefined && metadata.jwks_uri === undefined) {
    throw new InvalidClientMetadata('jwks or jwks_uri is required for private_key_jwt');
  }
  const grants = metadata.grant_types;
  if (
    !Array.isArray(grants) ||
    !grants.every((g) => GRANT_TYPES.has(g as string)) ||
    !grants.includes('authorization_code')
  ) {
    throw new InvalidClientMetadata('grant_types must contain authorization_code and may add refresh_token');
  }
  const jwks = metadata.jwks as { keys?: unknown } | undefined;
  if (jwks !== undefined) {
    if (!jwks || typeof jwks !== 'object' || !Array.isArray(jwks.keys)) {
      throw new InvalidClientMetadata('jwks must be a JWK Set ({"keys": [...]})');
    }
    for (const key of jwks.keys as Record<string, unknown>[]) {
      if (key && typeof key === 'object' && hasPrivateMembers(key)) {
        throw new InvalidClientMetadata('jwks must hold public keys only');
      }
    }
  }
}
