import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { burst, statusCounts } from '../../helpers/burst.ts';
import { ConsoleClient, operatorsOf, PASSWORD } from '../../helpers/console.ts';

/**
 * The issuer console's sign-in and session over real HTTP: session fixation, CSRF, role bypass
 * (console and admin API), brute force (lockout without user enumeration), idle and absolute
 * timeouts, and the audit trail naming the operator. README security table, console rows.
 */
describe('issuer console sessions', () => {
  let app: TestApp;
  let ids: { admin: string; officer: string; auditor: string };

  beforeAll(async () => {
    app = await startTestApp({ overrides: { kyc: { scryptCost: 1024 } } });
    const operators = operatorsOf(app);
    ids = {
      admin: (await operators.add({ username: 'ada', role: 'administrator', password: PASSWORD })).operator
        .id,
      officer: (await operators.add({ username: 'omar', role: 'issuance-officer', password: PASSWORD }))
        .operator.id,
      auditor: (await operators.add({ username: 'aya', role: 'auditor', password: PASSWORD })).operator.id,
    };
  });
  afterAll(() => app?.stop());

  /** A real ledger record with real status entries (as issuance writes it), without a wallet. */
  async function ledgerRecord(): Promise<string> {
    const { ledger } = app.running.parts.vci;
    const { status } = app.running.parts.credentials;
    const id = ledger.newId();
    await ledger.record({
      _id: id,
      configurationId: 'NationalIdCredential_sd_jwt',
      definitionId: 'national-id',
      definitionVersion: 1,
      format: 'dc+sd-jwt',
      statusEntries: await status.allocate('dc+sd-jwt', id),
      grantHash: 'g',
      notificationId: 'n',
      issuedAt: app.clock.now(),
      validFrom: app.clock.now(),
    });
    return id;
  }

  it('signs in with a new HttpOnly SameSite=Strict session cookie and shows the console', async () => {
    const client = new ConsoleClient(app.url);
    expect((await client.send('GET', '/console/offers')).location).toBe('/console/sign-in');
    const signedIn = await client.signIn('omar');
    expect(signedIn.status).toBe(303);
    expect(signedIn.location).toBe('/console/offers');
    const cookie = [signedIn.setCookie].flat().find((c) => c?.startsWith('console_session='))!;
    expect(cookie).toMatch(/; Path=\/; HttpOnly; SameSite=Strict$/);
    const page = await client.send('GET', '/console/offers');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.text).toContain('omar');
  });

  it('session fixation: a token planted before sign-in is never signed in, and sign-in replaces any session', async () => {
    const planted = 'A'.repeat(43);
    const victim = new ConsoleClient(app.url);
    victim.cookies.set('console_session', planted);
    await victim.signIn('omar');
    const issued = victim.cookies.get('console_session');
    expect(issued).toBeDefined();
    expect(issued).not.toBe(planted);
    const attacker = new ConsoleClient(app.url);
    attacker.cookies.set('console_session', planted);
    expect((await attacker.send('GET', '/console/offers')).location).toBe('/console/sign-in');

    // An attacker's own valid session, planted in a browser, ends when that browser signs in.
    const mallory = new ConsoleClient(app.url);
    await mallory.signIn('aya');
    const malloryToken = mallory.cookies.get('console_session')!;
    const browser = new ConsoleClient(app.url);
    browser.cookies.set('console_session', malloryToken);
    await browser.signIn('omar');
    expect(browser.cookies.get('console_session')).not.toBe(malloryToken);
    expect((await mallory.send('GET', '/console/offers')).location).toBe('/console/sign-in');
  });

  it('CSRF: a POST without the session token, with another token or from another origin changes nothing', async () => {
    const client = new ConsoleClient(app.url);
    await client.signIn('omar');
    const csrf = await client.sessionCsrf();
    const id = await ledgerRecord();
    const revoke = (form: Record<string, string>, headers: Record<string, string> = {}) =>
      client.send('POST', `/console/ledger/${id}/revoke`, form, headers);
    expect((await revoke({ reason: 'superseded' })).status).toBe(403);
    expect((await revoke({ reason: 'superseded', csrf: `${csrf.slice(0, -2)}xx` })).status).toBe(403);
    expect((await revoke({ reason: 'superseded', csrf }, { origin: 'https://evil.example' })).status).toBe(
      403,
    );
    expect((await app.running.parts.vci.ledger.get(id))!.status).toBe('issued');
    const other = new ConsoleClient(app.url);
    await other.signIn('ada');
    expect((await revoke({ reason: 'superseded', csrf: await other.sessionCsrf() })).status).toBe(403);
    expect((await app.running.parts.vci.ledger.get(id))!.status).toBe('issued');
    // The same form with the session's own token goes through.
    const done = await revoke({ reason: 'superseded', csrf });
    expect(done.status).toBe(200);
    expect(done.text).toContain('id="current-status" class="status-revoked"');
    expect((await app.running.parts.vci.ledger.get(id))!.status).toBe('revoked');

    // Login CSRF: a sign-in form posted without the sign-in page's cookie is refused.
    const stranger = new ConsoleClient(app.url);
    const forged = await stranger.send('POST', '/console/sign-in', {
      csrf: 'x'.repeat(32),
      username: 'omar',
      password: PASSWORD,
    });
    expect(forged.status).toBe(403);
    expect(stranger.cookies.has('console_session')).toBe(false);
  });

  it('role bypass: an auditor reads but every change is refused by the console and by the admin API', async () => {
    const auditor = new ConsoleClient(app.url);
    await auditor.signIn('aya');
    const csrf = await auditor.sessionCsrf();
    const id = await ledgerRecord();
    expect((await auditor.send('GET', `/console/ledger/${id}`)).status).toBe(200);
    expect((await auditor.send('GET', `/console/ledger/${id}`)).text).not.toContain('/revoke"');
    for (const action of ['revoke', 'suspend', 'reinstate']) {
      expect(
        (await auditor.send('POST', `/console/ledger/${id}/${action}`, { csrf, reason: 'superseded' }))
          .status,
      ).toBe(403);
    }
    expect(
      (
        await auditor.send('POST', '/console/offers', {
          csrf,
          individual_id: 'x',
          configuration_id: 'NationalIdCredential_sd_jwt',
        })
      ).status,
    ).toBe(403);
    expect((await auditor.send('GET', '/console/credential-types/new')).status).toBe(403);
    expect((await auditor.send('POST', '/console/credential-types', { csrf, definition: '{}' })).status).toBe(
      403,
    );
    expect(
      (await auditor.send('POST', '/console/credential-types/national-id/retire', { csrf })).status,
    ).toBe(403);
    expect((await auditor.send('POST', '/console/keys/rotate', { csrf, purpose: 'credential' })).status).toBe(
      403,
    );
    // The officer may revoke but not manage types or keys.
    const officer = new ConsoleClient(app.url);
    await officer.signIn('omar');
    const officerCsrf = await officer.sessionCsrf();
    expect(
      (await officer.send('POST', '/console/keys/rotate', { csrf: officerCsrf, purpose: 'credential' }))
        .status,
    ).toBe(403);
    expect(
      (await officer.send('POST', '/console/credential-types/national-id/retire', { csrf: officerCsrf }))
        .status,
    ).toBe(403);
    // The console cookie opens nothing in the admin API.
    const api = await auditor.send('POST', `/admin/ledger/${id}/revoke`, {});
    expect(api.status).toBe(401);
    expect((await auditor.send('GET', '/admin/ledger')).status).toBe(401);
    expect((await app.running.parts.vci.ledger.get(id))!.status).toBe('issued');
    expect(app.running.parts.credentials.configurations.definition('national-id')?.retired ?? false).toBe(
      false,
    );
  });

  it('brute force: the sixth try is refused even with the right password, unknown names answer the same, the lock lifts', async () => {
    const client = new ConsoleClient(app.url);
    const wrong = await client.signIn('ada', 'not the password at all');
    const unknown = await client.signIn('nobody-here', 'not the password at all');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const message = (html: string) => html.match(/role="alert" id="error">([^<]*)</)?.[1];
    expect(message(unknown.text)).toBe(message(wrong.text));
    for (let i = 0; i < 4; i++) expect((await client.signIn('ada', `wrong ${i}`)).status).toBe(401);
    const locked = await client.signIn('ada');
    expect(locked.status).toBe(429);
    expect(client.cookies.has('console_session')).toBe(false);
    // An unknown name is locked the same way (no enumeration through the lock either).
    for (let i = 0; i < 4; i++) await client.signIn('nobody-here', `wrong ${i}`);
    expect((await client.signIn('nobody-here')).status).toBe(429);
    const trail = await app.services.audit.list({ type: 'operator_locked', limit: 10, days: 1 });
    expect(trail.some((r) => r.operatorId === ids.admin)).toBe(true);
    app.clock.advanceSeconds(app.services.config.console.lockoutSeconds + 1);
    expect((await client.signIn('ada')).status).toBe(303);
  });

  it('a session ends after the idle timeout, and after the absolute timeout however active', async () => {
    const { sessionIdleSeconds, sessionAbsoluteSeconds } = app.services.config.console;
    const idle = new ConsoleClient(app.url);
    await idle.signIn('aya');
    app.clock.advanceSeconds(sessionIdleSeconds - 5);
    expect((await idle.send('GET', '/console/ledger')).status).toBe(200);
    app.clock.advanceSeconds(sessionIdleSeconds + 1);
    expect((await idle.send('GET', '/console/ledger')).location).toBe('/console/sign-in');

    const busy = new ConsoleClient(app.url);
    await busy.signIn('aya');
    for (
      let elapsed = 0;
      elapsed + sessionIdleSeconds / 2 < sessionAbsoluteSeconds;
      elapsed += sessionIdleSeconds / 2
    ) {
      app.clock.advanceSeconds(sessionIdleSeconds / 2);
      expect((await busy.send('GET', '/console/ledger')).status).toBe(200);
    }
    app.clock.advanceSeconds(sessionIdleSeconds / 2);
    expect((await busy.send('GET', '/console/ledger')).location).toBe('/console/sign-in');
  });

  it('sign-out ends the session; every console action is in the audit trail with the operator', async () => {
    const client = new ConsoleClient(app.url);
    await client.signIn('omar');
    const id = await ledgerRecord();
    await client.send('POST', `/console/ledger/${id}/suspend`, {
      csrf: await client.sessionCsrf(),
      reason: 'investigation',
    });
    const token = client.cookies.get('console_session')!;
    // A sign-out without the session's CSRF token (another site's form) neither ends the session
    // nor clears the browser's cookie.
    const forged = await client.send('POST', '/console/sign-out', { csrf: 'not-the-token' });
    expect(forged.location).toBe('/console/offers');
    expect(client.cookies.get('console_session')).toBe(token);
    expect((await client.send('GET', '/console/offers')).status).toBe(200);
    await client.send('POST', '/console/sign-out', { csrf: await client.sessionCsrf() });
    const replay = new ConsoleClient(app.url);
    replay.cookies.set('console_session', token);
    expect((await replay.send('GET', '/console/offers')).location).toBe('/console/sign-in');
    const trail = await app.services.audit.list({ limit: 50, days: 1 });
    const suspended = trail.find((r) => r.type === 'credential_suspended' && r.ledgerIds?.includes(id));
    expect(suspended).toMatchObject({ operatorId: ids.officer, reason: 'investigation' });
    expect(trail.find((r) => r.type === 'operator_signed_out')).toMatchObject({ operatorId: ids.officer });
    expect(trail.some((r) => r.type === 'operator_signed_in' && r.operatorId === ids.officer)).toBe(true);
    // Nothing secret in the trail or the logs: no password, no session token.
    const everything = JSON.stringify(trail) + JSON.stringify(app.logs);
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toContain(token);
  });
});

/**
 * Row 14/47's burst rule for the console lockout: guesses sent at once cannot pass the limit by a
 * race. The service's own scrypt cost (not the tests' cheap one), so each check takes long enough
 * for the requests to overlap as they would against a real deployment.
 */
describe('issuer console sign-in lockout under a burst', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
    await operatorsOf(app).add({ username: 'ada', role: 'administrator', password: PASSWORD });
  });
  afterAll(() => app?.stop());

  it('30 parallel wrong passwords: at most maxFailedSignIns are checked, the rest are locked, then the right one too', async () => {
    const { maxFailedSignIns } = app.services.config.console;
    const client = new ConsoleClient(app.url);
    const csrf = ConsoleClient.csrf((await client.send('GET', '/console/sign-in')).text);
    const results = await burst(30, `${app.url}/console/sign-in`, {
      headers: { cookie: client.cookieHeader, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        csrf,
        username: 'ada',
        password: 'a wrong guess, sent at once',
      }).toString(),
    });
    const counts = statusCounts(results);
    expect(counts[401] ?? 0).toBeLessThanOrEqual(maxFailedSignIns);
    expect((counts[401] ?? 0) + (counts[429] ?? 0)).toBe(30);
    const checked = await app.services.audit.list({ type: 'operator_sign_in_failed', limit: 100, days: 1 });
    const locked = await app.services.audit.list({ type: 'operator_locked', limit: 100, days: 1 });
    expect([...checked, ...locked].filter((r) => r.reason === 'access_denied').length).toBeLessThanOrEqual(
      maxFailedSignIns,
    );
    expect((await client.signIn('ada')).status).toBe(429);
  }, 60_000);
});
