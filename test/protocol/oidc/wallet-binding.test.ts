import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';
import { shareAcrossTests } from '../../helpers/clock.ts';
import { beginLogin, type Login, outboxCount } from './factor-helpers.ts';
import {
  IDENTITY,
  latestOtp,
  type PrivateKey,
  registerClient,
  startOidcApp,
  type TestClient,
} from './helpers.ts';

/**
 * The tests share one app and one demo person, and its clock across tests (`shareAcrossTests`):
 * bindings, OTP cooldowns and send counts written after one test moved time forward (10 days for
 * expiry) stay valid only if the next test starts no earlier.
 */
const ACR = 'mosip:idp:acr:linked-wallet';

interface Wallet {
  privateKey: PrivateKey;
  jwk: JWK;
  thumbprint: string;
}

async function newWallet(): Promise<Wallet> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), alg: 'ES256' };
  return { privateKey, jwk, thumbprint: await calculateJwkThumbprint(jwk, 'sha256') };
}

describe('row 49 wallet-binding-factor: bind a wallet key after an OTP, log in with a signed challenge', () => {
  let app: TestApp;
  let client: TestClient;
  beforeAll(async () => {
    app = await startOidcApp();
    shareAcrossTests(app.clock);
    client = await registerClient(app);
  });
  afterAll(async () => app.stop());

  const begin = () => beginLogin(app, client, { acr_values: ACR });

  async function bind(login: Login, wallet: Wallet) {
    const sent = await login.post('send-otp', {
      individual_id: IDENTITY.individualId,
      purpose: 'wallet-binding',
    });
    expect(sent.status, sent.text).toBe(200);
    return login.post('bind-wallet', {
      individual_id: IDENTITY.individualId,
      otp: await latestOtp(app),
      public_key: wallet.jwk,
    });
  }

  const challenge = (wallet: Wallet, nonce: string, claims: Record<string, unknown> = {}) =>
    new SignJWT({ nonce, ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: wallet.thumbprint, typ: 'JWT' })
      .setAudience(app.url)
      .setIssuedAt(Math.floor(app.clock.now() / 1000))
      .sign(wallet.privateKey);

  const walletLogin = (login: Login, jwt: string) => login.authenticate(IDENTITY.individualId, 'wallet', jwt);

  test('after binding, a challenge signed with the wallet key logs in with acr linked-wallet and amr hwk', async () => {
    const wallet = await newWallet();
    const login = await begin();
    expect(login.details.factors).toEqual(['wallet']);
    expect(login.details.wallet_nonce).toMatch(/^[\w-]{32,}$/);
    const bound = await bind(login, wallet);
    expect(bound.status, bound.text).toBe(200);
    expect(bound.json().key_thumbprint).toBe(wallet.thumbprint);
    const expiresAt = Date.parse(bound.json().expires_at);
    expect(expiresAt - app.clock.now()).toBe(10 * 86_400 * 1000);
    // Binding does not log the person in.
    expect((await login.browser.fetch(`${login.interaction}/api`)).json().authenticated).toBe(false);

    const reply = await walletLogin(login, await challenge(wallet, login.details.wallet_nonce));
    expect(reply.status, reply.text).toBe(200);
    const to =
      reply.json().redirect_to ??
      (await login.post('consent', { accepted_claims: ['name'] })).json().redirect_to;
    const { url } = await login.browser.follow(to);
    expect(new URL(url).searchParams.get('code')).toBeTruthy();
  });

  test('a challenge replayed into another transaction, or for another nonce, is refused', async () => {
    const wallet = await newWallet();
    const first = await begin();
    expect((await bind(first, wallet)).status).toBe(200);
    const jwt = await challenge(wallet, first.details.wallet_nonce);
    expect((await walletLogin(first, jwt)).status).toBe(200);

    const second = await begin();
    expect(second.details.wallet_nonce).not.toBe(first.details.wallet_nonce);
    const replay = await walletLogin(second, jwt);
    expect(replay.status).toBe(401);
    expect(replay.json().error).toBe('auth_failed');
    // A fresh challenge for the right nonce still works.
    expect((await walletLogin(second, await challenge(wallet, second.details.wallet_nonce))).status).toBe(
      200,
    );
  });

  test('a wrong audience, an old iat or a key that was never bound is refused', async () => {
    const wallet = await newWallet();
    const stranger = await newWallet();
    const login = await begin();
    expect((await bind(login, wallet)).status).toBe(200);
    const nonce = login.details.wallet_nonce;
    expect((await walletLogin(login, await challenge(stranger, nonce))).status).toBe(401);
    const wrongAud = await new SignJWT({ nonce })
      .setProtectedHeader({ alg: 'ES256', kid: wallet.thumbprint })
      .setAudience('https://elsewhere.example')
      .setIssuedAt(Math.floor(app.clock.now() / 1000))
      .sign(wallet.privateKey);
    expect((await walletLogin(login, wrongAud)).status).toBe(401);
    const again = await begin();
    const old = await new SignJWT({ nonce: again.details.wallet_nonce })
      .setProtectedHeader({ alg: 'ES256', kid: wallet.thumbprint })
      .setAudience(app.url)
      .setIssuedAt(Math.floor(app.clock.now() / 1000) - 600)
      .sign(wallet.privateKey);
    expect((await walletLogin(again, old)).status).toBe(401);
  });

  test('an expired binding (after 10 days) is refused; binding again renews it', async () => {
    const wallet = await newWallet();
    const login = await begin();
    expect((await bind(login, wallet)).status).toBe(200);
    app.clock.advanceSeconds(10 * 86_400 + 1);
    const late = await begin();
    const reply = await walletLogin(late, await challenge(wallet, late.details.wallet_nonce));
    expect(reply.status).toBe(401);
    expect(reply.json().error).toBe('auth_failed');
    const renew = await begin();
    expect((await bind(renew, wallet)).status).toBe(200);
    expect((await walletLogin(renew, await challenge(wallet, renew.details.wallet_nonce))).status).toBe(200);
  });

  test('binding needs the right OTP, a public key, and follows the OTP send limits (3 per transaction)', async () => {
    const wallet = await newWallet();
    const login = await begin();
    expect(
      (await login.post('send-otp', { individual_id: IDENTITY.individualId, purpose: 'wallet-binding' }))
        .status,
    ).toBe(200);
    const code = await latestOtp(app);
    const privateJwk = { ...(await exportJWK(wallet.privateKey)) };
    const withPrivate = await login.post('bind-wallet', {
      individual_id: IDENTITY.individualId,
      otp: code,
      public_key: privateJwk,
    });
    expect(withPrivate.status).toBe(400);
    expect(withPrivate.json().error).toBe('invalid_request');
    const wrongCode = await login.post('bind-wallet', {
      individual_id: IDENTITY.individualId,
      otp: code === '000000' ? '111111' : '000000',
      public_key: wallet.jwk,
    });
    expect(wrongCode.status).toBe(401);
    const before = await outboxCount(app);
    for (let i = 0; i < 2; i++) {
      app.clock.advanceSeconds(31);
      expect(
        (await login.post('send-otp', { individual_id: IDENTITY.individualId, purpose: 'wallet-binding' }))
          .status,
      ).toBe(200);
    }
    app.clock.advanceSeconds(31);
    const fourth = await login.post('send-otp', {
      individual_id: IDENTITY.individualId,
      purpose: 'wallet-binding',
    });
    expect(fourth.status).toBe(429);
    expect(fourth.json().error).toBe('no_attempts_left');
    expect(await outboxCount(app)).toBe(before + 2);
  });

  test('without an ACR that allows the wallet, no binding code is sent', async () => {
    const login = await beginLogin(app, client, { acr_values: 'mosip:idp:acr:static-code' });
    expect(login.details.wallet_nonce).toBeNull();
    const before = await outboxCount(app);
    const reply = await login.post('send-otp', {
      individual_id: IDENTITY.individualId,
      purpose: 'wallet-binding',
    });
    expect(reply.status).toBe(400);
    expect(await outboxCount(app)).toBe(before);
  });
});
