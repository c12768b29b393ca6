import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  admin,
  Browser,
  latestOtp,
  loginWithApi,
  redeem,
  registerClient,
  startAuthorization,
} from '../protocol/oidc/helpers.ts';
import { holderKey, proofJwt, startVci, type VciHarness } from '../protocol/vci/harness.ts';
import { PRE_AUTH, raw } from './support.ts';

/**
 * SECURITY.md row 26 (pii-and-secret-sentinel-scan) and the "secrets in logs, audit, errors: never"
 * policy. An identity is created with a marker string in every PII field and every secret; the whole
 * login (OTP, PIN, password; consent; token; userinfo) and issuance (pre-authorized offer with a
 * tx_code; credential; notification) run end to end over HTTP against an app whose embedded store is a
 * file. Then every log line the app wrote and every raw row of the database (documents, counters,
 * allocations) is scanned for the markers, and for the secrets the flows produced (OTP, tx_code,
 * codes, tokens), in their plain, URL-encoded and JSON-escaped forms.
 *
 * Expected: zero hits. PII at rest is AES-GCM ciphertext and secrets are stored as hashes, so a
 * marker can only show up where something was written in clear.
 */

const MARK = {
  individualId: 'SNTL-IID-4Q7Z9K',
  name: 'Zqxsentinel Wyvname',
  givenName: 'Zqxsentinel',
  familyName: 'Wyvname',
  nameAr: 'زقسنتينل',
  email: 'zqx.sentinel.mail@example.org',
  phone: '+99977788866',
  birthdate: '1911-11-11',
  street: 'Zqxstreet 4242',
  pin: '86420975',
  password: 'Zqx-Sentinel-Passw0rd',
};

const NATIONAL = 'NationalIdCredential_ldp_vc';

let h: VciHarness;
let dir: string;
let dbFile: string;
/** Secret values produced by the flows, by name. */
const secrets: Record<string, string> = {};
let logs: Record<string, unknown>[] = [];
let rows: { table: string; coll: string; id: string; text: string }[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sentinel-'));
  dbFile = join(dir, 'db.sqlite');
  h = await startVci({ overrides: { store: { embeddedFile: dbFile } } });
  const app = h.app;
  const created = await admin(app, 'POST', '/identities', {
    individual_id: MARK.individualId,
    pin: MARK.pin,
    password: MARK.password,
    claims: {
      name: MARK.name,
      'name#ar': MARK.nameAr,
      given_name: MARK.givenName,
      family_name: MARK.familyName,
      birthdate: MARK.birthdate,
      gender: 'female',
      email: MARK.email,
      email_verified: true,
      phone_number: MARK.phone,
      phone_number_verified: true,
      address: { street_address: MARK.street, locality: 'Rabat', country: 'MA' },
    },
  });
  expect(created.individual_id ?? MARK.individualId).toBe(MARK.individualId);

  // OIDC: three logins (OTP with consent, then PIN and password with the remembered consent).
  const client = await registerClient(app);
  const scope = 'openid profile email phone address';
  for (const factor of ['otp', 'pin', 'password'] as const) {
    const browser = new Browser(new URL(app.url).origin);
    const started = await startAuthorization(app, browser, client, { scope });
    let callback: URL;
    if (factor === 'otp') {
      callback = new URL(
        await loginWithApi(app, browser, started.interaction, 'otp', { individualId: MARK.individualId }),
      );
      secrets.otp = await latestOtp(app);
    } else {
      // loginWithApi answers PIN and password with the shared test identity's; ours carry markers.
      const details = (await browser.fetch(`${started.interaction}/api`)).json();
      const auth = await browser.fetch(`${started.interaction}/api/authenticate`, {
        json: { individual_id: MARK.individualId, factor, challenge: MARK[factor] },
        headers: { 'x-csrf-token': details.csrf_token, origin: new URL(app.url).origin },
      });
      expect(auth.status, auth.text).toBe(200);
      expect(auth.json().consent_required).toBe(false);
      callback = new URL((await browser.follow(auth.json().redirect_to)).url);
    }
    const code = callback.searchParams.get('code');
    expect(code, callback.href).toBeTruthy();
    secrets[`authorization code (${factor})`] = code!;
    const token = await redeem(app, client, code!, started.verifier);
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    secrets[`access token (${factor})`] = token.body.access_token;
    const userinfo = await raw(`${app.url}/userinfo`, {
      headers: { authorization: `Bearer ${token.body.access_token}` },
    });
    expect(userinfo.status, userinfo.text).toBe(200);
  }
  // A wrong PIN too: failures are where identifiers tend to end up in logs.
  {
    const browser = new Browser(new URL(app.url).origin);
    const started = await startAuthorization(app, browser, client, { scope });
    const details = (await browser.fetch(`${started.interaction}/api`)).json();
    const wrong = await browser.fetch(`${started.interaction}/api/authenticate`, {
      json: { individual_id: MARK.individualId, factor: 'pin', challenge: '11223344' },
      headers: { 'x-csrf-token': details.csrf_token, origin: new URL(app.url).origin },
    });
    expect(wrong.status).toBeGreaterThanOrEqual(400);
  }

  // OpenID4VCI: pre-authorized offer with a tx_code (one wrong entry first), credential, notification.
  const offer = await h.offer([NATIONAL], MARK.individualId, true);
  const preAuthorized: string = offer.credential_offer.grants[PRE_AUTH]['pre-authorized_code'];
  const txCode = await h.txCode(MARK.email);
  secrets['pre-authorized code'] = preAuthorized;
  secrets.tx_code = txCode;
  const wrongTx = txCode === '000000' ? '111111' : '000000';
  expect((await h.token(preAuthorized, wrongTx)).status).toBe(400);
  const token = await h.token(preAuthorized, txCode);
  expect(token.status, JSON.stringify(token.body)).toBe(200);
  secrets['access token (pre-authorized)'] = token.body.access_token;
  const issued = await h.post(
    '/credential',
    {
      credential_configuration_id: NATIONAL,
      proofs: { jwt: [await proofJwt(await holderKey(), h.url, await h.nonce())] },
    },
    { authorization: `Bearer ${token.body.access_token}` },
  );
  expect(issued.status, issued.text).toBe(200);
  // The credential must really carry the markers, or the scan below proves nothing.
  expect(JSON.stringify(issued.body)).toContain(MARK.givenName);
  const notified = await h.post(
    '/notification',
    { notification_id: issued.body.notification_id, event: 'credential_accepted' },
    { authorization: `Bearer ${token.body.access_token}` },
  );
  expect(notified.status).toBe(204);

  logs = [...app.logs];
  await h.stop();
  const db = new DatabaseSync(dbFile, { readOnly: true });
  try {
    rows = [
      ...(
        db.prepare('SELECT coll, id, body FROM docs').all() as { coll: string; id: string; body: string }[]
      ).map((r) => ({ table: 'docs', coll: r.coll, id: r.id, text: `${r.id}\n${r.body}` })),
      ...(db.prepare('SELECT key, value FROM counters').all() as { key: string }[]).map((r) => ({
        table: 'counters',
        coll: '',
        id: r.key,
        text: r.key,
      })),
      ...(
        db.prepare('SELECT space, value, owner FROM allocations').all() as { space: string; owner: string }[]
      ).map((r) => ({ table: 'allocations', coll: r.space, id: r.owner, text: `${r.space}\n${r.owner}` })),
    ];
  } finally {
    db.close();
  }
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The forms a value may take when written: as is, URL-encoded (query strings, forms), JSON-escaped. */
function forms(value: string): string[] {
  return [
    ...new Set([value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1), value.toLowerCase()]),
  ];
}

const piiMarkers = (): [string, string][] => [
  ['individual ID', MARK.individualId],
  ['name', MARK.name],
  ['given name', MARK.givenName],
  ['family name', MARK.familyName],
  ['Arabic name', MARK.nameAr],
  ['email', MARK.email],
  ['phone number', MARK.phone],
  ['phone number digits', MARK.phone.slice(1)],
  ['birthdate', MARK.birthdate],
  ['street address', MARK.street],
  ['PIN', MARK.pin],
  ['password', MARK.password],
];

function hitsIn(haystacks: { where: string; text: string }[], markers: [string, string][]): string[] {
  const hits: string[] = [];
  for (const [what, value] of markers) {
    for (const { where, text } of haystacks) {
      if (forms(value).some((form) => text.includes(form))) hits.push(`${what} in ${where}`);
    }
  }
  return [...new Set(hits)];
}

const logHaystacks = () =>
  logs.map((line, i) => ({ where: `log line ${i} (${String(line.msg)})`, text: JSON.stringify(line) }));

/**
 * The outbox is the development notifier (demo mode or kyc.notify.outboxEnabled): it keeps the text
 * of each OTP / tx_code message, addressed to the person's e-mail or phone, so that people and tests
 * can read codes at GET /admin/outbox. Holding those in clear is its purpose, and it is off in
 * production, so it is excluded here; everything else must be clean.
 */
const dbHaystacks = () =>
  rows
    .filter((r) => r.coll !== 'outbox')
    .map((r) => ({ where: `${r.table}/${r.coll}/${r.id.slice(0, 24)}`, text: r.text }));

describe('pii-and-secret-sentinel-scan (SECURITY.md row 26)', () => {
  it('captured something to scan: logs from every step and rows from every collection in play', () => {
    expect(logs.length).toBeGreaterThan(20);
    const collections = new Set(rows.map((r) => r.coll));
    expect(collections.has('outbox')).toBe(true);
    expect(rows.length).toBeGreaterThan(20);
    expect(Object.keys(secrets)).toEqual(
      expect.arrayContaining(['otp', 'tx_code', 'pre-authorized code', 'access token (pre-authorized)']),
    );
    // The outbox holds the codes in clear (by design), which shows the scan can find them.
    expect(
      hitsIn(
        rows.filter((r) => r.coll === 'outbox').map((r) => ({ where: 'outbox', text: r.text })),
        [['tx_code', secrets.tx_code!]],
      ),
    ).not.toEqual([]);
  });

  it('writes no PII marker, PIN or password to any log line', () => {
    expect(hitsIn(logHaystacks(), piiMarkers())).toEqual([]);
  });

  it('writes no OTP, tx_code, code or token to any log line', () => {
    expect(hitsIn(logHaystacks(), Object.entries(secrets))).toEqual([]);
  });

  it('keeps no PII marker, PIN or password in clear in any database row (outside the outbox)', () => {
    expect(hitsIn(dbHaystacks(), piiMarkers())).toEqual([]);
  });

  it('keeps no OTP, tx_code or pre-authorized code in clear in any database row (outside the outbox)', () => {
    const oneTime = Object.entries(secrets).filter(([k]) =>
      ['otp', 'tx_code', 'pre-authorized code'].includes(k),
    );
    expect(hitsIn(dbHaystacks(), oneTime)).toEqual([]);
  });

  it('keeps no authorization code or access token in clear in any database row', () => {
    const bearer = Object.entries(secrets).filter(
      ([k]) => k.startsWith('access token') || k.startsWith('authorization code'),
    );
    expect(hitsIn(dbHaystacks(), bearer)).toEqual([]);
  });
});
