import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base32Encode, hotp, matchTotp, type TotpHash, totpAt, totpStep } from '../../../src/console/totp.ts';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { ConsoleClient, operatorsOf, PASSWORD } from '../../helpers/console.ts';

/**
 * Operators of the issuer console: TOTP (RFC 6238) against the RFC's own test vectors, sign-in with
 * a second factor over HTTP where a code opens one session only, `npm run cli -- operators add` as
 * an operator runs it, and key rotation refused to auditors and officers by the console and the
 * admin API alike.
 */

describe('TOTP (RFC 6238)', () => {
  // RFC 6238 Appendix B: the seeds are the ASCII strings, 20, 32 and 64 bytes for SHA-1, -256, -512.
  const seeds: Record<TotpHash, Buffer> = {
    sha1: Buffer.from('12345678901234567890'),
    sha256: Buffer.from('12345678901234567890123456789012'),
    sha512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234'),
  };
  // Appendix B's table: time (s), T (hex) and the 8-digit TOTP for each mode.
  const vectors: [number, string, Record<TotpHash, string>][] = [
    [59, '0000000000000001', { sha1: '94287082', sha256: '46119246', sha512: '90693936' }],
    [1111111109, '00000000023523EC', { sha1: '07081804', sha256: '68084774', sha512: '25091201' }],
    [1111111111, '00000000023523ED', { sha1: '14050471', sha256: '67062674', sha512: '99943326' }],
    [1234567890, '000000000273EF07', { sha1: '89005924', sha256: '91819424', sha512: '93441116' }],
    [2000000000, '0000000003F940AA', { sha1: '69279037', sha256: '90698825', sha512: '38618901' }],
    [20000000000, '0000000027BC86AA', { sha1: '65353130', sha256: '77737706', sha512: '47863826' }],
  ];

  it('gives every value of Appendix B (time step, SHA-1, SHA-256 and SHA-512, 8 digits)', () => {
    for (const [seconds, t, codes] of vectors) {
      expect(
        totpStep(seconds * 1000)
          .toString(16)
          .toUpperCase()
          .padStart(16, '0'),
      ).toBe(t);
      for (const hash of ['sha1', 'sha256', 'sha512'] as const) {
        expect(hotp(seeds[hash], totpStep(seconds * 1000), { digits: 8, hash }), `${seconds} ${hash}`).toBe(
          codes[hash],
        );
      }
    }
  });

  it('the console code is the 6-digit SHA-1 value of the base32 secret; one step either side matches, two do not', () => {
    const secret = base32Encode(seeds.sha1);
    for (const [seconds, , codes] of vectors) {
      const at = seconds * 1000;
      expect(totpAt(secret, at)).toBe(codes.sha1.slice(-6));
      expect(matchTotp(secret, codes.sha1.slice(-6), at)).toBe(totpStep(at));
      expect(matchTotp(secret, codes.sha1.slice(-6), at + 30_000)).toBe(totpStep(at));
      expect(matchTotp(secret, codes.sha1.slice(-6), at - 30_000)).toBe(totpStep(at));
      expect(matchTotp(secret, codes.sha1.slice(-6), at + 60_000)).toBeUndefined();
    }
    expect(matchTotp(secret, '94287082', 59_000)).toBeUndefined();
    expect(matchTotp(secret, '', 59_000)).toBeUndefined();
  });
});

describe('console sign-in with TOTP, and key rotation by role', () => {
  let app: TestApp;
  let secret: string;
  let ids: { tara: string };

  beforeAll(async () => {
    app = await startTestApp({ overrides: { kyc: { scryptCost: 1024 } } });
    const operators = operatorsOf(app);
    const tara = await operators.add({
      username: 'tara',
      role: 'administrator',
      password: PASSWORD,
      totp: true,
    });
    secret = tara.totpSecret!;
    ids = { tara: tara.operator.id };
    await operators.add({ username: 'aya', role: 'auditor', password: PASSWORD });
    await operators.add({ username: 'omar', role: 'issuance-officer', password: PASSWORD });
  });
  afterAll(() => app?.stop());

  const signedIn = (res: { status: number; location?: string | undefined }) =>
    res.status === 303 && res.location === '/console/offers';

  it('needs the current code with the password; a code is accepted once, even by two sign-ins at once', async () => {
    const client = () => new ConsoleClient(app.url);
    expect((await client().signIn('tara')).status).toBe(401);
    expect((await client().signIn('tara', PASSWORD, '000000')).status).toBe(401);
    expect((await client().signIn('tara', 'not the password!', totpAt(secret, app.clock.now()))).status).toBe(
      401,
    );
    const code = totpAt(secret, app.clock.now());
    const first = client();
    expect(signedIn(await first.signIn('tara', PASSWORD, code))).toBe(true);
    expect((await first.send('GET', '/console/keys')).status).toBe(200);
    // The same code again, within its window: refused (RFC 6238 §5.2), the same answer as a wrong one.
    const replay = await client().signIn('tara', PASSWORD, code);
    expect(replay.status).toBe(401);
    app.clock.advanceSeconds(30);
    expect((await client().signIn('tara', PASSWORD, code)).status).toBe(401);

    // The next step's code: two browsers send it at once, one conditional write lets one in.
    const next = totpAt(secret, app.clock.now());
    const [a, b] = [client(), client()];
    const both = await Promise.all([a.signIn('tara', PASSWORD, next), b.signIn('tara', PASSWORD, next)]);
    expect(both.filter(signedIn)).toHaveLength(1);
    expect(both.map((r) => r.status).sort()).toEqual([303, 401]);

    // A later step signs in again; the audit trail has the refusals and the sign-ins, never a code.
    app.clock.advanceSeconds(30);
    expect(signedIn(await client().signIn('tara', PASSWORD, totpAt(secret, app.clock.now())))).toBe(true);
    const trail = await app.services.audit.list({ limit: 100, days: 1 });
    const mine = trail.filter((r) => r.operatorId === ids.tara);
    expect(mine.filter((r) => r.type === 'operator_signed_in')).toHaveLength(3);
    expect(mine.filter((r) => r.type === 'operator_sign_in_failed').length).toBeGreaterThanOrEqual(5);
    expect(JSON.stringify(trail) + JSON.stringify(app.logs)).not.toContain(next);
  });

  it('an auditor and an officer cannot rotate keys through the console or the admin API; an administrator can', async () => {
    const { keys, audit } = app.services;
    const active = () =>
      (['credential', 'oidc'] as const).flatMap((p) =>
        keys
          .published(p)
          .filter((k) => k.status === 'active')
          .map((k) => k.kid),
      );
    const before = active().sort();
    const rotations = async () => audit.list({ type: 'key_rotated', limit: 100, days: 1 });
    await audit.settled();
    const rotatedBefore = (await rotations()).length;
    for (const name of ['aya', 'omar']) {
      const client = new ConsoleClient(app.url);
      expect(signedIn(await client.signIn(name))).toBe(true);
      const csrf = await client.sessionCsrf();
      const keysPage = await client.send('GET', '/console/keys');
      expect(keysPage.status).toBe(200);
      expect(keysPage.text).not.toContain('/console/keys/rotate');
      for (const purpose of ['credential', 'oidc']) {
        const refused = await client.send('POST', '/console/keys/rotate', { csrf, purpose });
        expect(refused.status).toBe(403);
      }
      // The admin API takes the bearer token only: the console cookie (and its CSRF token) open nothing.
      const api = await client.send(
        'POST',
        '/admin/keys/rotate?purpose=credential',
        {},
        { 'x-csrf-token': csrf },
      );
      expect(api.status).toBe(401);
      expect((await client.send('GET', '/admin/keys')).status).toBe(401);
    }
    await keys.reload();
    expect(active().sort()).toEqual(before);
    await audit.settled();
    expect((await rotations()).length).toBe(rotatedBefore);

    // The control: the administrator's same form rotates, and the trail names the administrator.
    // (The clock went back after the previous test: a later step, past the codes used there.)
    app.clock.advanceSeconds(300);
    const admin = new ConsoleClient(app.url);
    expect(signedIn(await admin.signIn('tara', PASSWORD, totpAt(secret, app.clock.now())))).toBe(true);
    const rotated = await admin.send('POST', '/console/keys/rotate', {
      csrf: await admin.sessionCsrf(),
      purpose: 'credential',
    });
    expect(rotated.status).toBe(303);
    expect(active().sort()).not.toEqual(before);
    await audit.settled();
    const events = (await rotations()).filter((r) => r.operatorId !== undefined);
    expect(events.length).toBeGreaterThan(0);
    expect((await rotations()).length).toBe(rotatedBefore + events.length);
    expect(events.every((r) => r.operatorId === ids.tara)).toBe(true);
  });
});

describe('npm run cli -- operators add', () => {
  const ROOT = join(import.meta.dirname, '../../..');
  const dataDir = mkdtempSync(join(tmpdir(), 'issuer-operators-'));
  const env = {
    PATH: process.env.PATH ?? '',
    LOG_LEVEL: 'silent',
    DEMO: 'off',
    DATA_DIR: dataDir,
    KEY_ENCRYPTION_SECRET: randomBytes(32).toString('base64url'),
    ADMIN_TOKEN: randomBytes(24).toString('base64url'),
  };
  const cli = (args: string[], extra: { env?: Record<string, string>; input?: string } = {}) => {
    const result = spawnSync(process.execPath, [join(ROOT, 'src/cli.ts'), 'operators', 'add', ...args], {
      cwd: ROOT,
      env: { ...env, ...extra.env },
      input: extra.input ?? '',
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const envPassword = 'correct horse battery staple';
  const stdinPassword = 'a password typed on standard input';
  let made: ReturnType<typeof cli>;
  let app: TestApp | undefined;

  beforeAll(() => {
    made = cli(['ada', '--role', 'administrator', '--totp'], { env: { OPERATOR_PASSWORD: envPassword } });
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates an administrator with --totp and prints the enrolment URI once, never the password', () => {
    expect(made.status, made.stderr).toBe(0);
    expect(made.stdout).toMatch(/^operator ada created \(role administrator, id [A-Za-z0-9_-]+\)\n/);
    expect(made.stdout).toMatch(
      /otpauth:\/\/totp\/Issuer%20console%3Aada\?secret=[A-Z2-7]{32}&issuer=Issuer%20console&algorithm=SHA1&digits=6&period=30/,
    );
    expect(made.stdout + made.stderr).not.toContain(envPassword);
  });

  it('reads the password from standard input; refuses a duplicate, a short password and a password argument', () => {
    const fromStdin = cli(['sam', '--role', 'auditor'], { input: `${stdinPassword}\n` });
    expect(fromStdin.status, fromStdin.stderr).toBe(0);
    expect(fromStdin.stdout).toContain('operator sam created (role auditor');
    expect(fromStdin.stdout).not.toContain('otpauth:');

    const duplicate = cli(['ada', '--role', 'auditor'], {
      env: { OPERATOR_PASSWORD: 'another long password' },
    });
    expect(duplicate.status).toBe(1);
    expect(duplicate.stderr).toBe('issuer cli: an operator with this user name exists\n');

    const short = cli(['bob', '--role', 'auditor'], { input: 'short\n' });
    expect(short.status).toBe(1);
    expect(short.stderr).toBe('issuer cli: the password must be 12 to 1024 characters\n');

    const argument = 'a password in the process list';
    const inArgv = cli(['eve', '--role', 'auditor', '--password', argument], {
      env: { OPERATOR_PASSWORD: 'a long enough password' },
    });
    expect(inArgv.status).toBe(1);
    expect(inArgv.stderr).toContain('the password is never an argument');
    expect(inArgv.stdout + inArgv.stderr).not.toContain(argument);
    const inArgvEquals = cli(['eve', '--role', 'auditor', `--password=${argument}`]);
    expect(inArgvEquals.status).toBe(1);
    expect(inArgvEquals.stdout + inArgvEquals.stderr).not.toContain(argument);
  }, 120_000); // four CLI processes: slow on a loaded machine

  it('the operators it made sign in to the service on the same store: ada with the enrolled TOTP, sam read-only', async () => {
    const secret = made.stdout.match(/secret=([A-Z2-7]+)/)![1]!;
    app = await startTestApp({
      env: { DATA_DIR: dataDir, KEY_ENCRYPTION_SECRET: env.KEY_ENCRYPTION_SECRET },
      overrides: { store: { embeddedFile: 'issuer.db' } },
    });
    const ada = new ConsoleClient(app.url);
    expect((await ada.signIn('ada', envPassword)).status).toBe(401);
    const adaIn = await ada.signIn('ada', envPassword, totpAt(secret, app.clock.now()));
    expect(adaIn.location).toBe('/console/offers');
    expect((await ada.send('GET', '/console/offers')).text).toContain('ada');
    const sam = new ConsoleClient(app.url);
    expect((await sam.signIn('sam', stdinPassword)).location).toBe('/console/offers');
    expect((await sam.send('GET', '/console/credential-types/new')).status).toBe(403);
    // Neither eve nor bob exists; the stored records hold scrypt hashes, not the passwords.
    expect((await new ConsoleClient(app.url).signIn('bob', 'short')).status).toBe(401);
    const stored = await app.services.store.collection({ name: 'console_operators' }).find({}, { limit: 10 });
    expect(stored.map((d) => d.username).sort()).toEqual(['ada', 'sam']);
    expect(JSON.stringify(stored)).not.toContain(envPassword);
    expect(JSON.stringify(stored)).not.toContain(stdinPassword);
    // The TOTP secret is sealed: the record alone yields no codes (yet ada signed in with it above).
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(stored.find((d) => d.username === 'ada')!.totpSecret).toMatchObject({ ct: expect.any(String) });
    // Audited as made (the CLI's records carry the machine's clock, so read them by type, not by day).
    const created = await app.services.store
      .collection({ name: 'audit' })
      .find({ type: 'operator_created' }, { limit: 10 });
    expect(created.map((r) => r.reason).sort()).toEqual(['administrator', 'auditor']);
  });
});
