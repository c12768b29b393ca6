import { afterEach, describe, expect, it } from 'vitest';
import { AuthFailed, NoAttemptsLeft, TooManyRequests } from '../../src/errors.ts';
import { generateOtp } from '../../src/kyc/otp.ts';
import { createPerson, type KycHarness, kycHarness, lastCode, tx } from '../protocol/kyc/harness.ts';

let h: KycHarness;
afterEach(() => h?.close());

const otp = (code: string) => [{ factor: 'otp' as const, value: code }];
const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

describe('OTP generation', () => {
  it('draws 6 uniform digits from the CSPRNG (chi-squared over 100k codes)', () => {
    const counts = Array<number>(10).fill(0);
    const firstDigit = Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const code = generateOtp(6);
      expect(code).toMatch(/^\d{6}$/);
      for (const digit of code) counts[Number(digit)]!++;
      firstDigit[Number(code[0])]!++;
    }
    const chiSquared = (observed: number[]) => {
      const expected = observed.reduce((a, b) => a + b, 0) / observed.length;
      return observed.reduce((sum, o) => sum + (o - expected) ** 2 / expected, 0);
    };
    // 9 degrees of freedom: 27.88 is the p = 0.001 critical value.
    expect(chiSquared(counts)).toBeLessThan(27.88);
    expect(chiSquared(firstDigit)).toBeLessThan(27.88);
  });
});

describe('OTP login', () => {
  it('accepts the sent code once, and only once', async () => {
    h = await kycHarness();
    const identity = await createPerson(h);
    const t = tx();
    const sent = await h.mock.sendOtp('4455667788', 'email', t);
    expect(sent).toMatchObject({
      maskedTo: 'n***@example.org',
      resendAfterSeconds: 30,
      expiresInSeconds: 180,
      sendsLeft: 2,
    });
    expect(h.sent[0]).toMatchObject({ channel: 'email', to: 'nadia.karim@example.org', purpose: 'otp' });
    const code = lastCode(h);
    const result = await h.mock.authenticate('4455667788', otp(code), t);
    expect(result.accountId).toBe(identity.accountId);
    expect(result.factors).toEqual(['otp']);
    await expect(h.mock.authenticate('4455667788', otp(code), t)).rejects.toBeInstanceOf(AuthFailed);
  });

  it('rejects a code after its 180 seconds', async () => {
    h = await kycHarness();
    await createPerson(h);
    const t = tx();
    await h.mock.sendOtp('4455667788', 'sms', t);
    h.clock.advanceSeconds(181);
    await expect(h.mock.authenticate('4455667788', otp(lastCode(h)), t)).rejects.toBeInstanceOf(AuthFailed);
  });

  it('accepts a code only in its own transaction and for its own individual', async () => {
    h = await kycHarness();
    await createPerson(h);
    await createPerson(h, { individualId: '9988776655' });
    const t = tx();
    await h.mock.sendOtp('4455667788', 'sms', t);
    const code = lastCode(h);
    await expect(h.mock.authenticate('4455667788', otp(code), tx())).rejects.toBeInstanceOf(AuthFailed);
    await expect(h.mock.authenticate('9988776655', otp(code), t)).rejects.toBeInstanceOf(AuthFailed);
    await expect(h.mock.authenticate('4455667788', otp(code), t)).resolves.toMatchObject({
      factors: ['otp'],
    });
  });

  it('stores codes only hashed: no stored document or counter holds the code', async () => {
    h = await kycHarness({ otp: { resendCooldownSeconds: 0 } });
    await createPerson(h);
    const codes: string[] = [];
    for (let i = 0; i < 3; i++) {
      await h.mock.sendOtp('4455667788', 'sms', tx());
      codes.push(lastCode(h));
    }
    const raw = h.rawRows().join('\n');
    expect(raw).toContain('codeHash');
    for (const code of codes) expect(raw).not.toContain(code);
  });

  it('sends at most 3 codes per transaction, with a 30 second resend countdown', async () => {
    h = await kycHarness();
    await createPerson(h);
    const t = tx();
    await h.mock.sendOtp('4455667788', 'sms', t);
    h.clock.advanceSeconds(10);
    const early = await h.mock.sendOtp('4455667788', 'sms', t).catch((e) => e);
    expect(early).toBeInstanceOf(TooManyRequests);
    expect(early.extra).toEqual({ resend_after_seconds: 20 });
    expect(early.headers['Retry-After']).toBe('20');
    expect(await h.context.otp.resendAfterSeconds(t.transactionId)).toBe(20);
    h.clock.advanceSeconds(20);
    await h.mock.sendOtp('4455667788', 'sms', t);
    h.clock.advanceSeconds(30);
    expect((await h.mock.sendOtp('4455667788', 'sms', t)).sendsLeft).toBe(0);
    h.clock.advanceSeconds(30);
    await expect(h.mock.sendOtp('4455667788', 'sms', t)).rejects.toBeInstanceOf(NoAttemptsLeft);
    expect(h.sent).toHaveLength(3);
  });

  it('a new code replaces the previous one', async () => {
    h = await kycHarness({ otp: { resendCooldownSeconds: 0 } });
    await createPerson(h);
    const t = tx();
    await h.mock.sendOtp('4455667788', 'sms', t);
    const first = lastCode(h);
    await h.mock.sendOtp('4455667788', 'sms', t);
    if (first !== lastCode(h)) {
      await expect(h.mock.authenticate('4455667788', otp(first), t)).rejects.toBeInstanceOf(AuthFailed);
    }
    await expect(h.mock.authenticate('4455667788', otp(lastCode(h)), t)).resolves.toBeDefined();
  });

  it('after 3 wrong codes in a transaction refuses the correct one with no_attempts_left', async () => {
    h = await kycHarness();
    await createPerson(h);
    const t = tx();
    await h.mock.sendOtp('4455667788', 'sms', t);
    const code = lastCode(h);
    for (let i = 0; i < 3; i++) {
      await expect(h.mock.authenticate('4455667788', otp(wrong(code)), t)).rejects.toBeInstanceOf(AuthFailed);
    }
    const error = await h.mock.authenticate('4455667788', otp(code), t).catch((e) => e);
    expect(error).toBeInstanceOf(NoAttemptsLeft);
    expect(error.code).toBe('no_attempts_left');
  });

  it('a 50-way parallel burst of wrong codes compares at most 3 times', async () => {
    h = await kycHarness();
    await createPerson(h);
    const t = tx();
    await h.mock.sendOtp('4455667788', 'sms', t);
    const code = lastCode(h);
    let compared = 0;
    const check = h.context.otp.check.bind(h.context.otp);
    h.context.otp.check = async (...args) => {
      compared++;
      return check(...args);
    };
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () => h.mock.authenticate('4455667788', otp(wrong(code)), t)),
    );
    const reasons = results.map((r) =>
      r.status === 'rejected' ? (r.reason as { code: string }).code : 'ok',
    );
    expect(reasons.filter((r) => r === 'auth_failed')).toHaveLength(3);
    expect(reasons.filter((r) => r === 'no_attempts_left')).toHaveLength(47);
    expect(compared).toBe(3);
    await expect(h.mock.authenticate('4455667788', otp(code), t)).rejects.toBeInstanceOf(NoAttemptsLeft);
  });

  it('parallel guesses spread over many transactions cannot pass the individual limit of 5', async () => {
    h = await kycHarness();
    await createPerson(h);
    let compared = 0;
    const check = h.context.otp.check.bind(h.context.otp);
    h.context.otp.check = async (...args) => {
      compared++;
      return check(...args);
    };
    const transactions = Array.from({ length: 20 }, () => tx());
    await Promise.allSettled(
      transactions.flatMap((t) => [0, 1, 2].map(() => h.mock.authenticate('4455667788', otp('000000'), t))),
    );
    expect(compared).toBeLessThanOrEqual(5);
  });

  it('5 failures block the individual for 600 s across transactions, even with the correct code', async () => {
    h = await kycHarness();
    await createPerson(h);
    const first = tx();
    await h.mock.sendOtp('4455667788', 'sms', first);
    for (let i = 0; i < 3; i++) await h.mock.authenticate('4455667788', otp('000000'), first).catch(() => {});
    const second = tx();
    await h.mock.sendOtp('4455667788', 'sms', second);
    const code = lastCode(h);
    for (let i = 0; i < 2; i++)
      await h.mock.authenticate('4455667788', otp(wrong(code)), second).catch(() => {});
    // The correct code, in a transaction that still has an attempt left: refused.
    await expect(h.mock.authenticate('4455667788', otp(code), second)).rejects.toBeInstanceOf(NoAttemptsLeft);
    const third = tx();
    // send-otp does not show the block (SECURITY.md row 47): it answers as usual and sends nothing.
    const sentBefore = h.sent.length;
    await expect(h.mock.sendOtp('4455667788', 'sms', third)).resolves.toMatchObject({
      maskedTo: '*** **67',
      dispatched: false,
    });
    expect(h.sent.length).toBe(sentBefore);
    await expect(
      h.mock.authenticate('4455667788', [{ factor: 'pin', value: '246810' }], third),
    ).rejects.toBeInstanceOf(NoAttemptsLeft);
    // Another individual is not affected.
    await createPerson(h, { individualId: '1122334455' });
    await expect(
      h.mock.authenticate('1122334455', [{ factor: 'pin', value: '246810' }], tx()),
    ).resolves.toBeDefined();

    h.clock.advanceSeconds(600);
    const fourth = tx();
    await h.mock.sendOtp('4455667788', 'sms', fourth);
    await expect(h.mock.authenticate('4455667788', otp(lastCode(h)), fourth)).resolves.toBeDefined();
  });

  it('successful logins do not count toward the individual limit', async () => {
    h = await kycHarness();
    await createPerson(h);
    for (let i = 0; i < 8; i++) {
      await h.mock.authenticate('4455667788', [{ factor: 'pin', value: '246810' }], tx());
    }
    for (let i = 0; i < 4; i++) {
      await expect(
        h.mock.authenticate('4455667788', [{ factor: 'pin', value: '000000' }], tx()),
      ).rejects.toBeInstanceOf(AuthFailed);
    }
    await expect(
      h.mock.authenticate('4455667788', [{ factor: 'pin', value: '246810' }], tx()),
    ).resolves.toBeDefined();
  });
});
