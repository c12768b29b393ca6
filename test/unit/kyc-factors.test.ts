import { CompactSign, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthFailed } from '../../src/errors.ts';
import { captureIndividualHash } from '../../src/kyc/biometric.ts';
import { sha256 } from '../../src/kyc/crypto.ts';
import { kbiMatches, normalizeDate, normalizeText, parseKbiAnswers } from '../../src/kyc/kbi.ts';
import { createPerson, type KycHarness, kycHarness, person, tx } from '../protocol/kyc/harness.ts';

let h: KycHarness;
afterEach(() => h?.close());

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

/**
 * The same JWS in two other spellings that verify just as well: the ECDSA signature with s replaced
 * by n - s (P-256's order), and the signature's last base64url character with its unused low bits
 * changed (a 64-byte signature leaves 4 of them). Single use must hold for what was signed, not for
 * one spelling of it.
 */
function respellings(jws: string): string[] {
  const [header, payload, signature] = jws.split('.') as [string, string, string];
  const bytes = Buffer.from(signature, 'base64url');
  const n = BigInt('0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551');
  const s = BigInt(`0x${bytes.subarray(32).toString('hex')}`);
  const highS = Buffer.concat([
    bytes.subarray(0, 32),
    Buffer.from((n - s).toString(16).padStart(64, '0'), 'hex'),
  ]);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(signature.at(-1)!);
  const trailing = `${signature.slice(0, -1)}${alphabet[last ^ 1]}`;
  return [`${header}.${payload}.${highS.toString('base64url')}`, `${header}.${payload}.${trailing}`];
}

describe('PIN and password', () => {
  it('log in with the right PIN or password and report the factor', async () => {
    h = await kycHarness();
    await createPerson(h);
    await expect(
      h.mock.authenticate('4455667788', [{ factor: 'pin', value: '246810' }], tx()),
    ).resolves.toMatchObject({
      factors: ['pin'],
    });
    await expect(
      h.mock.authenticate('4455-667-788', [{ factor: 'password', value: 'Desert-Rose-91' }], tx()),
    ).resolves.toMatchObject({ factors: ['password'] });
  });

  it('answer an unknown individual and a wrong password with the same error', async () => {
    h = await kycHarness();
    await createPerson(h);
    const unknown = await h.mock
      .authenticate('0000000000', [{ factor: 'password', value: 'Desert-Rose-91' }], tx())
      .catch((e) => e);
    const wrongPassword = await h.mock
      .authenticate('4455667788', [{ factor: 'password', value: 'Desert-Rose-19' }], tx())
      .catch((e) => e);
    expect(unknown).toBeInstanceOf(AuthFailed);
    expect([unknown.status, unknown.code, unknown.description]).toEqual([
      wrongPassword.status,
      wrongPassword.code,
      wrongPassword.description,
    ]);
  });

  it('take the same time for an unknown individual and a wrong password (median gap < 10 ms)', async () => {
    h = await kycHarness({ scryptCost: 4096, lockout: { maxFailuresPerIndividual: 100 } });
    await createPerson(h);
    const unknown: number[] = [];
    const wrong: number[] = [];
    const time = async (individualId: string, into: number[]) => {
      const start = process.hrtime.bigint();
      await h.mock
        .authenticate(individualId, [{ factor: 'password', value: 'not-the-password' }], tx())
        .catch(() => {});
      into.push(Number(process.hrtime.bigint() - start) / 1e6);
    };
    for (let i = 0; i < 50; i++) {
      await time(`77${String(i).padStart(8, '0')}`, unknown);
      await time('4455667788', wrong);
    }
    expect(median(wrong)).toBeGreaterThan(1); // a slow hash really ran
    expect(Math.abs(median(unknown) - median(wrong))).toBeLessThan(10);
  });

  it('store PINs and passwords only as scrypt hashes', async () => {
    h = await kycHarness();
    await createPerson(h);
    const raw = h.rawRows().join('\n');
    expect(raw).toMatch(/"pinHash":"scrypt\$1024\$8\$1\$/);
    expect(raw).not.toContain('246810');
    expect(raw).not.toContain('Desert-Rose-91');
  });
});

describe('KBI', () => {
  it('normalizes case, spacing, punctuation, accents and Arabic spelling variants', () => {
    expect(normalizeText('  AMINA   hassan ')).toBe('amina hassan');
    expect(normalizeText('Amina-Hassan.')).toBe('amina hassan');
    expect(normalizeText('José Müller')).toBe('jose muller');
    expect(normalizeText('أمينة حسن')).toBe(normalizeText('امينه حسن'));
    expect(normalizeText('ليلى')).toBe(normalizeText('ليلي'));
  });

  it('reads dates written ISO or day-first, and refuses impossible ones', () => {
    expect(normalizeDate('1991-03-09')).toBe('1991-03-09');
    expect(normalizeDate('1991/3/9')).toBe('1991-03-09');
    expect(normalizeDate('09/03/1991')).toBe('1991-03-09');
    expect(normalizeDate('9.3.1991')).toBe('1991-03-09');
    expect(normalizeDate('31/02/1991')).toBeUndefined();
    expect(normalizeDate('March 9')).toBeUndefined();
  });

  it('matches the name in any language, or given + family name, with the birthdate', () => {
    const { claims } = person();
    const fields = ['name', 'birthdate'];
    expect(kbiMatches({ name: 'nadia  KARIM', birthdate: '09/03/1991' }, claims, fields)).toBe(true);
    expect(kbiMatches({ name: 'نادية كريم', birthdate: '1991-03-09' }, claims, fields)).toBe(true);
    expect(kbiMatches({ name: 'Nadia Karim', birthdate: '1991-03-10' }, claims, fields)).toBe(false);
    expect(kbiMatches({ name: 'Nadia', birthdate: '1991-03-09' }, claims, fields)).toBe(false);
    expect(kbiMatches({ name: 'Nadia Karim' }, claims, fields)).toBe(false);
    expect(kbiMatches({ name: '', birthdate: '' }, {}, fields)).toBe(false);
  });

  it('accepts answers as an object, JSON or base64url JSON (eSignet format)', () => {
    const answers = { name: 'Nadia Karim', birthdate: '1991-03-09' };
    expect(parseKbiAnswers(answers)).toEqual(answers);
    expect(parseKbiAnswers(JSON.stringify(answers))).toEqual(answers);
    expect(parseKbiAnswers(Buffer.from(JSON.stringify(answers)).toString('base64url'))).toEqual(answers);
    expect(parseKbiAnswers('not json')).toBeUndefined();
  });

  it('logs in with knowledge-based answers', async () => {
    h = await kycHarness();
    await createPerson(h);
    const kbi = (value: Record<string, string>) => [{ factor: 'kbi' as const, value }];
    await expect(
      h.mock.authenticate('4455667788', kbi({ name: 'NADIA KARIM', birthdate: '9/3/1991' }), tx()),
    ).resolves.toMatchObject({ factors: ['kbi'] });
    await expect(
      h.mock.authenticate('4455667788', kbi({ name: 'Nadia Karim', birthdate: '1990-03-09' }), tx()),
    ).rejects.toBeInstanceOf(AuthFailed);
  });
});

describe('biometric captures', () => {
  async function withDevice() {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), alg: 'ES256' };
    h = await kycHarness({ biometric: { devices: [{ kid: 'device-1', jwk }] } });
    await createPerson(h);
    const capture = async (payload: Record<string, unknown>, kid = 'device-1') =>
      new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
        .setProtectedHeader({ alg: 'ES256', kid })
        .sign(privateKey);
    return capture;
  }
  const payload = (transactionId: string, extra: Record<string, unknown> = {}) => ({
    transactionId,
    individualIdHash: captureIndividualHash('4455667788'),
    captureHash: sha256('face sample bytes'),
    timestamp: new Date(h.clock.now()).toISOString(),
    bioType: 'Face',
    deviceProvider: 'Test Devices Ltd',
    deviceSerial: 'TD-0001-2026',
    purpose: 'Auth',
    domainUri: h.services.config.resolved.publicUrl,
    padding: 'x'.repeat(200),
    ...extra,
  });
  const bio = (value: string) => [{ factor: 'biometric' as const, value }];

  it('accepts a fresh capture signed by a registered device for this transaction and person', async () => {
    const capture = await withDevice();
    const t = tx();
    const jws = await capture(payload(t.transactionId));
    expect(jws.length).toBeGreaterThanOrEqual(500);
    await expect(h.mock.authenticate('4455667788', bio(jws), t)).resolves.toMatchObject({
      factors: ['biometric'],
    });
    expect(h.rawRows().join('\n')).not.toContain(jws.split('.')[1]!);
  });

  it('refuses a capture replayed, into another transaction or the same one', async () => {
    const capture = await withDevice();
    const t = tx();
    const jws = await capture(payload(t.transactionId));
    await expect(h.mock.authenticate('4455667788', bio(jws), tx())).rejects.toBeInstanceOf(AuthFailed);
    await h.mock.authenticate('4455667788', bio(jws), t);
    const again = tx();
    await expect(
      h.mock.authenticate('4455667788', bio(jws), { ...again, transactionId: t.transactionId }),
    ).rejects.toBeInstanceOf(AuthFailed);
  });

  it('refuses the same capture spelled another way (ECDSA n - s, unused base64url bits) as a replay', async () => {
    const capture = await withDevice();
    const t = tx();
    const jws = await capture(payload(t.transactionId));
    expect(await h.context.biometric.verify(jws, '4455667788', t)).toBe(true);
    for (const again of respellings(jws)) {
      expect(again).not.toBe(jws);
      expect(await h.context.biometric.verify(again, '4455667788', t)).toBe(false);
    }
  });

  it('refuses stale, foreign, other-site, unsigned, undersized and oversized captures', async () => {
    const capture = await withDevice();
    const t = tx();
    const stale = await capture(
      payload(t.transactionId, { timestamp: new Date(h.clock.now() - 121_000).toISOString() }),
    );
    const otherPerson = await capture(
      payload(t.transactionId, { individualIdHash: captureIndividualHash('1') }),
    );
    const unknownDevice = await capture(payload(t.transactionId), 'device-2');
    const otherSite = await capture(payload(t.transactionId, { domainUri: 'https://elsewhere.example' }));
    const noSite = await capture(payload(t.transactionId, { domainUri: undefined }));
    const small = await capture({ transactionId: t.transactionId });
    const large = await capture(payload(t.transactionId, { padding: 'x'.repeat(500_000) }));
    const unsigned = `${Buffer.from('{"alg":"none","kid":"device-1"}').toString('base64url')}.${Buffer.from(
      JSON.stringify(payload(t.transactionId)),
    ).toString('base64url')}.`;
    for (const jws of [stale, otherPerson, unknownDevice, otherSite, noSite, small, large, unsigned]) {
      expect(await h.context.biometric.verify(jws, '4455667788', t)).toBe(false);
    }
  });

  it('refuses a device-signed payload that is not a JSON object (null, array, number) without throwing', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), alg: 'ES256' };
    h = await kycHarness({ biometric: { devices: [{ kid: 'device-1', jwk }] } });
    await createPerson(h);
    const t = tx();
    for (const json of ['null', '[]', '42']) {
      // Padded with JSON whitespace past the minimum capture size.
      const jws = await new CompactSign(new TextEncoder().encode(`${json}${' '.repeat(600)}`))
        .setProtectedHeader({ alg: 'ES256', kid: 'device-1' })
        .sign(privateKey);
      expect(await h.context.biometric.verify(jws, '4455667788', t)).toBe(false);
    }
  });
});

describe('wallet', () => {
  it('accepts a challenge once, also when it comes back spelled another way (ECDSA n - s, unused base64url bits)', async () => {
    h = await kycHarness();
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const { wallets } = h.context;
    const { thumbprint } = await wallets.bind('account-1', await exportJWK(publicKey));
    const challenge = await new SignJWT({ nonce: wallets.nonceFor('tx-1') })
      .setProtectedHeader({ alg: 'ES256', kid: thumbprint })
      .setAudience(h.services.config.resolved.publicUrl)
      .setIssuedAt(Math.floor(h.clock.now() / 1000))
      .sign(privateKey);
    expect(await wallets.verify(challenge, 'account-1', 'tx-1')).toBe(true);
    expect(await wallets.verify(challenge, 'account-1', 'tx-1')).toBe(false);
    for (const again of respellings(challenge)) {
      expect(again).not.toBe(challenge);
      expect(await wallets.verify(again, 'account-1', 'tx-1')).toBe(false);
    }
  });

  it('offers the wallet factor and refuses a challenge from a key that was never bound', async () => {
    h = await kycHarness();
    await createPerson(h);
    expect(h.mock.supportedFactors()).toContain('wallet');
    await expect(
      h.mock.authenticate('4455667788', [{ factor: 'wallet', value: 'not.a.jwt' }], tx()),
    ).rejects.toBeInstanceOf(AuthFailed);
  });
});
