import { sha256Base64url } from '../crypto/hash.ts';
import type { Store } from '../store/spi.ts';
import { changeUnconsumed } from './adapter.ts';
import type { ClientRegistry } from './clients.ts';
import { hasLeniency } from './clients.ts';

/**
 * The per-client leniencies (src/oidc/clients.ts CLIENT_LENIENCIES) that rewrite a request before
 * oidc-provider sees it. Each applies only to a client whose registration lists it; for every other
 * client the request reaches the provider as sent and is refused as the spec says.
 */

/**
 * `nonce_without_openid` (MOSIP Inji Wallet, mosip/inji-vci-client release-0.4.x
 * AuthorizationUrlBuilder.kt:20-28 always appends `nonce`, with a credential scope and no `openid`):
 * OIDC Core's `nonce` binds an ID token, and without `openid` there is none, so the parameter is
 * dropped instead of refusing the request (oidc-provider: "openid scope must be requested when
 * using the nonce parameter"). Returns true when `params` changed.
 */
export async function dropNonceWithoutOpenid(
  params: URLSearchParams,
  clients: ClientRegistry,
): Promise<boolean> {
  if (!params.has('nonce') || params.has('request_uri') || params.has('request')) return false;
  const scopes = (params.get('scope') ?? '').split(' ');
  if (scopes.includes('openid')) return false;
  const clientId = params.get('client_id');
  if (!clientId || !hasLeniency(await clients.find(clientId), 'nonce_without_openid')) return false;
  params.delete('nonce');
  return true;
}

/** RFC 7636 §4.1 code_verifier: 43-128 unreserved characters; with the leniency, `=` padding after them. */
const PADDED_VERIFIER = /^([A-Za-z0-9\-._~]{43,128})(=+)$/;

/**
 * `padded_pkce_verifier` (MOSIP Inji Wallet, mosip/inji-vci-client release-0.4.x
 * pkce/PKCESessionManager.kt:30-41): the verifier is okio's `base64Url()` of 64 random bytes, which
 * keeps the `==` padding RFC 7636 §4.1 does not allow, and the S256 challenge is computed over that
 * padded string (then its own padding trimmed). The provider refuses the verifier's form, and
 * stripping the padding alone would not match the challenge. So, for that client only: the padded
 * verifier must match the code's challenge exactly as Inji computed it; then the code's challenge is
 * re-expressed over the unpadded verifier and the request carries that one, which the provider
 * checks as usual (single use, client, redirect_uri, PKCE). The stored code is changed only while
 * it is unconsumed (a compare-and-set, so a parallel redemption's consume is never undone), and a
 * code already re-expressed (a retry after a refused request) is taken as it is. Returns true when
 * `form` changed.
 */
export async function acceptPaddedVerifier(
  form: URLSearchParams,
  store: Store,
  clients: ClientRegistry,
): Promise<boolean> {
  if (form.get('grant_type') !== 'authorization_code') return false;
  const match = PADDED_VERIFIER.exec(form.get('code_verifier') ?? '');
  const clientId = form.get('client_id');
  const code = form.get('code');
  if (!match || !clientId || !code) return false;
  if (!hasLeniency(await clients.find(clientId), 'padded_pkce_verifier')) return false;
  // As Inji computes it: SHA-256 over the padded verifier, base64url without padding.
  const padded = sha256Base64url(match[0]);
  const unpadded = match[1]!;
  const rechallenged = sha256Base64url(unpadded);
  let ready = false;
  const changed = await changeUnconsumed(store, 'AuthorizationCode', code, (stored) => {
    if (stored.clientId !== clientId || stored.codeChallengeMethod !== 'S256') return undefined;
    if (stored.codeChallenge === rechallenged) ready = true;
    if (stored.codeChallenge !== padded) return undefined;
    return { ...stored, codeChallenge: rechallenged };
  });
  if (!changed && !ready) return false;
  form.set('code_verifier', unpadded);
  return true;
}
