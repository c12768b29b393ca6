import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_COLLECTION, type AuditEvent, AuditLog, sha256 } from '../../src/audit/audit.ts';
import { createLogger } from '../../src/http/logger.ts';
import type { Store } from '../../src/store/spi.ts';
import type { TestApp } from '../helpers/app.ts';
import { shareAcrossTests, TestClock } from '../helpers/clock.ts';
import { checkAdminFetches } from '../helpers/openapi.ts';
import { beginLogin } from './oidc/factor-helpers.ts';
import {
  admin,
  Browser,
  IDENTITY,
  INVALID_GRANT,
  latestOtp,
  loginWithApi,
  obtainCode,
  redeem,
  registerClient,
  startAuthorization,
  startOidcApp,
  type TestClient,
} from './oidc/helpers.ts';
import { holderKey, proofJwt, startVci, type VciHarness } from './vci/harness.ts';

// Every admin call of this suite is checked against docs/openapi/admin.yaml.
checkAdminFetches();

/**
 * The app clock is shared across the tests of the first suite (`shareAcrossTests`): the first test
 * blocks the demo person and moves time 601 s forward to lift the block for the tests after it.
 *
 * SECURITY.md row 50 (audit-completeness): one insert-only record per security event, with the
 * transaction id, client id and time, and (row 26) nothing but hashes and claim names in it.
 */

type Listed = AuditEvent & { id: string; at: string };

const PRE_AUTH = 'urn:ietf:params:oauth:grant-type:pre-authorized_code';

async function trail(app: TestApp, query = ''): Promise<Listed[]> {
  return (await admin(app, 'GET', `/audit?limit=1000${query}`)).records;
}

/** Every stored audit document, raw, and every `audit:` log line. */
async function everything(app: TestApp): Promise<string> {
  await app.services.audit.settled();
  const rows = await app.services.store.collection(AUDIT_COLLECTION).find({}, { limit: 100_000 });
  const strip = ({ _id, at, ...rest }: Record<string, unknown>) => rest;
  const lines = app.logs.filter((l) => String(l.msg).startsWith('audit: '));
  expect(rows.length).toBeGreaterThan(0);
  expect(lines.length).toBe(rows.length);
  return JSON.stringify([rows.map(strip), lines.map((l) => strip(l.audit as Record<string, unknown>))]);
}

function expectNoneOf(haystack: string, secrets: string[]): void {
  for (const secret of secrets) {
    expect(secret.length).toBeGreaterThan(3);
    expect(haystack, `audit holds ${secret}`).not.toContain(secret);
  }
}

describe('audit trail of the OpenID Provider and the KYC login (SECURITY.md rows 50, 26)', () => {
  let app: TestApp;
  let client: TestClient;
  beforeAll(async () => {
    app = await startOidcApp();
    shareAcrossTests(app.clock);
    client = await registerClient(app);
  });
  afterAll(async () => app.stop());

  it('records the block of an individual once, and login_failed with no_attempts_left while blocked', async () => {
    // 3 wrong PINs end the first transaction; 2 more in a second one reach 5 failures: blocked.
    for (const wrongTries of [3, 2]) {
      const login = await beginLogin(app, client, { acr_values: 'mosip:idp:acr:static-code' });
      for (let i = 0; i < wrongTries; i++) {
        expect((await login.authenticate(IDENTITY.individualId, 'pin', '000000')).status).toBe(401);
      }
    }
    const blocked = await beginLogin(app, client, { acr_values: 'mosip:idp:acr:static-code' });
    expect((await blocked.authenticate(IDENTITY.individualId, 'pin', IDENTITY.pin)).status).toBe(429);
    const records = await trail(app);
    expect(records.filter((r) => r.type === 'individual_blocked')).toHaveLength(1);
    expect(
      records.some(
        (r) => r.type === 'login_failed' && r.reason === 'no_attempts_left' && r.clientId === client.clientId,
      ),
    ).toBe(true);
    app.clock.advanceSeconds(601);
  });

  it('records a failed then successful OTP login, the consent and the tokens under one transaction and client', async () => {
    const browser = new Browser(new URL(app.url).origin);
    const { interaction, verifier } = await startAuthorization(app, browser, client, {
      claims: { userinfo: { name: { essential: true }, birthdate: null } },
    });
    const transactionId = interaction.split('/').pop()!;
    const details = (await browser.fetch(`${interaction}/api`)).json();
    const headers = { 'x-csrf-token': details.csrf_token as string, origin: new URL(app.url).origin };
    const sent = await browser.fetch(`${interaction}/api/send-otp`, {
      json: { individual_id: IDENTITY.individualId },
      headers,
    });
    expect(sent.status).toBe(200);
    const firstOtp = await latestOtp(app);
    const wrong = String((Number(firstOtp) + 1) % 1_000_000).padStart(6, '0');
    const failed = await browser.fetch(`${interaction}/api/authenticate`, {
      json: { individual_id: IDENTITY.individualId, factor: 'otp', challenge: wrong },
      headers,
    });
    expect(failed.status).toBe(401);
    app.clock.advanceSeconds(31); // past the resend cooldown: loginWithApi asks for a new code
    const callback = new URL(await loginWithApi(app, browser, interaction, 'otp'));
    const otp = await latestOtp(app);
    const code = callback.searchParams.get('code')!;
    const tokens = await redeem(app, client, code, verifier);
    expect(tokens.status).toBe(200);

    const records = (await trail(app)).filter((r) => r.transactionId === transactionId);
    const types = records.map((r) => r.type).reverse();
    expect(types).toEqual([
      'otp_sent',
      'otp_failed',
      'login_failed',
      'otp_sent',
      'login_succeeded',
      'consent_given',
      'token_issued',
    ]);
    for (const record of records) {
      expect(record.at).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(record.requestId).toEqual(expect.any(String));
    }
    for (const record of records.filter((r) => r.type !== 'otp_failed'))
      expect(record.clientId).toBe(client.clientId);
    const byType = Object.fromEntries(records.map((r) => [r.type, r]));
    expect(byType.login_failed).toMatchObject({ reason: 'auth_failed', factors: ['otp'] });
    expect(byType.login_succeeded?.individualHash).toBe(byType.login_failed?.individualHash);
    expect(byType.consent_given).toMatchObject({ claims: expect.arrayContaining(['name', 'birthdate']) });
    expect(byType.consent_given?.subjectHash).toBe(byType.login_succeeded?.subjectHash);
    expect(byType.token_issued).toMatchObject({
      grantType: 'authorization_code',
      tokenHash: sha256(tokens.body.access_token),
      grantHash: byType.consent_given?.grantHash,
      subjectHash: byType.login_succeeded?.subjectHash,
    });

    expectNoneOf(await everything(app), [
      IDENTITY.individualId,
      IDENTITY.pin,
      IDENTITY.claims.name,
      IDENTITY.claims.email,
      IDENTITY.claims.birthdate,
      IDENTITY.claims.phone_number,
      firstOtp,
      otp,
      code,
      verifier,
      tokens.body.access_token,
      tokens.body.id_token,
    ]);
  });

  it('records a replayed authorization code once, with the hash of the code and the revoked grant', async () => {
    const { code, verifier } = await obtainCode(app, client);
    expect((await redeem(app, client, code, verifier)).status).toBe(200);
    const replay = await redeem(app, client, code, verifier);
    expect(replay.body).toEqual(INVALID_GRANT);
    await app.services.audit.settled();
    const reuse = (await trail(app, '&type=code_reuse_detected')).filter((r) => r.codeHash === sha256(code));
    expect(reuse).toHaveLength(1);
    expect(reuse[0]).toMatchObject({
      clientId: client.clientId,
      grantType: 'authorization_code',
      reason: 'grant_revoked',
    });
    expectNoneOf(await everything(app), [code, verifier]);
  });

  it('records the losers of a parallel redemption race as code reuse, without revoking', async () => {
    const { code, verifier } = await obtainCode(app, client);
    const replies = await Promise.all(Array.from({ length: 5 }, () => redeem(app, client, code, verifier)));
    const won = replies.filter((r) => r.status === 200).length;
    expect(won).toBe(1);
    await app.services.audit.settled();
    const reuse = (await trail(app, '&type=code_reuse_detected')).filter((r) => r.codeHash === sha256(code));
    expect(reuse.length).toBeGreaterThanOrEqual(1);
    expect(reuse.length).toBeLessThanOrEqual(replies.length - won);
  });

  it('records each key rotation with the new and the retired kid', async () => {
    const before = (await admin(app, 'GET', '/keys')).keys.filter(
      (k: { purpose: string; status: string }) => k.purpose === 'oidc' && k.status === 'active',
    );
    const { rotated } = await admin(app, 'POST', '/keys/rotate?purpose=oidc');
    const records = await trail(app, '&type=key_rotated');
    for (const key of rotated as { kid: string; alg: string }[]) {
      const record = records.find((r) => r.kid === key.kid);
      expect(record).toMatchObject({
        purpose: 'oidc',
        alg: key.alg,
        retiredKid: before.find((k: { alg: string }) => k.alg === key.alg).kid,
      });
    }
  });

  it('records client and identity administration and consent revocation by identifiers only', async () => {
    const other = await registerClient(app);
    await admin(app, 'DELETE', `/clients/${other.clientId}`);
    const person = await admin(app, 'POST', '/identities', {
      individual_id: '7770001111',
      pin: '135791',
      claims: { name: 'Omar Haddad', birthdate: '1970-01-02', email: 'omar.haddad@example.org' },
    });
    const accountId = person.account_id ?? person.accountId;
    await admin(app, 'PATCH', `/identities/${accountId}`, { claims: { name: 'Omar B. Haddad' } });
    await admin(app, 'DELETE', `/identities/${accountId}`);
    const { consents } = await admin(
      app,
      'GET',
      `/consents?account_id=${encodeURIComponent(await anyAccount(app))}`,
    );
    await admin(app, 'DELETE', `/consents/${consents[0].id}`);

    const types = (await trail(app)).map((r) => r.type);
    for (const type of [
      'client_created',
      'client_deleted',
      'identity_created',
      'identity_updated',
      'identity_deleted',
      'consent_revoked',
    ]) {
      expect(types).toContain(type);
    }
    const clientEvents = (await trail(app)).filter((r) => r.clientId === other.clientId).map((r) => r.type);
    expect(clientEvents).toEqual(['client_deleted', 'client_created']);
    const updated = (await trail(app, '&type=identity_updated'))[0];
    expect(updated?.claims).toEqual(['name']);
    expectNoneOf(await everything(app), [
      '7770001111',
      '135791',
      'Omar Haddad',
      'Omar B. Haddad',
      '1970-01-02',
    ]);
  });

  it('lists newest first, filters by type, and refuses unknown types', async () => {
    const all = await trail(app);
    const times = all.map((r) => Date.parse(r.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect((await admin(app, 'GET', '/audit?limit=2')).records).toHaveLength(2);
    const logins = await trail(app, '&type=login_succeeded');
    expect(logins.length).toBeGreaterThan(0);
    expect(logins.every((r) => r.type === 'login_succeeded')).toBe(true);
    await expect(admin(app, 'GET', '/audit?type=nope')).rejects.toThrow(/400/);
    await expect(admin(app, 'GET', '/audit?limit=0')).rejects.toThrow(/400/);
  });
});

/** The account id of the test identity (consents are listed by it). */
async function anyAccount(app: TestApp): Promise<string> {
  const found = await admin(app, 'POST', '/identities/lookup', { individual_id: IDENTITY.individualId });
  return found.account_id ?? found.accountId;
}

describe('audit trail of credential issuance (SECURITY.md row 50)', () => {
  let h: VciHarness;
  beforeAll(async () => {
    h = await startVci();
  });
  afterAll(() => h.stop());

  it('records the offer, the token and the credential of a pre-authorized issuance, then its revocation', async () => {
    const who = await h.person();
    const offer = await h.offer(['NationalIdCredential_ldp_vc'], who.individualId, true);
    const code = offer.credential_offer.grants[PRE_AUTH]['pre-authorized_code'];
    const txCode = await h.txCode(who.email);
    const token = await h.token(code, txCode);
    expect(token.status).toBe(200);
    const res = await h.post(
      '/credential',
      {
        credential_configuration_id: 'NationalIdCredential_ldp_vc',
        proofs: {
          jwt: [await proofJwt(await holderKey('EdDSA'), h.url, await h.nonce(), { binding: 'did:key' })],
        },
      },
      { authorization: `Bearer ${token.body.access_token}` },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const ledger = await h.admin('GET', `/ledger?notification_id=${res.body.notification_id}`);
    const ledgerId = ledger.body.records[0]._id as string;
    expect((await h.admin('POST', `/ledger/${ledgerId}/revoke`)).body.status).toBe('revoked');

    await h.app.services.audit.settled();
    const records = (await admin(h.app, 'GET', '/audit?limit=100')).records as Listed[];
    const offerCreated = records.find((r) => r.type === 'offer_created' && r.codeHash === sha256(code));
    expect(offerCreated).toMatchObject({
      configurationIds: ['NationalIdCredential_ldp_vc'],
      grantType: 'pre-authorized_code',
    });
    const issuedToken = records.find(
      (r) => r.type === 'token_issued' && r.tokenHash === sha256(token.body.access_token),
    );
    expect(issuedToken).toMatchObject({ grantType: 'pre-authorized_code' });
    const credential = records.find((r) => r.type === 'credential_issued' && r.ledgerIds?.includes(ledgerId));
    expect(credential).toMatchObject({
      configurationIds: ['NationalIdCredential_ldp_vc'],
      grantHash: issuedToken?.grantHash,
    });
    expect(records.find((r) => r.type === 'credential_revoked')).toMatchObject({
      ledgerIds: [ledgerId],
      count: 1,
    });
    const order = ['credential_revoked', 'credential_issued', 'token_issued', 'offer_created'];
    expect(records.map((r) => r.type).filter((t) => order.includes(t))).toEqual(order);

    expectNoneOf(await everything(h.app), [
      who.individualId,
      who.email,
      'Layla Mansour',
      '1994-07-21',
      code,
      txCode.length > 3 ? txCode : 'tx-code-too-short',
      token.body.access_token,
    ]);
  });
});

describe('the audit collection is insert-only (SECURITY.md row 50)', () => {
  const SRC = join(import.meta.dirname, '../../src');
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
    });

  it('has no code path in src/ that updates, replaces, consumes or deletes audit documents', () => {
    const sources = files(SRC).map((path) => ({ path, text: readFileSync(path, 'utf8') }));
    // Only the audit log opens the collection (by its spec or by its name).
    const openers = sources.filter(
      ({ text }) => /AUDIT_COLLECTION/.test(text) || /name:\s*['"]audit['"]/.test(text),
    );
    expect(openers.map((s) => s.path.slice(SRC.length))).toEqual(['/audit/audit.ts']);
    const own = openers[0]!.text;
    // The handle on the collection is used for insert and find, and nothing else.
    const used = new Set([...own.matchAll(/#records\.(\w+)/g)].map((m) => m[1]));
    expect([...used].sort()).toEqual(['find', 'insert']);
    // ...and never escapes under another name: declared, assigned once, then only insert/find.
    const mentions = [...own.matchAll(/#records\b(?!\.(insert|find)\()/g)].length;
    expect(mentions).toBe(2);
    // No other file reaches the collection another way (a raw name in a driver call, SQL).
    for (const { path, text } of sources) {
      if (path.endsWith('/audit/audit.ts')) continue;
      expect(text, path).not.toMatch(/collection\(\s*['"`]audit['"`]/);
      expect(text, path).not.toMatch(/\b(put|update|delete|deleteMany|consume)\w*\([^)]*['"`]audit['"`]/);
    }
    // And the AuditLog itself offers no way to change a record.
    const methods = Object.getOwnPropertyNames(AuditLog.prototype).filter((m) => m !== 'constructor');
    expect(methods.sort()).toEqual(['actingAs', 'list', 'record', 'settled', 'subjectHash']);
  });

  it('never expires records and never fails the caller when the store refuses the write', async () => {
    const lines: Record<string, unknown>[] = [];
    const { Writable } = await import('node:stream');
    const stream = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
        done();
      },
    });
    const inserted: Record<string, unknown>[] = [];
    let fail = false;
    const store = {
      collection: () => ({
        async insert(doc: Record<string, unknown>) {
          if (fail) throw new Error('database unavailable');
          inserted.push(doc);
        },
      }),
    } as unknown as Store;
    const audit = new AuditLog({
      store,
      clock: new TestClock(Date.UTC(2026, 0, 2)),
      logger: createLogger('info', stream),
      encryptionSecret: 'x'.repeat(32),
    });
    await audit.record({ type: 'otp_sent', transactionId: 't1', clientId: undefined });
    expect(inserted[0]).toMatchObject({ type: 'otp_sent', transactionId: 't1', at: Date.UTC(2026, 0, 2) });
    expect(inserted[0]).not.toHaveProperty('expiresAt');
    expect(inserted[0]).not.toHaveProperty('clientId');
    fail = true;
    await expect(audit.record({ type: 'login_failed', transactionId: 't2' })).resolves.toBeUndefined();
    expect(lines.map((l) => l.msg)).toEqual([
      'audit: otp_sent',
      'audit: login_failed',
      'audit record could not be stored',
    ]);
  });
});
