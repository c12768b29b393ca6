import { request } from 'undici';
import type { TestApp } from '../helpers/app.ts';
import { pkce, type TestClient } from '../protocol/oidc/helpers.ts';

/**
 * What a relying party does before sending a browser to the login pages: a pushed authorization
 * request (RFC 9126) with PKCE and private_key_jwt, and the /authorize URL that carries its
 * request_uri. `params` adds to or overrides the defaults (acr_values, ui_locales, prompt, claims…).
 */
export async function pushedAuthorization(
  app: TestApp,
  client: TestClient,
  params: Record<string, string>,
): Promise<{ url: string; verifier: string }> {
  const { verifier, challenge } = pkce();
  const par = await request(`${app.url}/par`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: client.clientId,
      response_type: 'code',
      redirect_uri: client.redirectUri,
      scope: 'openid profile',
      state: 'st',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await client.assertion(app.url),
      ...params,
    }).toString(),
  });
  const { request_uri } = (await par.body.json()) as { request_uri: string };
  return {
    url: `${app.url}/authorize?client_id=${client.clientId}&request_uri=${encodeURIComponent(request_uri)}`,
    verifier,
  };
}
