import { errors } from 'oidc-provider';
import type { Clock } from '../clock.ts';
import { describeRequest } from './claims.ts';
import type { OidcState } from './state.ts';
import { buildVerifiedClaims, VERIFIED_CLAIMS } from './verified-claims.ts';

/** The provider's accounts and grant reuse, read from the grants and consents the interaction made. */

type OidcCtx = any;

/**
 * Accounts are the pairwise subjects; their claims are the grant's consented KYC claims, and
 * `verified_claims` (OpenID Connect for Identity Assurance 1.0) built for the request of this use
 * (`claims.userinfo` or `claims.id_token`, in `mask`) from the verification records the identity
 * system returned with them. When the identity system can no longer release them (KYC token
 * expired, registry down), the token is refused rather than answered with fewer claims than
 * consented: `invalid_token` at userinfo, `invalid_grant` at the token endpoint.
 */
export function findAccount(state: OidcState, clock: Clock) {
  return async (ctx: OidcCtx, sub: string, token?: { grantId?: string }) => ({
    accountId: sub,
    async claims(_use?: string, _scope?: string, mask?: Record<string, unknown>) {
      const record = token?.grantId ? await state.grants.get(token.grantId) : undefined;
      if (!record || record.subject !== sub) return { sub };
      try {
        const kyc = await state.grants.claims(record, state.identitySystems);
        const verified = buildVerifiedClaims(
          mask?.[VERIFIED_CLAIMS],
          kyc.verifications,
          kyc.claims,
          record.consentedClaims,
          clock.now(),
        );
        return { ...kyc.claims, ...(verified ? { [VERIFIED_CLAIMS]: verified } : {}), sub };
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
