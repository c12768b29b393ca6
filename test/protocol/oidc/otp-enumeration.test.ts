import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';
import { beginLogin, outboxCount } from './factor-helpers.ts';
import { IDENTITY, type Reply, registerClient, startOidcApp, type TestClient } from './helpers.ts';

/**
 * SECURITY.md row 47 (enumeration) for the OTP path, black box: an attacker who types Individual
 * IDs into send-otp and authenticate must not learn which ones exist. Known and unknown IDs get the
 * same status, the same body keys, a mask of the same form, and a median latency gap under 10 ms.
 */

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
/** The shape of a JSON body: its keys and the type of each value. */
const shape = (reply: Reply) =>
  Object.fromEntries(
    Object.entries(reply.json() as Record<string, unknown>).map(([k, v]) => [
      k,
      v === null ? 'null' : typeof v,
    ]),
  );
const MASK = /^\*\*\* \*\*\d\d$/;
const WRONG_CODE = '000000';

describe('row 47 otp-enumeration: known and unknown Individual IDs look the same', () => {
  let app: TestApp;
  let client: TestClient;
  let unknownId = 8_880_000_000;
  beforeAll(async () => {
    // Loose limits so the sample stays on the send and verify paths (limits are tested below).
    app = await startOidcApp({
      overrides: {
        kyc: {
          scryptCost: 1024,
          notify: { outboxEnabled: true },
          otp: { resendCooldownSeconds: 0, maxSendsPerTransaction: 10, maxSendsPerIndividual: 1000 },
          lockout: { maxAttemptsPerTransaction: 10, maxFailuresPerIndividual: 100 },
        },
        rateLimits: { enabled: false },
      },
    });
    client = await registerClient(app);
  });
  afterAll(async () => app.stop());

  test('send-otp: same status and body shape, a mask of the same form, a code only for the known ID', async () => {
    const before = await outboxCount(app);
    const known = await (await beginLogin(app, client)).post('send-otp', {
      individual_id: IDENTITY.individualId,
    });
    expect(await outboxCount(app)).toBe(before + 1);
    const stranger = String(unknownId++);
    const unknown = await (await beginLogin(app, client)).post('send-otp', { individual_id: stranger });
    expect(await outboxCount(app)).toBe(before + 1);
    expect(known.status, known.text).toBe(200);
    expect(unknown.status, unknown.text).toBe(200);
    expect(shape(unknown)).toEqual(shape(known));
    expect(known.json().masked_to).toBe(`*** **${IDENTITY.claims.phone_number.slice(-2)}`);
    expect(unknown.json().masked_to).toMatch(MASK);
    expect({ ...unknown.json(), masked_to: '' }).toEqual({ ...known.json(), masked_to: '' });
    // The decoy is stable: asking again (another login) shows the same destination.
    const again = await (await beginLogin(app, client)).post('send-otp', { individual_id: stranger });
    expect(again.json().masked_to).toBe(unknown.json().masked_to);
  });

  test('send-otp and OTP authenticate: median latency gap under 10 ms over 30 tries each', async () => {
    const TRIES = 30;
    const send = { known: [] as number[], unknown: [] as number[] };
    const auth = { known: [] as number[], unknown: [] as number[] };
    const failures = new Set<string>();
    for (let round = 0; round < TRIES; round++) {
      const login = await beginLogin(app, client);
      const order = round % 2 ? (['known', 'unknown'] as const) : (['unknown', 'known'] as const);
      const ids = { known: IDENTITY.individualId, unknown: String(unknownId++) };
      for (const kind of order) {
        const started = performance.now();
        const reply = await login.post('send-otp', { individual_id: ids[kind] });
        send[kind].push(performance.now() - started);
        expect(reply.status, reply.text).toBe(200);
      }
      for (const kind of order) {
        const started = performance.now();
        const reply = await login.authenticate(ids[kind], 'otp', WRONG_CODE);
        auth[kind].push(performance.now() - started);
        expect(reply.status, reply.text).toBe(401);
        failures.add(reply.text);
      }
    }
    expect(failures.size).toBe(1);
    expect(JSON.parse([...failures][0]!).error).toBe('auth_failed');
    for (const [step, times] of Object.entries({ send, auth })) {
      const gap = Math.abs(median(times.known) - median(times.unknown));
      expect(
        gap,
        `${step}: median known ${median(times.known)} ms, unknown ${median(times.unknown)} ms`,
      ).toBeLessThan(10);
    }
  });
});

describe('row 47: a blocked known ID and a blocked unknown ID look the same', () => {
  let app: TestApp;
  let client: TestClient;
  beforeAll(async () => {
    app = await startOidcApp({ overrides: { rateLimits: { enabled: false } } });
    client = await registerClient(app);
  });
  afterAll(async () => app.stop());

  /** 5 wrong PINs over two logins: the individual (known or not) is blocked for 600 s. */
  async function block(individualId: string) {
    for (const tries of [3, 2]) {
      const login = await beginLogin(app, client);
      for (let i = 0; i < tries; i++) {
        expect((await login.authenticate(individualId, 'pin', '000000')).status).toBe(401);
      }
    }
  }

  test('send-otp answers both alike and sends nothing; authenticate refuses both with no_attempts_left', async () => {
    const stranger = '8889990001';
    await block(IDENTITY.individualId);
    await block(stranger);
    const before = await outboxCount(app);
    const sends: Reply[] = [];
    const auths: Reply[] = [];
    for (const id of [IDENTITY.individualId, stranger]) {
      const login = await beginLogin(app, client);
      sends.push(await login.post('send-otp', { individual_id: id }));
      auths.push(await login.authenticate(id, 'otp', WRONG_CODE));
    }
    expect(await outboxCount(app)).toBe(before);
    expect(sends.map((r) => r.status)).toEqual([200, 200]);
    expect(shape(sends[1]!)).toEqual(shape(sends[0]!));
    for (const reply of sends) expect(reply.json().masked_to).toMatch(MASK);
    expect(auths.map((r) => r.status)).toEqual([429, 429]);
    expect(auths[1]!.text).toBe(auths[0]!.text);
    expect(auths[0]!.json().error).toBe('no_attempts_left');
  });
});

/** A window start (epoch ms, a multiple of 60 s) plus one second, so Retry-After is predictable. */
const windowStart = (now: number) => Math.floor(now / 60_000) * 60_000 + 60_000 + 1000;

describe('row 47: per-IP limits on starting logins and on authenticate attempts', () => {
  let app: TestApp;
  let client: TestClient;
  beforeAll(async () => {
    app = await startOidcApp({
      overrides: {
        rateLimits: {
          rules: {
            authenticate: { limit: 3, windowSeconds: 60 },
            interaction: { limit: 8, windowSeconds: 60 },
          },
        },
      },
    });
    client = await registerClient(app);
  });
  afterAll(async () => app.stop());

  test('the 4th authenticate attempt from one IP in a minute is 429 with Retry-After, whatever X-Forwarded-For says', async () => {
    app.clock.set(windowStart(app.clock.now()));
    const login = await beginLogin(app, client);
    for (let i = 0; i < 3; i++) {
      const id = String(7_000_000_000 + i);
      expect((await login.authenticate(id, 'pin', '000000')).status).toBe(401);
    }
    const refused = await login.browser.fetch(`${login.interaction}/api/authenticate`, {
      json: { individual_id: IDENTITY.individualId, factor: 'pin', challenge: IDENTITY.pin },
      headers: { ...login.headers, 'x-forwarded-for': '203.0.113.7' },
    });
    expect(refused.status).toBe(429);
    expect(refused.json().error).toBe('too_many_requests');
    expect(refused.headers['retry-after']).toBe('59');
    // The page form shares the counter and answers with a page.
    const page = await login.browser.fetch(`${login.interaction}/login`, {
      form: { csrf: login.details.csrf_token, factor: 'pin', individual_id: IDENTITY.individualId, pin: '1' },
      headers: { origin: new URL(app.url).origin },
    });
    expect(page.status).toBe(429);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    app.clock.advanceSeconds(60);
    const next = await beginLogin(app, client);
    expect((await next.authenticate(IDENTITY.individualId, 'pin', IDENTITY.pin)).status).toBe(200);
  });

  test('opening login transactions (the page or the API) is limited per IP too', async () => {
    // A window no other test of this app counted in (each test starts from the same instant).
    app.clock.set(windowStart(app.clock.now()) + 10 * 60_000);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const login = await beginLogin(app, client).catch(() => undefined);
      if (!login) break;
      statuses.push((await login.browser.fetch(login.interaction)).status);
    }
    // Each beginLogin opens the API once and the page once: 8 allowed, the 9th is refused.
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
  });
});
