import type { Clock } from '../clock.ts';
import type { Store, StoredDoc } from '../store/spi.ts';
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

/** Where a JWT access token's grant is kept by `jti` (JWT access tokens are not stored by the provider). */
export const JWT_ACCESS_TOKENS = 'oidc_jwt_access_tokens';
export interface JwtAccessTokenDoc extends StoredDoc {
  grantId: string;
}

/**
 * `jwt_access_token_c_nonce` (Inji Wallet with inji-vci-client 0.2, which takes the proof nonce from
 * a `c_nonce` claim inside the access token, as eSignet's TokenServiceImpl.getAccessToken issues
 * them): for a client that opted in, its credential access tokens are RFC 9068 JWTs (provider
 * `getResourceServerInfo`), and this `extraTokenClaims` hook puts a fresh single-use c_nonce (and
 * `c_nonce_expires_in`) in them, the same one the token response carries. It also records the
 * token's grant by `jti`, so the credential endpoint can check the grant still stands.
 */
export function jwtAccessTokenClaims(state: OidcState, store: Store, clock: Clock) {
  const records = store.collection<JwtAccessTokenDoc>({ name: JWT_ACCESS_TOKENS });
  return async (ctx: ProviderCtx, token: ProviderCtx): Promise<Record<string, unknown> | undefined> => {
    if (token?.kind !== 'AccessToken' || token.resourceServer?.accessTokenFormat !== 'jwt') return undefined;
    const expiresAt = (typeof token.exp === 'number' ? token.exp : clock.now() / 1000 + 3600) * 1000;
    await records.insert({ _id: token.jti, grantId: token.grantId, expiresAt });
    if (!isCredentialAccess(state, token)) return undefined;
    const nonce = await state.cNonces.issue();
    if (ctx?.oidc) ctx.oidc[PENDING_C_NONCE] = nonce;
    return { c_nonce: nonce.nonce, c_nonce_expires_in: nonce.expiresInSeconds };
  };
}
