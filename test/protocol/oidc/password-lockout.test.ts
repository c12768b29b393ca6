import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';
import { beginLogin } from './factor-helpers.ts';
import { IDENTITY, registerClient, startOidcApp, type TestClient, useAppAndClient } from './helpers.ts';

const WRONG = 'Wrong-Password-1';
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

describe('row 47 password-factor-lockout-enumeration through the interaction API', () => {
  let app: TestApp;
  let client: TestClient;
  useAppAndClient((started) => ({ app, client } = started));

  test('3 wrong passwords end the transaction, 5 block the individual (even the right password) for 600 s', async () => {
    const first = await beginLogin(app, client);
    for (let i = 0; i < 3; i++) {
      expect((await first.authenticate(IDENTITY.individualId, 'password', WRONG)).status).toBe(401);
    }
    const fourth = await first.authenticate(IDENTITY.individualId, 'password', IDENTITY.password);
    expect(fourth.status).toBe(429);
    expect(fourth.json().error).toBe('no_attempts_left');

    const second = await beginLogin(app, client);
    for (let i = 0; i < 2; i++) {
      expect((await second.authenticate(IDENTITY.individualId, 'password', WRONG)).status).toBe(401);
    }
    const blocked = await beginLogin(app, client);
    const right = await blocked.authenticate(IDENTITY.individualId, 'password', IDENTITY.password);
    expect(right.status).toBe(429);
    expect(right.json().error).toBe('no_attempts_left');
    // Another factor for the same individual is blocked too.
    const pin = await (await beginLogin(app, client)).authenticate(
      IDENTITY.individualId,
      'pin',
      IDENTITY.pin,
    );
    expect(pin.status).toBe(429);

    app.clock.advanceSeconds(601);
    const later = await beginLogin(app, client);
    expect((await later.authenticate(IDENTITY.individualId, 'password', IDENTITY.password)).status).toBe(200);
  });
});

describe('row 47: an unknown individual and a wrong password look the same (status, body, time)', () => {
  let app: TestApp;
  let client: TestClient;
  beforeAll(async () => {
    // Loose limits so 200 tries each (SECURITY.md row 47) stay on the hashing path; cheap scrypt, dummy hash kept.
    app = await startOidcApp({
      overrides: {
        kyc: {
          scryptCost: 1024,
          notify: { outboxEnabled: true },
          lockout: { maxAttemptsPerTransaction: 10, maxFailuresPerIndividual: 100 },
        },
        // 400 attempts from one address: the per-IP authenticate limit is tested in otp-enumeration.test.ts.
        rateLimits: { enabled: false },
      },
    });
    client = await registerClient(app);
  });
  afterAll(async () => app.stop());

  test('same status and body, and a median latency gap under 10 ms over 200 tries each', async () => {
    const TRIES = 200;
    const times = { unknown: [] as number[], wrong: [] as number[] };
    const bodies = new Set<string>();
    let unknownId = 7_770_000_000;
    for (let round = 0; round < TRIES / 5; round++) {
      // A new failure window every 15 rounds (75 wrong passwords), under the per-individual cap of 100.
      if (round > 0 && round % 15 === 0) app.clock.advanceSeconds(601);
      const login = await beginLogin(app, client);
      for (let i = 0; i < 5; i++) {
        for (const kind of round % 2 ? (['wrong', 'unknown'] as const) : (['unknown', 'wrong'] as const)) {
          const id = kind === 'wrong' ? IDENTITY.individualId : String(unknownId++);
          const started = performance.now();
          const reply = await login.authenticate(id, 'password', WRONG);
          times[kind].push(performance.now() - started);
          expect(reply.status).toBe(401);
          bodies.add(reply.text);
        }
      }
    }
    expect([...bodies]).toEqual([JSON.stringify(JSON.parse([...bodies][0]!))]);
    expect(JSON.parse([...bodies][0]!).error).toBe('auth_failed');
    const gap = Math.abs(median(times.unknown) - median(times.wrong));
    expect(gap, `median unknown ${median(times.unknown)} ms, wrong ${median(times.wrong)} ms`).toBeLessThan(
      10,
    );
  });
});
