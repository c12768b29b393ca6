import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';
import {
  Browser,
  loginWithApi,
  redeem,
  registerClient,
  startAuthorization,
  startOidcApp,
  type TestClient,
} from './helpers.ts';

describe('consent lifetime and re-consent (SECURITY row 51)', () => {
  let app: TestApp;
  let client: TestClient;
  beforeAll(async () => {
    app = await startOidcApp({ overrides: { oidc: { consentTtlSeconds: 100 } } });
    client = await registerClient(app);
  });
  afterAll(async () => app.stop());

  const login = async (options = {}) => {
    const browser = new Browser(new URL(app.url).origin);
    const started = await startAuthorization(app, browser, client, options);
    const details = (await browser.fetch(`${started.interaction}/api`)).json();
    const callback = new URL(await loginWithApi(app, browser, started.interaction, 'pin'));
    return { details, callback, verifier: started.verifier };
  };

  test('a consent that ends before the access token would clamps its lifetime', async () => {
    const { callback, verifier } = await login({ claims: { userinfo: { name: { essential: true } } } });
    const tokens = await redeem(app, client, callback.searchParams.get('code')!, verifier);
    expect(tokens.status).toBe(200);
    expect(tokens.body.expires_in).toBeLessThanOrEqual(100);
  });

  test('the same request skips the consent page; a changed claim set and prompt=consent ask again', async () => {
    const claims = { userinfo: { birthdate: { essential: true } } };
    const first = await login({ claims });
    expect(first.callback.searchParams.get('code')).toBeTruthy();
    const browser = new Browser(new URL(app.url).origin);
    const again = await startAuthorization(app, browser, client, { claims });
    const details = (await browser.fetch(`${again.interaction}/api`)).json();
    const auth = await browser.fetch(`${again.interaction}/api/authenticate`, {
      json: { individual_id: '5550001234', factor: 'pin', challenge: '246810' },
      headers: { 'x-csrf-token': details.csrf_token },
    });
    expect(auth.json().consent_required).toBe(false);
    const changed = await startAuthorization(app, new Browser(new URL(app.url).origin), client, {
      claims: { userinfo: { birthdate: { essential: true }, name: null } },
    });
    expect(changed.interaction).toContain('/interaction/');
    const forced = new Browser(new URL(app.url).origin);
    const prompt = await startAuthorization(app, forced, client, { claims, prompt: 'consent' });
    const forcedDetails = (await forced.fetch(`${prompt.interaction}/api`)).json();
    const forcedAuth = await forced.fetch(`${prompt.interaction}/api/authenticate`, {
      json: { individual_id: '5550001234', factor: 'pin', challenge: '246810' },
      headers: { 'x-csrf-token': forcedDetails.csrf_token },
    });
    expect(forcedAuth.json().consent_required).toBe(true);
  });

  test('an expired consent asks again', async () => {
    const claims = { userinfo: { gender: { essential: true } } };
    await login({ claims });
    app.clock.advanceSeconds(101);
    const browser = new Browser(new URL(app.url).origin);
    const started = await startAuthorization(app, browser, client, { claims });
    const details = (await browser.fetch(`${started.interaction}/api`)).json();
    const auth = await browser.fetch(`${started.interaction}/api/authenticate`, {
      json: { individual_id: '5550001234', factor: 'pin', challenge: '246810' },
      headers: { 'x-csrf-token': details.csrf_token },
    });
    expect(auth.json().consent_required).toBe(true);
  });
});
