import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, test } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';
import { beginLogin, type Login } from './factor-helpers.ts';
import { admin, IDENTITY, latestOtp, type TestClient, useAppAndClient } from './helpers.ts';

/**
 * SECURITY.md rows 16 and 49: a one-time code is bound to its purpose. A code sent to log in does not
 * bind a wallet key (a binding gives 10 days of sign-in without a code), a binding code does not log
 * in; the binding code's message says what it is for, and the person is told once a wallet is linked.
 */

/** Both a code and a wallet are allowed, so one login transaction can ask for either kind of code. */
const ACRS = 'mosip:idp:acr:generated-code mosip:idp:acr:linked-wallet';

interface OutboxMessage {
  to: string;
  subject: string;
  text: string;
  purpose: string;
}
const outbox = async (app: TestApp): Promise<OutboxMessage[]> =>
  (await admin(app, 'GET', '/outbox?limit=20')).messages;

async function newWallet() {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), alg: 'ES256' };
  return { privateKey, jwk, thumbprint: await calculateJwkThumbprint(jwk, 'sha256') };
}

describe('rows 16, 49: one-time codes carry a purpose', () => {
  let app: TestApp;
  let client: TestClient;
  useAppAndClient((started) => ({ app, client } = started));

  const sendCode = async (login: Login, purpose: 'login' | 'wallet-binding') => {
    const sent = await login.post('send-otp', { individual_id: IDENTITY.individualId, purpose });
    expect(sent.status, sent.text).toBe(200);
    return latestOtp(app);
  };
  const bind = (login: Login, otp: string, jwk: unknown) =>
    login.post('bind-wallet', { individual_id: IDENTITY.individualId, otp, public_key: jwk });

  test('a code sent to log in does not bind a wallet key, and the key then cannot sign in', async () => {
    const login = await beginLogin(app, client, { acr_values: ACRS });
    expect(login.details.factors).toEqual(expect.arrayContaining(['otp', 'wallet']));
    const wallet = await newWallet();
    const refused = await bind(login, await sendCode(login, 'login'), wallet.jwk);
    expect(refused.status).toBe(401);
    expect(refused.json().error).toBe('auth_failed');
    const challenge = await new SignJWT({ nonce: login.details.wallet_nonce })
      .setProtectedHeader({ alg: 'ES256', kid: wallet.thumbprint })
      .setAudience(app.url)
      .setIssuedAt(Math.floor(app.clock.now() / 1000))
      .sign(wallet.privateKey);
    const walletLogin = await (await beginLogin(app, client, { acr_values: ACRS })).authenticate(
      IDENTITY.individualId,
      'wallet',
      challenge,
    );
    expect(walletLogin.status).toBe(401);
  });

  test('a code sent to bind a wallet does not log in', async () => {
    const login = await beginLogin(app, client, { acr_values: ACRS });
    const code = await sendCode(login, 'wallet-binding');
    const reply = await login.authenticate(IDENTITY.individualId, 'otp', code);
    expect(reply.status).toBe(401);
    expect(reply.json().error).toBe('auth_failed');
    expect((await login.browser.fetch(`${login.interaction}/api`)).json().authenticated).toBe(false);
  });

  test('the binding code says a wallet is being linked; after the binding the person is told', async () => {
    const login = await beginLogin(app, client, { acr_values: ACRS });
    const code = await sendCode(login, 'wallet-binding');
    const [request] = await outbox(app);
    expect(request!.to).toBe(IDENTITY.claims.phone_number);
    expect(request!.purpose).toBe('wallet_binding');
    expect(request!.text).toMatch(/link a digital wallet to your identity/);
    expect(request!.text).toMatch(/sign in as you/);
    const wallet = await newWallet();
    const bound = await bind(login, code, wallet.jwk);
    expect(bound.status, bound.text).toBe(200);
    const [notice] = await outbox(app);
    expect(notice).toMatchObject({
      to: IDENTITY.claims.phone_number,
      subject: 'A wallet was linked to your identity',
      purpose: 'wallet_bound',
    });
    expect(notice!.text).not.toContain(code);
  });

  test('a login code says it is a sign-in code, and logs in', async () => {
    const login = await beginLogin(app, client, { acr_values: ACRS });
    const code = await sendCode(login, 'login');
    const [message] = await outbox(app);
    expect(message!.text).toMatch(/sign-in code/);
    expect(message!.text).not.toMatch(/wallet/);
    expect((await login.authenticate(IDENTITY.individualId, 'otp', code)).status).toBe(200);
  });
});
