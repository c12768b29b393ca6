import { beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';
import {
  type AuthorizeOptions,
  Browser,
  loginWithApi,
  registerClient,
  startAuthorization,
  type TestClient,
  useAppAndClient,
} from './helpers.ts';

/**
 * An authentication requirement the service cannot meet ends the login with an error response to
 * the relying party, not with a login page that leads to another login page. OIDC Core 1.0 §5.5.1.1
 * (https://openid.net/specs/openid-connect-core-1_0.html#acrSemantics): an essential `acr` that
 * cannot be met MUST be treated as a failed authentication; the error code is
 * `unmet_authentication_requirements` (OpenID Connect Core Error Code unmet_authentication_requirements
 * 1.0 §1, https://openid.net/specs/openid-connect-unmet-authentication-requirements-1_0.html:
 * "SHALL be used" for an essential acr, "MAY be used in other cases" such as acr_values none of
 * which can be met). The response carries `iss` (RFC 9207), as every authorization response does.
 */

const UNMET = 'unmet_authentication_requirements';

describe('unmet authentication requirements: an error to the relying party, not a login loop', () => {
  let app: TestApp;
  let client: TestClient;
  let pinOnly: TestClient;
  useAppAndClient((started) => ({ app, client } = started));
  beforeAll(async () => {
    pinOnly = await registerClient(app, { allowed_acr_values: ['mosip:idp:acr:static-code'] });
  });

  async function begin(options: AuthorizeOptions, rp = client) {
    const browser = new Browser(new URL(app.url).origin);
    const started = await startAuthorization(app, browser, rp, options);
    expect(started.interaction, started.reply.text).toMatch(/\/interaction\//);
    return { browser, ...started };
  }

  function expectUnmet(url: string, state: string, rp = client) {
    const callback = new URL(url);
    expect(`${callback.origin}${callback.pathname}`).toBe(rp.redirectUri);
    expect(callback.searchParams.get('error')).toBe(UNMET);
    expect(callback.searchParams.get('state')).toBe(state);
    expect(callback.searchParams.get('iss')).toBe(app.url);
    expect(callback.searchParams.get('code')).toBeNull();
  }

  test.each([
    [
      'an essential acr with values none of which is supported',
      { id_token: { acr: { essential: true, values: ['unknown'] } } },
    ],
    [
      'an essential acr value that is not supported',
      { id_token: { acr: { essential: true, value: 'urn:unknown' } } },
    ],
  ])('%s: the interaction API answers the error and where to send the browser', async (_name, claims) => {
    const { browser, interaction, state } = await begin({ claims });
    const reply = await browser.fetch(`${interaction}/api`);
    expect(reply.status).toBe(400);
    // OpenID Connect Core Unmet Authentication Requirements 1.0 §2: unmet_authentication_requirements.
    expect(reply.json()).toEqual({
      error: UNMET,
      error_description: 'none of the requested authentication levels (acr) is available to this application',
      redirect_to: expect.stringMatching(new RegExp(`^${app.url}/authorize/[\\w-]+$`)),
    });
    const { url } = await browser.follow(reply.json().redirect_to);
    expectUnmet(url, state);
  });

  test('the login page sends the browser back to the relying party with the error', async () => {
    const { browser, interaction, state } = await begin({
      claims: { id_token: { acr: { essential: true, values: ['unknown'] } } },
    });
    const { url } = await browser.follow(interaction);
    expectUnmet(url, state);
  });

  test('acr_values none of which the service supports end the same way', async () => {
    const { browser, interaction, state } = await begin({
      acr_values: 'urn:example:unknown-1 urn:example:unknown-2',
    });
    const { url } = await browser.follow(interaction);
    expectUnmet(url, state);
  });

  test('acr_values (or an essential acr) the client is not allowed to use end the same way', async () => {
    for (const options of [
      { acr_values: 'mosip:idp:acr:generated-code' },
      { claims: { id_token: { acr: { essential: true, values: ['mosip:idp:acr:generated-code'] } } } },
    ]) {
      const { browser, interaction, state } = await begin(options, pinOnly);
      const { url } = await browser.follow(interaction);
      expectUnmet(url, state, pinOnly);
    }
  });

  test('an essential acr the service can meet still logs in, with that acr', async () => {
    const { browser, interaction } = await begin({
      claims: { id_token: { acr: { essential: true, values: ['unknown', 'mosip:idp:acr:static-code'] } } },
    });
    const details = (await browser.fetch(`${interaction}/api`)).json();
    expect(details.factors).toEqual(['pin']);
    const callback = new URL(await loginWithApi(app, browser, interaction, 'pin'));
    expect(callback.searchParams.get('code')).toBeTruthy();
  });

  test('a voluntary acr request that cannot be met is not an error: any allowed level will do', async () => {
    const { browser, interaction } = await begin({ claims: { id_token: { acr: { values: ['unknown'] } } } });
    expect((await browser.fetch(`${interaction}/api`)).status).toBe(200);
    const callback = new URL(await loginWithApi(app, browser, interaction, 'pin'));
    expect(callback.searchParams.get('code')).toBeTruthy();
  });
});
