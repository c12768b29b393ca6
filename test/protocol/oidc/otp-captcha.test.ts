import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';
import { beginLogin, outboxCount } from './factor-helpers.ts';
import {
  admin,
  Browser,
  IDENTITY,
  registerClient,
  startAuthorization,
  startOidcApp,
  type TestClient,
  useAppAndClient,
} from './helpers.ts';

/** A siteverify-style stub: tokens starting with `good-` pass; `mode` makes it slow or drop the connection. */
function captchaStub() {
  const stub = {
    hits: 0,
    mode: 'ok' as 'ok' | 'slow' | 'reset' | 'garbled',
    secrets: [] as string[],
    server: undefined as unknown as Server,
    url: '',
  };
  stub.server = createServer(async (req, res) => {
    stub.hits++;
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const form = new URLSearchParams(raw);
    stub.secrets.push(form.get('secret') ?? '');
    if (stub.mode === 'reset') return req.socket.destroy();
    if (stub.mode === 'slow') await new Promise((r) => setTimeout(r, 1500));
    res.setHeader('content-type', 'application/json');
    if (stub.mode === 'garbled') return res.end('<html>oops</html>');
    const success = (form.get('response') ?? '').startsWith('good-');
    res.end(JSON.stringify(success ? { success } : { success, 'error-codes': ['invalid-input-response'] }));
  });
  return stub;
}

const SECRET = 'captcha-server-secret-for-tests-only-0123456789';
const OTHER_PERSON = '5550009876';
const THIRD_PERSON = '5550004321';

describe('row 15 otp-send-rate-limit-and-captcha: captcha before any OTP, send limits', () => {
  const stub = captchaStub();
  let app: TestApp;
  let client: TestClient;
  let token = 0;
  const goodToken = () => `good-${++token}-${Date.now()}`;

  beforeAll(async () => {
    stub.server.listen(0, '127.0.0.1');
    await once(stub.server, 'listening');
    stub.url = `http://127.0.0.1:${(stub.server.address() as AddressInfo).port}/siteverify`;
    app = await startOidcApp({
      overrides: {
        kyc: {
          scryptCost: 1024,
          notify: { outboxEnabled: true },
          otp: { maxSendsPerIndividual: 5 },
          captcha: { provider: 'http', verifyUrl: stub.url, secret: SECRET, timeoutMs: 300 },
        },
      },
    });
    for (const [individual_id, name, phone_number] of [
      [OTHER_PERSON, 'Omar Haddad', '+212600000002'],
      [THIRD_PERSON, 'Salma Idrissi', '+212600000003'],
    ]) {
      await admin(app, 'POST', '/identities', { individual_id, claims: { name, phone_number } });
    }
    client = await registerClient(app);
  });
  afterAll(async () => {
    await app.stop();
    stub.server.close();
  });
  beforeEach(() => {
    stub.mode = 'ok';
  });

  const sendOtp = async (login: Awaited<ReturnType<typeof beginLogin>>, extra: Record<string, unknown>) =>
    login.post('send-otp', { individual_id: IDENTITY.individualId, ...extra });

  test('the interaction API says a captcha is required, and a solved one lets exactly one code out', async () => {
    const login = await beginLogin(app, client);
    expect(login.details.captcha_required).toBe(true);
    const before = await outboxCount(app);
    const reply = await sendOtp(login, { captcha_token: goodToken() });
    expect(reply.status).toBe(200);
    expect(await outboxCount(app)).toBe(before + 1);
    expect(stub.secrets.at(-1)).toBe(SECRET);
  });

  test.each([
    ['missing', () => ({})],
    ['empty', () => ({ captcha_token: '' })],
    ['not a string', () => ({ captcha_token: 42 })],
    ['refused by the verifier', () => ({ captcha_token: 'bad-token' })],
  ])('a %s captcha token is invalid_captcha and no code is sent', async (_name, body) => {
    const login = await beginLogin(app, client);
    const before = await outboxCount(app);
    const reply = await sendOtp(login, body());
    expect(reply.status).toBe(400);
    expect(reply.json().error).toBe('invalid_captcha');
    expect(await outboxCount(app)).toBe(before);
  });

  test('a captcha token already used (in another transaction) is refused and no code is sent', async () => {
    const captcha = goodToken();
    const first = await beginLogin(app, client);
    expect((await sendOtp(first, { captcha_token: captcha })).status).toBe(200);
    const second = await beginLogin(app, client);
    const before = await outboxCount(app);
    const replay = await sendOtp(second, { captcha_token: captcha });
    expect(replay.status).toBe(400);
    expect(replay.json().error).toBe('invalid_captcha');
    expect(await outboxCount(app)).toBe(before);
  });

  test.each([
    ['drops the connection', 'reset'],
    ['answers after the timeout', 'slow'],
    ['answers something that is not JSON', 'garbled'],
  ] as const)('fails closed when the verifier %s: 503, no code sent', async (_name, mode) => {
    const login = await beginLogin(app, client);
    stub.mode = mode;
    const before = await outboxCount(app);
    const reply = await sendOtp(login, { captcha_token: goodToken() });
    expect(reply.status).toBe(503);
    expect(reply.json().error).toBe('temporarily_unavailable');
    expect(await outboxCount(app)).toBe(before);
  });

  test('the login page has a captcha field, and its form without a token sends nothing', async () => {
    const browser = new Browser(new URL(app.url).origin);
    const { interaction } = await startAuthorization(app, browser, client);
    const page = await browser.fetch(`${interaction}?factor=otp`);
    expect(page.text).toContain('name="captcha_token"');
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)![1]!;
    const before = await outboxCount(app);
    const reply = await browser.fetch(`${interaction}/send-otp`, {
      form: { csrf, individual_id: IDENTITY.individualId },
      headers: { origin: new URL(app.url).origin },
    });
    expect(reply.status).toBe(400);
    expect(reply.text).toContain('captcha');
    expect(await outboxCount(app)).toBe(before);
  });

  test('a 4th send in one transaction is no_attempts_left (429) and is not dispatched', async () => {
    const login = await beginLogin(app, client);
    const before = await outboxCount(app);
    for (let i = 0; i < 3; i++) {
      const reply = await login.post('send-otp', { individual_id: OTHER_PERSON, captcha_token: goodToken() });
      expect(reply.status, reply.text).toBe(200);
      expect(reply.json().sends_left).toBe(2 - i);
      app.clock.advanceSeconds(31);
    }
    const fourth = await login.post('send-otp', { individual_id: OTHER_PERSON, captcha_token: goodToken() });
    expect(fourth.status).toBe(429);
    expect(fourth.json().error).toBe('no_attempts_left');
    expect(await outboxCount(app)).toBe(before + 3);
  });

  test('sends beyond the per-individual limit (5 here) across transactions are 429 and not dispatched', async () => {
    const before = await outboxCount(app);
    for (let i = 0; i < 5; i++) {
      const login = await beginLogin(app, client);
      const reply = await login.post('send-otp', { individual_id: THIRD_PERSON, captcha_token: goodToken() });
      expect(reply.status, reply.text).toBe(200);
    }
    const login = await beginLogin(app, client);
    const over = await login.post('send-otp', { individual_id: THIRD_PERSON, captcha_token: goodToken() });
    expect(over.status).toBe(429);
    expect(over.json().error).toBe('too_many_requests');
    expect(over.headers['retry-after']).toBeDefined();
    expect(await outboxCount(app)).toBe(before + 5);
  });
});

describe('row 15: without kyc.captcha nothing asks for a token', () => {
  let app: TestApp;
  let client: TestClient;
  useAppAndClient((started) => ({ app, client } = started));

  test('the page has no captcha field and send-otp works without a token', async () => {
    const browser = new Browser(new URL(app.url).origin);
    const { interaction } = await startAuthorization(app, browser, client);
    expect((await browser.fetch(`${interaction}?factor=otp`)).text).not.toContain('captcha_token');
    const login = await beginLogin(app, client);
    expect(login.details.captcha_required).toBe(false);
    expect((await login.post('send-otp', { individual_id: IDENTITY.individualId })).status).toBe(200);
  });
});

describe('rows 15, 47: kyc.captcha.requiredFor with authenticate guards every login attempt', () => {
  const stub = captchaStub();
  let app: TestApp;
  let client: TestClient;
  let token = 0;
  const goodToken = () => `good-auth-${++token}-${Date.now()}`;

  beforeAll(async () => {
    stub.server.listen(0, '127.0.0.1');
    await once(stub.server, 'listening');
    stub.url = `http://127.0.0.1:${(stub.server.address() as AddressInfo).port}/siteverify`;
    app = await startOidcApp({
      overrides: {
        kyc: {
          scryptCost: 1024,
          notify: { outboxEnabled: true },
          captcha: {
            provider: 'http',
            verifyUrl: stub.url,
            secret: SECRET,
            timeoutMs: 300,
            requiredFor: ['authenticate'],
          },
        },
      },
    });
    client = await registerClient(app);
  });
  afterAll(async () => {
    await app.stop();
    stub.server.close();
  });
  beforeEach(() => {
    stub.mode = 'ok';
  });

  const pin = (login: Awaited<ReturnType<typeof beginLogin>>, extra: Record<string, unknown>) =>
    login.post('authenticate', {
      individual_id: IDENTITY.individualId,
      factor: 'pin',
      challenge: IDENTITY.pin,
      ...extra,
    });

  test('the API lists the guarded actions; send-otp needs no token here', async () => {
    const login = await beginLogin(app, client);
    expect(login.details.captcha_required_for).toEqual(['authenticate']);
    expect(login.details.captcha_required).toBe(false);
    expect((await login.post('send-otp', { individual_id: IDENTITY.individualId })).status).toBe(200);
  });

  test('without a solved captcha, authenticate is invalid_captcha and spends no attempt', async () => {
    const login = await beginLogin(app, client);
    // More refusals than the 3 attempts a transaction has: none of them counted.
    for (const extra of [{}, { captcha_token: '' }, { captcha_token: 'bad-token' }, { captcha_token: 7 }]) {
      const reply = await pin(login, extra);
      expect(reply.status).toBe(400);
      expect(reply.json().error).toBe('invalid_captcha');
    }
    expect((await pin(login, { captcha_token: goodToken() })).status).toBe(200);
  });

  test('fails closed: a verifier that is down gives 503 and the right PIN does not log in', async () => {
    const login = await beginLogin(app, client);
    stub.mode = 'reset';
    const reply = await pin(login, { captcha_token: goodToken() });
    expect(reply.status).toBe(503);
    expect(reply.json().error).toBe('temporarily_unavailable');
    expect((await login.browser.fetch(`${login.interaction}/api`)).json().authenticated).toBe(false);
  });

  test('the login page form carries a captcha field and is refused without a token', async () => {
    const browser = new Browser(new URL(app.url).origin);
    const { interaction } = await startAuthorization(app, browser, client);
    const page = await browser.fetch(`${interaction}?factor=pin`);
    expect(page.text).toMatch(/action="[^"]+\/login"[\s\S]*name="captcha_token"[\s\S]*<\/form>/);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)![1]!;
    const reply = await browser.fetch(`${interaction}/login`, {
      form: { csrf, factor: 'pin', individual_id: IDENTITY.individualId, pin: IDENTITY.pin },
      headers: { origin: new URL(app.url).origin },
    });
    expect(reply.status).toBe(400);
    expect(reply.text).toContain('captcha');
  });
});
