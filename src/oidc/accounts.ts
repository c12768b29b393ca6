import { errors } from 'oidc-provider';
import { describeRequest } from './claims.ts';
import type { OidcState } from './state.ts';

/** The provider's accounts and grant reuse, read from the grants and consents the interaction made. */

type OidcCtx = any;

/**
 * Accounts are the pairwise subjects; their claims are the grant's consented KYC claims. When the
 * identity system can no longer release them (KYC token expired, registry down), the token is
 * refused rather than answered with fewer claims than consented: `invalid_token` at userinfo,
 * `invalid_grant` at the token endpoint.
 */
export function findAccount(state: OidcState) {
  return async (ctx: OidcCtx, sub: string, token?: { grantId?: string }) => ({
    accountId: sub,
    async claims() {
      const record = token?.grantId ? await state.grants.get(token.grantId) : undefined;
      if (!record || record.subject !== sub) return { sub };
      try {
        const kyc = await state.grants.claims(record, state.identitySystems);
        return { ...kyc, sub };
      } catch (error) {
        state.logger.error(
          {
            err: { name: (error as Error)?.name, message: (error as Error)?.message },
            system: record.identitySystem,
          },
          'KYC claims could not be released',
        );
        if (ctx?.oidc?.route === 'userinfo')
          throw new errors.InvalidToken('the claims of this grant are no longer available');
        throw new errors.InvalidGrant('the claims of this grant are no longer available');
      }
    },
  });
}

/**
 * Which existing grant an authorization request may reuse. A grant decided in this interaction
 * always; the session's earlier grant for the client (silent SSO, prompt=none) only while the
 * remembered consent is live and the request asks for the same claim set.
 */
export function loadExistingGrant(state: OidcState) {
  return async (ctx: OidcCtx) => {
    const { Grant } = ctx.oidc.provider;
    const decided = ctx.oidc.result?.consent?.grantId;
    if (decided) return Grant.find(decided);
    const clientId = ctx.oidc.client.clientId;
    const grantId = ctx.oidc.session.grantIdFor(clientId);
    const subject = ctx.oidc.session.accountId;
    if (!grantId || !subject) return undefined;
    const set = describeRequest(
      ctx.oidc.params,
      ctx.oidc.client.metadata().allowed_claims,
      state.extraClaimsFor(ctx.oidc.params),
    );
    const consent = await state.consents.matching(clientId, subject, set.fingerprint);
    return consent ? Grant.find(grantId) : undefined;
  };
}
