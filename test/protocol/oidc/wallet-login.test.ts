import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { holderKey, startVci, type VciHarness } from '../vci/harness.ts';
import { beginLogin, type Login } from './factor-helpers.ts';
import { registerClient, type TestClient } from './helpers.ts';
import {
  bindHolderKey,
  issueIdentity,
  presentation,
  type ResolvedRequest,
  resolveRequest,
  respond,
  WALLET_ACR,
} from './wallet-vp.ts';

/**
 * The wallet login's refusals over real HTTP (OpenID4VP 1.0 §8.2 direct_post, errors §8.5): the
 * holder is built as in test/browser/wallet-login.test.ts (@openid4vc/openid4vp resolves the
 * signed request by reference and posts the response, @sd-jwt/sd-jwt-vc makes the presentation of
 * a credential this service issued in the test). Each refusal asserts the OpenID4VP error code and
 * that the login did not move on (the interaction API still says `authenticated: false`).
 */
describe('wallet login (OpenID4VP) refuses what it must', () => {
  let h: VciHarness;
  let client: TestClient;

  beforeAll(async () => {
    h = await startVci();
    client = await registerClient(h.app);
  });
  afterAll(async () => h?.stop());

  /** A person with an identity credential whose holder key is bound to them for wallet login. */
  async function personWithWallet() {
    const who = await h.person();
    const holder = await holderKey('ES256');
    const { credential, notificationId } = await issueIdentity(h, who.individualId, holder);
    await bindHolderKey(h.app, client, who.individualId, holder);
    return { who, holder, credential, notificationId };
  }

  /** A login that asks for a wallet presentation; the request comes from the wallet page's link. */
  async function walletLogin(extra: Record<string, string> = {}) {
    const login = await beginLogin(h.app, client, { acr_values: WALLET_ACR, extra });
    return { login, request: await newRequest(login) };
  }

  async function newRequest(login: Login): Promise<ResolvedRequest & { walletUrl: string }> {
    const page = await login.browser.fetch(`${login.interaction}/wallet`);
    expect(page.status).toBe(200);
    const href = /id="same-device" href="([^"]+)"/.exec(page.text)?.[1];
    expect(href).toMatch(/^openid4vp:\/\//);
    const walletUrl = href!.replaceAll('&amp;', '&');
    return { ...(await resolveRequest(walletUrl)), walletUrl };
  }

  const present = (credential: string, holder: Parameters<typeof presentation>[1], r: ResolvedRequest) =>
    presentation(credential, holder, {
      nonce: r.nonce,
      aud: r.clientId,
      iat: Math.floor(h.app.clock.now() / 1000),
    });

  const authenticated = async (login: Login) =>
    (await login.browser.fetch(`${login.interaction}/api`)).json().authenticated as boolean;

  const pageState = async (login: Login, r: ResolvedRequest) =>
    (
      await login.browser.fetch(`${login.interaction}/wallet/status?request=${encodeURIComponent(r.state)}`)
    ).json();

  test('control: the person presenting their own credential logs in', async () => {
    const { holder, credential } = await personWithWallet();
    const { login, request } = await walletLogin();
    const answer = await respond(request, await present(credential, holder, request));
    expect(answer).toEqual({ status: 200, body: {} });
    expect(await authenticated(login)).toBe(true);
    expect((await pageState(login, request)).state).toBe('verified');
  });

  test('an expired request is refused (invalid_request), and its request object is not served', async () => {
    const { holder, credential } = await personWithWallet();
    const { login, request } = await walletLogin();
    h.app.clock.advanceSeconds(181);
    // Made now, so only the request's age can be the reason.
    const answer = await respond(request, await present(credential, holder, request));
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('invalid_request');
    expect(await authenticated(login)).toBe(false);
    expect((await pageState(login, request)).state).toBe('expired');
    // A fresh request of the same login, fetched after it expired, is refused too.
    const late = await newRequest(login);
    h.app.clock.advanceSeconds(181);
    await expect(resolveRequest(late.walletUrl)).rejects.toThrow();
  });

  test('a replayed response is refused: the same vp_token again, and any new answer to an answered request', async () => {
    const { holder, credential } = await personWithWallet();
    const { login, request } = await walletLogin();
    const vp = await present(credential, holder, request);
    expect((await respond(request, vp)).status).toBe(200);
    const again = await respond(request, vp);
    expect(again.status).toBe(400);
    expect(again.body).toEqual({
      error: 'invalid_request',
      error_description: 'this presentation was already received',
    });
    const another = await respond(request, await present(credential, holder, request));
    expect(another.status).toBe(400);
    expect(another.body.error).toBe('invalid_request');
    expect(await authenticated(login)).toBe(true);
  });

  test('a burst of the same response: exactly one winner, the others invalid_request', async () => {
    const { holder, credential } = await personWithWallet();
    const { login, request } = await walletLogin();
    const vp = await present(credential, holder, request);
    const answers = await Promise.all(Array.from({ length: 8 }, () => respond(request, vp)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    const losers = answers.filter((a) => a.status !== 200);
    expect(losers).toHaveLength(7);
    for (const loser of losers)
      expect(loser).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect(await authenticated(login)).toBe(true);
  });

  test('a revoked credential (revoked through the admin API) is refused with access_denied', async () => {
    const { holder, credential, notificationId } = await personWithWallet();
    const ledger = await h.admin('GET', `/ledger?notification_id=${encodeURIComponent(notificationId)}`);
    expect(ledger.body.records).toHaveLength(1);
    const revoked = await h.admin('POST', `/ledger/${ledger.body.records[0]._id}/revoke`);
    expect(revoked.status).toBe(200);
    const { login, request } = await walletLogin();
    const answer = await respond(request, await present(credential, holder, request));
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ error: 'access_denied', error_description: 'the credential is revoked' });
    expect(await authenticated(login)).toBe(false);
    expect(await pageState(login, request)).toEqual({ state: 'refused', reason: 'revoked' });
  });

  test("another person's credential is refused with access_denied, though its holder key is bound to the presenter", async () => {
    // A's credential is bound to key K (A's wallet). B binds the same key K to B's account (binding
    // asks only B's one-time code) and presents A's credential, signing the key binding with K.
    const a = await h.person();
    const k = await holderKey('ES256');
    const { credential } = await issueIdentity(h, a.individualId, k);
    const b = await h.person();
    await bindHolderKey(h.app, client, b.individualId, k);
    const { login, request } = await walletLogin();
    const answer = await respond(request, await present(credential, k, request));
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: 'access_denied',
      error_description: 'the credential was issued to another person',
    });
    expect(await authenticated(login)).toBe(false);
    expect(await pageState(login, request)).toEqual({ state: 'refused', reason: 'not_yours' });
  });

  test('a response for another transaction is refused and leaves both requests open for their own wallet', async () => {
    const { holder, credential } = await personWithWallet();
    const x = await walletLogin();
    const y = await walletLogin();
    // Key binding over X's nonce (and our client_id), posted as the answer to Y.
    const forX = await present(credential, holder, x.request);
    const answer = await respond(y.request, forX);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: 'invalid_request',
      error_description: 'the presentation was made for another request',
    });
    expect(await authenticated(y.login)).toBe(false);
    expect((await pageState(y.login, y.request)).state).toBe('waiting');
    // X's own answer still works.
    expect((await respond(x.request, forX)).status).toBe(200);
    expect(await authenticated(x.login)).toBe(true);
    expect(await authenticated(y.login)).toBe(false);
  });

  describe('a login through a credential offer made for one person (OpenID4VCI 1.0 §5.1.3)', () => {
    /** issuer_state of an authorization-code offer of the identity credential for `individualId`. */
    const offerFor = async (individualId: string) =>
      (
        await h.admin('POST', '/credential-offers', {
          credential_configuration_ids: ['NationalIdCredential_sd_jwt'],
          grant: 'authorization_code',
          individual_id: individualId,
        })
      ).body.credential_offer.grants.authorization_code.issuer_state as string;

    test('another person logging in with their own wallet is refused like the other factors (access_denied)', async () => {
      const a = await h.person();
      const b = await personWithWallet();
      const { login, request } = await walletLogin({ issuer_state: await offerFor(a.individualId) });
      const answer = await respond(request, await present(b.credential, b.holder, request));
      expect(answer.status).toBe(400);
      // The words of the other factors' refusal (wallet-and-clients.test.ts).
      expect(answer.body).toEqual({
        error: 'access_denied',
        error_description: 'this credential offer was made for another person',
      });
      expect(await authenticated(login)).toBe(false);
      expect(await pageState(login, request)).toEqual({ state: 'refused', reason: 'offer_other_person' });
    });

    test('the person the offer was made for logs in', async () => {
      const a = await personWithWallet();
      const { login, request } = await walletLogin({ issuer_state: await offerFor(a.who.individualId) });
      const answer = await respond(request, await present(a.credential, a.holder, request));
      expect(answer).toEqual({ status: 200, body: {} });
      expect(await authenticated(login)).toBe(true);
    });
  });

  // Last: it retires the identity credential's definition in this test's service.
  test('the vct comes from the credential configurations: once its definition is retired, no wallet login', async () => {
    const { holder, credential } = await personWithWallet();
    const { login, request } = await walletLogin();
    expect(request.payload.dcql_query).toMatchObject({
      credentials: [{ meta: { vct_values: [`${h.url}/vct/national-id`] } }],
    });
    const retired = await h.admin('POST', '/credential-configurations/national-id/retire');
    expect(retired.status).toBe(200);
    const answer = await respond(request, await present(credential, holder, request));
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('access_denied');
    expect(await authenticated(login)).toBe(false);
    expect(await pageState(login, request)).toEqual({ state: 'refused', reason: 'not_ours' });
    expect((await login.browser.fetch(`${login.interaction}/wallet`)).status).toBe(400);
  });
});
