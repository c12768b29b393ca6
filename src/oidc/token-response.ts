import type { OidcState } from './state.ts';

/**
 * The provider's token responses for credential access (OpenID4VCI draft 13 §6.2): `c_nonce` and
 * `c_nonce_expires_in`, as the pre-authorized grant already answers (src/oidc/pre-authorized.ts).
 * Draft-13 wallets (MOSIP Inji's authorization-code flow among them) take the first proof nonce
 * from there; 1.0 wallets ignore the members and call the nonce endpoint. The nonce is an ordinary
 * single-use c_nonce (src/vci/nonces.ts) that the credential endpoint accepts once.
 */

type ProviderCtx = any;

/** A token issued for credentials: openid_credential details, or a credential configuration's scope. */
export function isCredentialAccess(
  state: OidcState,
  token: { rar?: unknown[]; scope?: string } | undefined,
): boolean {
  if (!token) return false;
  if (Array.isArray(token.rar) && token.rar.length > 0) return true;
  const scopes = state.credentialConfigurations.scopes();
  return String(token.scope ?? '')
    .split(' ')
    .some((scope) => scope !== '' && scopes.has(scope));
}

/** Where a nonce already issued for this token request waits (a JWT access token carries it too). */
export const PENDING_C_NONCE = Symbol('pending c_nonce');

/** oidc-provider middleware (`provider.use`): adds the c_nonce members to a credential token response. */
export function tokenResponseCNonce(state: OidcState) {
  return async (ctx: ProviderCtx, next: () => Promise<void>): Promise<void> => {
    await next();
    if (ctx.oidc?.route !== 'token' || ctx.status !== 200) return;
    const body = ctx.body as Record<string, unknown> | undefined;
    if (!body || typeof body.access_token !== 'string' || body.c_nonce !== undefined) return;
    if (!isCredentialAccess(state, ctx.oidc.entities?.AccessToken)) return;
    const nonce: { nonce: string; expiresInSeconds: number } =
      ctx.oidc[PENDING_C_NONCE] ?? (await state.cNonces.issue());
    body.c_nonce = nonce.nonce;
    body.c_nonce_expires_in = nonce.expiresInSeconds;
  };
}
