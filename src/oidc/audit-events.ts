import { type AuditLog, sha256 } from '../audit/audit.ts';
import type { OidcProvider } from './provider.ts';
import type { OidcState } from './state.ts';

type OidcCtx = any;

/**
 * The provider's security events, turned into audit records (SECURITY.md row 50) in one place.
 * Registered on every provider instance the module builds. oidc-provider emits synchronously and
 * does not wait for listeners, so each listener records in the background and never throws; the
 * audit log keeps track of the pending writes.
 *
 * - `access_token.saved`: every access token the provider stores, including those of the
 *   pre-authorized code grant (src/oidc/pre-authorized.ts saves through the provider's model) →
 *   `token_issued`, with the login transaction the grant came from.
 * - `grant.revoked` at the token endpoint: a redeemed authorization code or a rotated refresh token
 *   presented again; oidc-provider revokes the grant (RFC 9700 §4.14) → `code_reuse_detected`.
 * - `grant.error` for an authorization code that is already consumed but still stored: the loser of
 *   a redemption race (the store's conditional consume, src/oidc/adapter.ts), or a replay that failed
 *   an earlier check (PKCE, redirect_uri) → `code_reuse_detected`, grant not revoked.
 */
export function registerAuditEvents(provider: OidcProvider, audit: AuditLog, state: OidcState): void {
  const safely = (what: string, task: () => Promise<void>) => {
    task().catch((error: unknown) =>
      state.logger.error({ err: { name: (error as Error)?.name }, event: what }, 'audit listener failed'),
    );
  };

  provider.on('access_token.saved', (token: OidcCtx) => {
    safely('access_token.saved', async () => {
      const record = typeof token.grantId === 'string' ? await state.grants.get(token.grantId) : undefined;
      await audit.record({
        type: 'token_issued',
        ...(record?.transactionId ? { transactionId: record.transactionId } : {}),
        ...(token.clientId ? { clientId: token.clientId } : {}),
        ...(record ? { subjectHash: audit.subjectHash(record.accountId) } : {}),
        ...(token.grantId ? { grantHash: sha256(token.grantId) } : {}),
        tokenHash: sha256(token.jti),
        grantType: token.gty,
        ...(record?.credentialConfigurationIds.length
          ? { configurationIds: record.credentialConfigurationIds }
          : {}),
      });
    });
  });

  provider.on('grant.revoked', (ctx: OidcCtx, grantId: string) => {
    const grantType = ctx?.oidc?.params?.grant_type;
    if (ctx?.oidc?.route !== 'token' || (grantType !== 'authorization_code' && grantType !== 'refresh_token'))
      return;
    const presented = grantType === 'authorization_code' ? ctx.oidc.params.code : undefined;
    safely('grant.revoked', () =>
      audit.record({
        type: 'code_reuse_detected',
        clientId: ctx.oidc.client?.clientId,
        grantType,
        grantHash: sha256(grantId),
        ...(typeof presented === 'string' ? { codeHash: sha256(presented) } : {}),
        reason: 'grant_revoked',
      }),
    );
  });

  provider.on('grant.error', (ctx: OidcCtx, error: { error?: string }) => {
    const code = ctx?.oidc?.params?.code;
    if (ctx?.oidc?.params?.grant_type !== 'authorization_code' || typeof code !== 'string') return;
    if (error?.error !== 'invalid_grant' && error?.error !== 'invalid_request') return;
    safely('grant.error', async () => {
      const stored = await provider.AuthorizationCode.find(code, { ignoreExpiration: true });
      if (!stored?.consumed) return;
      await audit.record({
        type: 'code_reuse_detected',
        clientId: ctx.oidc.client?.clientId,
        grantType: 'authorization_code',
        grantHash: sha256(stored.grantId),
        codeHash: sha256(code),
        reason: error.error,
      });
    });
  });
}
