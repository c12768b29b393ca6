import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';
import { shareAcrossTests } from '../../helpers/clock.ts';
import { beginLogin, type Login } from './factor-helpers.ts';
import { admin, IDENTITY, registerClient, startOidcApp, type TestClient } from './helpers.ts';
import {
  bindWalletKey,
  LINKED_ACR,
  linkCodeOf,
  linkedAuthenticate,
  linkTransaction,
  newWalletKey,
  signInByLink,
  wlaChallenge,
} from './linked-wallet.ts';

/**
 * eSignet's linked-wallet login through the pages' QR hand-off, over real HTTP: the page's link
 * code (read here from the same-device link; the Chromium test reads the QR code), the wallet's
 * link-transaction and authenticate in eSignet's shape (test/protocol/oidc/linked-wallet.ts), and
 * the page's status. Refusals: an expired code, a replayed code, a replayed answer, an unbound key,
 * another person's key.
 */
const OTHER = { individualId: '5550009876', pin: '135790' };

describe('linked-wallet login (eSignet link code + WLA challenge) through the pages', () => {
  let app: TestApp;
  let client: TestClient;
  beforeAll(async () => {
    app = await startOidcApp();
    shareAcrossTests(app.clock);
    client = await registerClient(app);
    await admin(app, 'POST', '/identities', {
      individual_id: OTHER.individualId,
      pin: OTHER.pin,
      claims: { name: 'Omar Haddad', phone_number: '+212600000002', phone_number_verified: true },
    });
  });
  afterAll(async () => app?.stop());

  /** The link page of a new login: its QR code's deep link and the status URL it polls. */
  async function linkPage(login?: Login) {
    const l = login ?? (await beginLogin(app, client, { acr_values: LINKED_ACR }));
    const page = await l.browser.fetch(`${l.interaction}/linked-wallet`);
    expect(page.status, page.text).toBe(200);
    const deepLink = /id="same-device" href="([^"]+)"/.exec(page.text)![1]!.replaceAll('&amp;', '&');
    const status = /data-status="([^"]+)"/.exec(page.text)![1]!.replaceAll('&amp;', '&');
    const state = async () => (await l.browser.fetch(status)).json();
    return { login: l, page, deepLink, state };
  }

  test('the login page offers the linked wallet; scanning, linking and signing the challenge logs in, the page moves on to consent', async () => {
    const wallet = await newWalletKey();
    await bindWalletKey(app, client, IDENTITY.individualId, wallet);
    const login = await beginLogin(app, client, { acr_values: LINKED_ACR });
    const loginPage = await login.browser.fetch(login.interaction);
    expect(loginPage.text).toContain('Log in with a linked wallet');
    expect(loginPage.text).toMatch(/href="[^"]*\/linked-wallet"/);
    const { deepLink, state, page } = await linkPage(login);
    expect(page.text).toContain('Scan this code with the wallet you linked');
    const { linkCode, linkExpireDateTime } = linkCodeOf(deepLink);
    expect(linkCode).toMatch(/^[A-Za-z0-9]{15}$/);
    expect(Date.parse(linkExpireDateTime) - app.clock.now()).toBe(60_000);
    expect(await state()).toMatchObject({ state: 'waiting', expires_in: 60 });

    const linked = await linkTransaction(app, linkCode);
    expect(linked.status, JSON.stringify(linked.body)).toBe(200);
    expect(linked.body.errors).toEqual([]);
    expect(linked.body.response).toMatchObject({
      authFactors: [[{ type: 'WLA' }]],
      clientName: { '@none': expect.any(String) },
      authorizeScopes: expect.arrayContaining(['openid']),
    });
    expect(await state()).toMatchObject({ state: 'linked' });
    const { linkTransactionId, walletNonce } = linked.body.response;
    const answer = await linkedAuthenticate(
      app,
      linkTransactionId,
      IDENTITY.individualId,
      await wlaChallenge(app, wallet, walletNonce),
    );
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.response).toEqual({
      linkedTransactionId: linkTransactionId,
      consentAction: 'NOCAPTURE',
    });
    const done = await state();
    expect(done.state).toBe('verified');
    // The page moves on to consent (the login page, now authenticated).
    const consentPage = await login.browser.fetch(done.next);
    expect(consentPage.text).toContain('/consent');
    const to = (await login.post('consent', { accepted_claims: ['name'] })).json().redirect_to;
    const { url } = await login.browser.follow(to);
    expect(new URL(url).searchParams.get('code')).toBeTruthy();
  });

  test('an expired link code is refused (invalid_link_code) and the page says expired', async () => {
    const wallet = await newWalletKey();
    await bindWalletKey(app, client, IDENTITY.individualId, wallet);
    const { deepLink, state } = await linkPage();
    app.clock.advanceSeconds(61);
    const { linked, answer } = await signInByLink(app, deepLink, IDENTITY.individualId, wallet);
    expect(linked.status).toBe(400);
    expect(linked.body.errors).toEqual([
      { errorCode: 'invalid_link_code', errorMessage: expect.any(String) },
    ]);
    expect(answer).toBeUndefined();
    expect(await state()).toEqual({ state: 'expired' });
  });

  test('a link code is single use, and so is the linked transaction', async () => {
    const wallet = await newWalletKey();
    await bindWalletKey(app, client, IDENTITY.individualId, wallet);
    const { deepLink } = await linkPage();
    const { linkCode } = linkCodeOf(deepLink);
    const first = await linkTransaction(app, linkCode);
    expect(first.status).toBe(200);
    const again = await linkTransaction(app, linkCode);
    expect(again.status).toBe(400);
    expect(again.body.errors[0].errorCode).toBe('invalid_link_code');
    const { linkTransactionId, walletNonce } = first.body.response;
    const ok = await linkedAuthenticate(
      app,
      linkTransactionId,
      IDENTITY.individualId,
      await wlaChallenge(app, wallet, walletNonce),
    );
    expect(ok.status).toBe(200);
    const replay = await linkedAuthenticate(
      app,
      linkTransactionId,
      IDENTITY.individualId,
      await wlaChallenge(app, wallet, walletNonce),
    );
    expect(replay.status).toBe(400);
    expect(replay.body.errors[0].errorCode).toBe('invalid_transaction');
  });

  test('a key never bound is refused (auth_failed); the page shows why and the transaction takes no second answer', async () => {
    const bound = await newWalletKey();
    await bindWalletKey(app, client, IDENTITY.individualId, bound);
    const stranger = await newWalletKey();
    const { deepLink, state } = await linkPage();
    const { linked, answer } = await signInByLink(app, deepLink, IDENTITY.individualId, stranger);
    expect(linked.status).toBe(200);
    expect(answer!.status).toBe(401);
    expect(answer!.body.errors[0].errorCode).toBe('auth_failed');
    expect(await state()).toEqual({ state: 'refused', reason: 'not_linked_key' });
    const retry = await linkedAuthenticate(
      app,
      linked.body.response.linkTransactionId,
      IDENTITY.individualId,
      await wlaChallenge(app, bound, linked.body.response.walletNonce),
    );
    expect(retry.status).toBe(400);
  });

  test("another person's bound key is refused for this person", async () => {
    const theirs = await newWalletKey();
    await bindWalletKey(app, client, OTHER.individualId, theirs);
    const { deepLink, state, login } = await linkPage();
    const { answer } = await signInByLink(app, deepLink, IDENTITY.individualId, theirs);
    expect(answer!.status).toBe(401);
    expect(answer!.body.errors[0].errorCode).toBe('auth_failed');
    expect((await state()).state).toBe('refused');
    expect((await login.browser.fetch(`${login.interaction}/api`)).json().authenticated).toBe(false);
  });

  test('bad wallet input is a 4xx in eSignet shape before anything is written, never a 500', async () => {
    const wallet = await newWalletKey();
    await bindWalletKey(app, client, IDENTITY.individualId, wallet);
    const { deepLink } = await linkPage();
    const linked = await linkTransaction(app, linkCodeOf(deepLink).linkCode);
    const { linkTransactionId: id, walletNonce } = linked.body.response;
    const bad: [unknown, string][] = [
      [[], 'invalid_no_of_challenges'],
      ['x', 'invalid_no_of_challenges'],
      [[{ authFactorType: 'PIN', challenge: '1', format: 'number' }], 'invalid_auth_factor_type'],
      [[{ authFactorType: 'WLA', challenge: 'x', format: 'jws' }], 'invalid_challenge_format'],
      [[{ authFactorType: 'WLA', challenge: 7, format: 'jwt' }], 'invalid_challenge'],
    ];
    for (const [challengeList, code] of bad) {
      const res = await request(`${app.url}/interaction/linked-authorization/v2/authenticate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          request: { linkedTransactionId: id, individualId: IDENTITY.individualId, challengeList },
        }),
      });
      expect(res.statusCode).toBe(400);
      expect(((await res.body.json()) as any).errors[0].errorCode).toBe(code);
    }
    const noWrapper = await request(`${app.url}/interaction/linked-authorization/v2/link-transaction`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ linkCode: 'x' }),
    });
    expect(noWrapper.statusCode).toBe(400);
    expect((await linkTransaction(app, 'short')).status).toBe(400);
    // Nothing was used up: the linked transaction still takes its one answer.
    const ok = await linkedAuthenticate(
      app,
      id,
      IDENTITY.individualId,
      await wlaChallenge(app, wallet, walletNonce),
    );
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
  });
});
