import { Router } from '@koa/router';
import type { AuditLog } from '../../audit/audit.ts';
import { InvalidRequest, NotFound } from '../../errors.ts';
import { revokeConsent } from '../../oidc/consent-revocation.ts';
import type { ConsentRecord, Consents } from '../../oidc/consents.ts';
import type { GrantRecords } from '../../oidc/grant-records.ts';

/**
 * A person's consents (mounted under /admin): list them by identity-system account id or by
 * subject, and revoke one. Revoking deletes the remembered consent and revokes every grant the
 * person gave that client, with their access and refresh tokens.
 */
export function consentAdminRoutes(deps: {
  consents: Consents;
  grants: GrantRecords;
  revokeGrant(grantId: string): Promise<void>;
  audit: AuditLog;
}): Router {
  const router = new Router();

  router.get('/consents', async (ctx) => {
    const accountId = ctx.query.account_id;
    const subject = ctx.query.subject;
    let records: ConsentRecord[];
    if (typeof accountId === 'string' && accountId) records = await deps.consents.forAccount(accountId);
    else if (typeof subject === 'string' && subject) records = await deps.consents.forSubject(subject);
    else throw new InvalidRequest('give account_id or subject (once)');
    ctx.body = { consents: records.map(view) };
  });

  router.get('/consents/:id', async (ctx) => {
    const record = await deps.consents.get(ctx.params.id!);
    if (!record) throw new NotFound('no such consent');
    ctx.body = view(record);
  });

  router.delete('/consents/:id', async (ctx) => {
    const record = await deps.consents.get(ctx.params.id!);
    if (!record) throw new NotFound('no such consent');
    await revokeConsent(deps, record);
    ctx.status = 204;
  });

  return router;
}

function view(record: ConsentRecord) {
  return {
    id: record._id,
    client_id: record.clientId,
    subject: record.subject,
    account_id: record.accountId,
    identity_system: record.identitySystem,
    scopes: record.scopes,
    accepted_claims: record.acceptedClaims,
    declined_claims: record.declinedClaims,
    authorization_details: record.authorizationDetails,
    given_at: new Date(record.givenAt).toISOString(),
    expires_at: new Date(record.expiresAt).toISOString(),
  };
}
