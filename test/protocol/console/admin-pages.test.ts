import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboxNotifier } from '../../../src/kyc/notifiers/outbox.ts';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { ConsoleClient, libraryCard, operatorsOf, PASSWORD } from '../../helpers/console.ts';

/**
 * The console's administration pages over real HTTP, each as every role: clients (registered and
 * edited through the admin API's checks), consents (found by account id or subject, revoked),
 * operators (administrators only; a removed operator's session ends), the demo outbox
 * (administrators only: it holds codes) and revoking a retired key's signer certificates.
 */
describe('issuer console administration pages', () => {
  let app: TestApp;
  let ids: { admin: string };
  const clients: Record<'ada' | 'omar' | 'aya', ConsoleClient> = {} as never;
  const csrf: Record<string, string> = {};

  beforeAll(async () => {
    app = await startTestApp({ overrides: { kyc: { scryptCost: 1024, notify: { outboxEnabled: true } } } });
    const operators = operatorsOf(app);
    ids = {
      admin: (await operators.add({ username: 'ada', role: 'administrator', password: PASSWORD })).operator
        .id,
    };
    await operators.add({ username: 'omar', role: 'issuance-officer', password: PASSWORD });
    await operators.add({ username: 'aya', role: 'auditor', password: PASSWORD });
    for (const name of ['ada', 'omar', 'aya'] as const) {
      clients[name] = new ConsoleClient(app.url);
      expect((await clients[name].signIn(name)).status).toBe(303);
      csrf[name] = await clients[name].sessionCsrf();
    }
  });
  afterAll(() => app?.stop());

  const alertText = (html: string) => html.match(/role="alert" id="[a-z-]+">([^<]*)</)?.[1];

  it('clients: an administrator registers a wallet (a refused registration names its field) and edits it; others only read', async () => {
    const { ada } = clients;
    const registry = app.running.parts.oidc.state.clients;
    const refused = await ada.send('POST', '/console/clients', {
      csrf: csrf.ada!,
      metadata: JSON.stringify({ client_id: 'desk-rp', redirect_uris: ['https://rp.example/cb'] }),
    });
    expect(refused.status).toBe(400);
    expect(alertText(refused.text)).toBe('jwks or jwks_uri is required for private_key_jwt');
    expect(refused.text).toContain('aria-invalid="true"');
    expect(await registry.find('desk-rp')).toBeUndefined();
    const notJson = await ada.send('POST', '/console/clients', {
      csrf: csrf.ada!,
      metadata: '{"client_id":',
    });
    expect(notJson.status).toBe(400);
    expect(alertText(notJson.text)).toMatch(/^not JSON: /);

    const wallet = {
      client_id: 'desk-wallet',
      client_name: 'Desk wallet',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['https://wallet.example/cb'],
    };
    const made = await ada.send('POST', '/console/clients', {
      csrf: csrf.ada!,
      metadata: JSON.stringify(wallet),
    });
    expect(made.status).toBe(303);
    expect(made.location).toBe('/console/clients/desk-wallet');
    // Stored as the admin API stores it: our defaults filled in (a public client is a wallet).
    expect(await registry.find('desk-wallet')).toMatchObject({
      client_name: 'Desk wallet',
      grant_types: ['authorization_code'],
      authorization_details_types: ['openid_credential'],
    });
    const again = await ada.send('POST', '/console/clients', {
      csrf: csrf.ada!,
      metadata: JSON.stringify(wallet),
    });
    expect(again.status).toBe(409);

    const renamed = await ada.send('POST', '/console/clients/desk-wallet', {
      csrf: csrf.ada!,
      metadata: JSON.stringify({ ...wallet, client_name: 'Front desk wallet' }),
    });
    expect(renamed.status).toBe(303);
    expect((await registry.find('desk-wallet'))?.client_name).toBe('Front desk wallet');
    const otherId = await ada.send('POST', '/console/clients/desk-wallet', {
      csrf: csrf.ada!,
      metadata: JSON.stringify({ ...wallet, client_id: 'someone-else' }),
    });
    expect(otherId.status).toBe(400);
    expect(alertText(otherId.text)).toBe('client_id must match the client being updated');

    for (const name of ['omar', 'aya'] as const) {
      const list = await clients[name].send('GET', '/console/clients');
      expect(list.status).toBe(200);
      expect(list.text).toContain('desk-wallet');
      expect(list.text).not.toContain('/console/clients/new');
      const one = await clients[name].send('GET', '/console/clients/desk-wallet');
      expect(one.text).toContain('Front desk wallet');
      expect(one.text).not.toContain('<textarea');
      expect((await clients[name].send('GET', '/console/clients/new')).status).toBe(403);
      const post = await clients[name].send('POST', '/console/clients/desk-wallet', {
        csrf: csrf[name]!,
        metadata: JSON.stringify({ ...wallet, client_name: name }),
      });
      expect(post.status).toBe(403);
    }
    expect((await registry.find('desk-wallet'))?.client_name).toBe('Front desk wallet');
    await app.services.audit.settled();
    const trail = await app.services.audit.list({ limit: 100, days: 1 });
    expect(trail.filter((r) => r.clientId === 'desk-wallet').map((r) => [r.type, r.operatorId])).toEqual([
      ['client_updated', ids.admin],
      ['client_created', ids.admin],
    ]);
  });

  it('consents: found by account id or subject, revoked by an administrator only', async () => {
    const consents = app.running.parts.oidc.state.consents;
    const record = await consents.remember(
      {
        clientId: 'desk-wallet',
        subject: 'pairwise-subject-1',
        accountId: 'account-7',
        identitySystem: 'mock',
        fingerprint: 'f',
        scopes: ['openid', 'profile'],
        acceptedClaims: ['name'],
        declinedClaims: [],
        authorizationDetails: [],
      },
      3600,
    );
    for (const q of ['account-7', 'pairwise-subject-1']) {
      const found = await clients.aya.send('GET', `/console/consents?q=${q}`);
      expect(found.status).toBe(200);
      expect(found.text).toContain('<code>desk-wallet</code>');
      expect(found.text).not.toContain('/revoke"');
    }
    expect((await clients.aya.send('GET', '/console/consents?q=%3Cscript%3E')).status).toBe(400);
    for (const name of ['omar', 'aya'] as const) {
      const refused = await clients[name].send('POST', `/console/consents/${record._id}/revoke`, {
        csrf: csrf[name]!,
      });
      expect(refused.status).toBe(403);
    }
    expect(await consents.get(record._id)).toBeDefined();
    const revoked = await clients.ada.send('POST', `/console/consents/${record._id}/revoke`, {
      csrf: csrf.ada!,
      q: 'account-7',
    });
    expect(revoked.status).toBe(200);
    expect(revoked.text).toContain('Consent revoked.');
    expect(await consents.get(record._id)).toBeUndefined();
    const [event] = await app.services.audit.list({ type: 'consent_revoked', limit: 5, days: 1 });
    expect(event).toMatchObject({
      clientId: 'desk-wallet',
      recordId: record._id,
      operatorId: ids.admin,
      count: 0,
    });
  });

  it('operators: an administrator adds one (with TOTP enrolment) and removes one, whose session ends at once; others are refused', async () => {
    const { ada } = clients;
    for (const name of ['omar', 'aya'] as const) {
      expect((await clients[name].send('GET', '/console/operators')).status).toBe(403);
      expect((await clients[name].send('GET', '/console/offers')).text).not.toContain('/console/operators"');
      const post = await clients[name].send('POST', '/console/operators', {
        csrf: csrf[name]!,
        username: 'mallory',
        password: PASSWORD,
        role: 'administrator',
      });
      expect(post.status).toBe(403);
    }
    const short = await ada.send('POST', '/console/operators', {
      csrf: csrf.ada!,
      username: 'nadia',
      password: 'short',
      role: 'auditor',
    });
    expect(short.status).toBe(400);
    expect(alertText(short.text)).toBe('the password must be 12 to 1024 characters');
    const added = await ada.send('POST', '/console/operators', {
      csrf: csrf.ada!,
      username: 'nadia',
      password: PASSWORD,
      role: 'issuance_officer',
      totp: 'true',
    });
    expect(added.status).toBe(201);
    expect(added.text).toContain('Operator nadia created.');
    expect(added.text).toMatch(/value="otpauth:\/\/totp\/Issuer%20console%3Anadia\?secret=[A-Z2-7]{32}&amp;/);
    expect(added.text).not.toContain(PASSWORD);

    const listed = await operatorsOf(app).list();
    const nadia = listed.find((o) => o.username === 'nadia')!;
    expect(nadia).toMatchObject({ role: 'issuance_officer', totp: true });
    const omarId = listed.find((o) => o.username === 'omar')!.id;
    expect(
      (await ada.send('POST', `/console/operators/${ids.admin}/remove`, { csrf: csrf.ada! })).status,
    ).toBe(409);
    const removed = await ada.send('POST', `/console/operators/${omarId}/remove`, { csrf: csrf.ada! });
    expect(removed.status).toBe(200);
    expect((await clients.omar.send('GET', '/console/offers')).location).toBe('/console/sign-in');
    expect((await new ConsoleClient(app.url).signIn('omar')).status).toBe(401);
    await app.services.audit.settled();
    const trail = await app.services.audit.list({ limit: 200, days: 1 });
    expect(trail.find((r) => r.type === 'operator_removed')).toMatchObject({
      recordId: omarId,
      operatorId: ids.admin,
    });
    expect(trail.find((r) => r.type === 'operator_created' && r.recordId === nadia.id)).toMatchObject({
      operatorId: ids.admin,
      reason: 'issuance_officer',
    });
    expect(JSON.stringify(trail)).not.toContain(PASSWORD);
  });

  it('outbox: administrators read the demo messages; other roles are refused', async () => {
    const { store } = app.services;
    await outboxNotifier({ store, clock: app.clock, ttlSeconds: 600 }).send({
      channel: 'email',
      to: 'person@example.org',
      subject: 'Your code',
      text: 'Your transaction code is 493817',
      purpose: 'tx_code',
    } as never);
    expect((await clients.aya.send('GET', '/console/outbox')).status).toBe(403);
    const page = await clients.ada.send('GET', '/console/outbox');
    expect(page.status).toBe(200);
    expect(page.text).toContain('person@example.org');
    expect(page.text).toContain('Your transaction code is 493817');
  });

  it("keys: an administrator revokes a retired credential key's signer certificates, refused while it signs and to other roles", async () => {
    const { keys } = app.services;
    const { issuerCa } = app.running.parts.credentials;
    const es256 = keys.active('credential', 'ES256');
    const [signerDer] = await issuerCa.x5c(es256);
    const signerSerial = new x509.X509Certificate(Buffer.from(signerDer!, 'base64')).serialNumber;
    const stillActive = await clients.ada.send('POST', `/console/keys/${es256.kid}/revoke-certificates`, {
      csrf: csrf.ada!,
      reason: 'keyCompromise',
    });
    expect(stillActive.status).toBe(409);
    expect(alertText(stillActive.text)).toContain('rotate the credential keys first');
    expect((await clients.ada.send('GET', '/console/keys')).text).not.toContain(
      `/keys/${es256.kid}/revoke-certificates`,
    );

    await keys.rotate('credential');
    const page = await clients.ada.send('GET', '/console/keys');
    expect(page.text).toContain(`/console/keys/${es256.kid}/revoke-certificates`);
    expect((await clients.aya.send('GET', '/console/keys')).text).not.toContain('revoke-certificates');
    const refused = await clients.aya.send('POST', `/console/keys/${es256.kid}/revoke-certificates`, {
      csrf: csrf.aya!,
      reason: 'keyCompromise',
    });
    expect(refused.status).toBe(403);
    const badReason = await clients.ada.send('POST', `/console/keys/${es256.kid}/revoke-certificates`, {
      csrf: csrf.ada!,
      reason: 'because',
    });
    expect(badReason.status).toBe(400);
    const done = await clients.ada.send('POST', `/console/keys/${es256.kid}/revoke-certificates`, {
      csrf: csrf.ada!,
      reason: 'keyCompromise',
    });
    expect(done.status).toBe(200);
    expect(done.text).toMatch(
      new RegExp(`role="status">[1-9] signer certificate\\(s\\) of ${es256.kid} revoked`),
    );
    // The CRL the service publishes now lists the certificate.
    const crl = new x509.X509Crl(await issuerCa.crl());
    expect(crl.entries.map((e) => e.serialNumber)).toContain(signerSerial);
    const [event] = await app.services.audit.list({ type: 'signer_certificates_revoked', limit: 5, days: 1 });
    expect(event).toMatchObject({ kid: es256.kid, reason: 'keyCompromise', operatorId: ids.admin });
  });

  it('credential types: each format shows what it would issue for the demo person, unsigned and without the wallet key', async () => {
    const page = await clients.aya.send('GET', '/console/credential-types/national-id');
    expect(page.status).toBe(200);
    const unescapeHtml = (text: string) =>
      text
        .replaceAll('&quot;', '"')
        .replaceAll('&#39;', "'")
        .replaceAll('&lt;', '<')
        .replaceAll('&gt;', '>')
        .replaceAll('&amp;', '&');
    const previews = Object.fromEntries(
      [
        ...page.text.matchAll(
          /<pre class="json preview" tabindex="0" aria-labelledby="preview-([^"]+)">([^<]*)<\/pre>/g,
        ),
      ].map((m) => [m[1]!, JSON.parse(unescapeHtml(m[2]!)) as Record<string, any>]),
    );
    expect(Object.keys(previews).sort()).toEqual([
      'NationalIdCredential_jwt_vc_json',
      'NationalIdCredential_ldp_vc',
      'NationalIdCredential_mso_mdoc',
      'NationalIdCredential_sd_jwt',
    ]);
    const ldp = previews.NationalIdCredential_ldp_vc!;
    expect(ldp.type).toEqual(['VerifiableCredential', 'NationalIdCredential']);
    expect(ldp.issuer).toMatch(/^did:web:127\.0\.0\.1/);
    expect(ldp.credentialSubject).toMatchObject({
      givenName: 'Amina',
      familyName: 'Hassan',
      birthdate: '1990-04-12',
    });
    const jwt = previews.NationalIdCredential_jwt_vc_json!;
    expect(jwt.vc.credentialSubject).toEqual(ldp.credentialSubject);
    const sd = previews.NationalIdCredential_sd_jwt!;
    expect(sd.vct).toBe(`${app.url}/vct/national-id`);
    expect(sd.givenName).toBe('Amina');
    expect(page.text).toContain('Selectively disclosable: givenName, familyName');
    const mdoc = previews.NationalIdCredential_mso_mdoc!;
    expect(mdoc.docType).toBe('org.example.national_id.1');
    expect(mdoc.nameSpaces['org.example.national_id.1'].givenName).toBe('Amina');
    // A preview is never a credential: no proof, no holder binding, no status entry.
    for (const content of Object.values(previews)) {
      const text = JSON.stringify(content);
      for (const absent of ['"proof"', '"cnf"', '"sub"', '"credentialStatus"', '"status"', '"deviceKey"']) {
        expect(text).not.toContain(absent);
      }
    }
    expect((await clients.aya.send('GET', '/console/credential-types/national-id?lang=ar')).text).toContain(
      'ما ستصدره كل صيغة لشخص تجريبي',
    );
  });

  it('credential types: the editor previews an unsaved definition, checked as saving checks it, and saves nothing', async () => {
    const card = libraryCard();
    const registry = app.running.parts.credentials.configurations;
    const preview = await clients.ada.send('POST', '/console/credential-types', {
      csrf: csrf.ada!,
      definition: JSON.stringify(card),
      intent: 'preview',
    });
    expect(preview.status).toBe(200);
    expect(preview.text).toContain('aria-labelledby="preview-LibraryCard_ldp_vc"');
    expect(preview.text).toContain('&quot;LibraryCard_ldp_vc&quot;'); // still in the editor, unsaved
    expect(registry.definition('library-card')).toBeUndefined();
    const bad = await clients.ada.send('POST', '/console/credential-types', {
      csrf: csrf.ada!,
      definition: JSON.stringify({
        ...card,
        formats: { ldp_vc: { ...card.formats.ldp_vc, cryptosuite: 'rot13-2025' } },
      }),
      intent: 'preview',
    });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('<code class="field-name">/formats/ldp_vc/cryptosuite</code>');
    expect(bad.text).not.toContain('aria-labelledby="preview-');
    expect(
      (
        await clients.aya.send('POST', '/console/credential-types', {
          csrf: csrf.aya!,
          definition: JSON.stringify(card),
          intent: 'preview',
        })
      ).status,
    ).toBe(403);
    // Editing: the preview follows the edited text, the stored version stays as it was.
    const current = registry.definition('proof-of-age')!;
    const { version: _v, retired: _r, ...editable } = current as unknown as Record<string, unknown>;
    const edited = await clients.ada.send('POST', '/console/credential-types/proof-of-age', {
      csrf: csrf.ada!,
      definition: JSON.stringify({ ...editable, sample: { birthdate: '2015-01-01' } }),
      intent: 'preview',
    });
    expect(edited.status).toBe(200);
    expect(edited.text).toMatch(/&quot;ageOver18&quot;: false/);
    expect(registry.definition('proof-of-age')!.version).toBe(current.version);
  });
});
