import type { Context } from 'koa';
import { AppError, InvalidRequest, UnsupportedGrantType } from '../errors.ts';
import { noStore } from '../http/middleware.ts';
import { randomId } from '../random.ts';
import type { Services } from '../services.ts';
import { checkAssertionParty, readProviderForm } from './assertion-party.ts';
import { verifyDpopProof } from './dpop.ts';
import { type OidcProvider, PRE_AUTHORIZED_GRANT, withCredentialIdentifiers } from './provider.ts';
import type { OidcState } from './state.ts';

/**
 * The OpenID4VCI 1.0 §6.1 pre-authorized code grant, answered in front of oidc-provider because
 * oidc-provider 9.13 insists on a client_id at the token endpoint while OpenID4VCI allows anonymous
 * redemption (§6.1: "client authentication is OPTIONAL"; our metadata says
 * `pre-authorized_grant_anonymous_access_supported: true`).
 *
 * Reads the form body once; for any other grant type the raw body is handed to oidc-provider
 * through `req.body` (its selective_body reads that when the stream is already consumed).
 * Returns true when it answered.
 */
export async function handleTokenRequest(
  ctx: Context,
  services: Services,
  state: OidcState,
  provider: () => Promise<OidcProvider>,
  tokenUrl: string,
): Promise<boolean> {
  if (ctx.method !== 'POST' || ctx.request.type !== 'application/x-www-form-urlencoded') return false;
  const form = await readProviderForm(ctx);
  checkAssertionParty(form);
  if (form.get('grant_type') !== PRE_AUTHORIZED_GRANT) return false;
  noStore(ctx);
  for (const name of new Set(form.keys())) {
    // RFC 6749 §3.1: parameters MUST NOT be included more than once.
    if (form.getAll(name).length > 1)
      throw new InvalidRequest(`parameter "${name}" is included more than once`);
  }
  const code = form.get('pre-authorized_code');
  if (!code) throw new InvalidRequest('pre-authorized_code is required');
  const txCode = form.get('tx_code') ?? undefined;
  const resource = form.get('resource');
  // RFC 8707 §2: the only resource this authorization server issues tokens for is the credential issuer.
  if (resource !== null && resource !== services.config.resolved.publicUrl) {
    throw new AppError(400, 'invalid_target', 'resource must be the credential issuer identifier');
  }
  const redeemer = state.links.preAuthorizedCodes;
  if (!redeemer) throw new UnsupportedGrantType('the pre-authorized code grant is not available');

  // Validate the DPoP proof before consuming the code, so a bad proof does not burn it.
  const proof = ctx.get('DPoP') || undefined;
  const jkt = proof
    ? await verifyDpopProof({ proof, method: 'POST', url: tokenUrl }, services.clock, services.store)
    : undefined;

  const redeemed = await redeemer.redeem(code, txCode);
  const p = await provider();
  const grantId = randomId(16);
  const requested = redeemed.authorizationDetails.length
    ? [...redeemed.authorizationDetails]
    : redeemed.credentialConfigurationIds.map((id) => ({
        type: 'openid_credential',
        credential_configuration_id: id,
      }));
  const details = withCredentialIdentifiers(requested);
  await state.grants.save(
    {
      _id: grantId,
      accountId: redeemed.accountId,
      subject: redeemed.accountId,
      identitySystem: redeemed.identitySystem,
      consentedClaims: [...redeemed.consentedClaims],
      claimsLocales: [],
      credentialConfigurationIds: [...redeemed.credentialConfigurationIds],
      authorizationDetails: details,
    },
    services.config.oidc.refreshTokenAbsoluteSeconds,
  );
  const at = new p.AccessToken({
    accountId: redeemed.accountId,
    grantId,
    gty: 'pre-authorized_code',
    expiresWithSession: false,
    rar: details.length ? details : undefined,
  });
  at.aud = services.config.resolved.publicUrl;
  if (jkt) at.jkt = jkt;
  const accessToken: string = await at.save();
  services.metrics.offersRedeemed.inc();
  ctx.status = 200;
  // Draft 13 §6.2: wallets of that version (MOSIP Inji among them) take their first c_nonce from
  // the token response; 1.0 wallets ignore these members and use the nonce endpoint.
  const cNonce = await state.links.cNonces?.issue();
  ctx.body = {
    access_token: accessToken,
    token_type: jkt ? 'DPoP' : 'Bearer',
    expires_in: at.expiration,
    ...(details.length ? { authorization_details: details } : {}),
    ...(cNonce ? { c_nonce: cNonce.nonce, c_nonce_expires_in: cNonce.expiresInSeconds } : {}),
  };
  return true;
}
