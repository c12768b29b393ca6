import type { Context } from 'koa';
import { AppError } from '../../errors.ts';
import { checkAssertionParty } from '../../oidc/assertion-party.ts';
import { acceptPaddedVerifier } from '../../oidc/leniencies.ts';
import { redeemPreAuthorizedGrant } from '../../oidc/pre-authorized.ts';
import { type OidcProvider, PRE_AUTHORIZED_GRANT } from '../../oidc/provider.ts';
import type { OidcState } from '../../oidc/state.ts';
import type { Services } from '../../services.ts';
import { noStore } from '../middleware.ts';
import { readProviderForm, setProviderForm } from './provider-form.ts';

/**
 * The token endpoint in front of oidc-provider: answers the OpenID4VCI 1.0 §6.1 pre-authorized code
 * grant itself (src/oidc/pre-authorized.ts) and checks every client assertion's parties.
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
  // Inji Wallet's padded PKCE verifier, for a client that opted in (src/oidc/leniencies.ts).
  if (await acceptPaddedVerifier(form, services.store, state.clients)) setProviderForm(ctx, form);
  const dpopProof = ctx.get('DPoP') || undefined;
  // HAIP 1.0 (config `profile`): every access token is DPoP-bound (RFC 9449 §5 error code).
  if (services.config.profile === 'haip' && !dpopProof)
    throw new AppError(400, 'invalid_dpop_proof', 'a DPoP proof is required');
  if (form.get('grant_type') !== PRE_AUTHORIZED_GRANT) return false;
  noStore(ctx);
  const response = await redeemPreAuthorizedGrant(
    { services, state, provider, tokenUrl },
    {
      form,
      dpopProof,
      clientAttestation: ctx.get('OAuth-Client-Attestation') || undefined,
      clientAttestationPop: ctx.get('OAuth-Client-Attestation-PoP') || undefined,
    },
  );
  ctx.status = 200;
  ctx.body = response;
  return true;
}
