import { Router } from '@koa/router';
import type { Context, Next } from 'koa';
import type { AuditLog } from '../../audit/audit.ts';
import type { ConfigurationRegistry } from '../../credentials/configurations/registry.ts';
import type { CredentialDefinition } from '../../credentials/configurations/types.ts';
import { ConfigurationError, ConfigurationRetired } from '../../credentials/configurations/validate.ts';
import { Conflict, InvalidRequest, NotFound } from '../../errors.ts';
import { readJson } from '../body.ts';

/**
 * Admin API for credential configurations (mounted under /admin): list, get (with versions),
 * create, update (a new version), retire. A rejected definition answers 400 with every problem as
 * `{configuration, field, reason}`. Retiring is idempotent (again: the same answer, no new
 * version) and final: updating or re-creating a retired definition answers 409 `conflict`.
 * Every change is in the audit trail as the console's are (`configuration_created`, `_updated`,
 * `_retired` with the configuration ids); a rejected definition or a repeated retire records
 * nothing.
 */
const LIMIT = 256 * 1024;

const summary = (def: CredentialDefinition) => ({
  id: def.id,
  version: def.version ?? 1,
  retired: def.retired ?? false,
  scope: def.scope,
  credential_configuration_ids: Object.fromEntries(
    Object.entries(def.formats).map(([format, v]) => [format, v!.configurationId]),
  ),
});

async function configurationErrors(_ctx: Context, next: Next): Promise<void> {
  try {
    await next();
  } catch (error) {
    if (error instanceof ConfigurationError) {
      const unknown = error.problems.length === 1 && error.problems[0]!.reason === 'no such definition';
      if (unknown) throw new NotFound('no such credential configuration');
      // The first problem in the description (field and reason, never a value); all in `problems`.
      const [first] = error.problems;
      const more = error.problems.length > 1 ? ` (and ${error.problems.length - 1} more in problems)` : '';
      throw new InvalidRequest(
        `the credential configuration is invalid: ${first!.field || '/'}: ${first!.reason}${more}`,
        { extra: { problems: error.problems } },
      );
    }
    if (error instanceof ConfigurationRetired) {
      throw new Conflict(
        `credential configuration ${error.configuration} is retired: retiring is final, it cannot be updated or created again; create a definition with a new id`,
      );
    }
    throw error;
  }
}

/** The configuration ids a definition publishes, as audit events name them. */
const configurationIds = (def: CredentialDefinition) =>
  Object.values(def.formats).map((f) => f!.configurationId);

export function credentialConfigurationRoutes(registry: ConfigurationRegistry, audit: AuditLog): Router {
  const router = new Router({ prefix: '/credential-configurations' });
  const changed =
    (type: 'configuration_created' | 'configuration_updated' | 'configuration_retired') =>
    (def: CredentialDefinition) =>
      audit.record({ type, configurationIds: configurationIds(def) });
  router.use(configurationErrors);
  router.get('/', (ctx) => {
    ctx.body = { configurations: registry.definitions().map(summary) };
  });
  router.get('/:id', async (ctx) => {
    const def = registry.definition(ctx.params.id!);
    if (!def) throw new NotFound('no such credential configuration');
    ctx.body =
      ctx.query.versions === 'true'
        ? { ...def, versions: (await registry.versions(def.id)).map(summary) }
        : def;
  });
  router.post('/', async (ctx) => {
    const created = await registry.create(await readJson(ctx, LIMIT));
    await changed('configuration_created')(created);
    ctx.status = 201;
    ctx.set('Location', `${ctx.path.replace(/\/$/, '')}/${created.id}`);
    ctx.body = created;
  });
  router.put('/:id', async (ctx) => {
    const updated = await registry.update(ctx.params.id!, await readJson(ctx, LIMIT));
    await changed('configuration_updated')(updated);
    ctx.body = updated;
  });
  const retire = async (id: string) => {
    const already = registry.definition(id)?.retired === true;
    const retired = await registry.retire(id);
    if (!already) await changed('configuration_retired')(retired);
    return summary(retired);
  };
  router.post('/:id/retire', async (ctx) => {
    ctx.body = await retire(ctx.params.id!);
  });
  router.delete('/:id', async (ctx) => {
    ctx.body = await retire(ctx.params.id!);
  });
  return router;
}
