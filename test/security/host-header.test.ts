import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, startAuthorization } from '../protocol/oidc/helpers.ts';
import { holderKey, proofJwt } from '../protocol/vci/harness.ts';
import { CONFIGURATION, type Fixture, header, PRE_AUTH, raw, startFixture } from './support.ts';

/**
 * SECURITY.md row 62 (wordlist-and-method-fuzz, the Host-header poisoning part): the issuer and every
 * URL the service publishes come from the configured public URL, never from `Host`,
 * `X-Forwarded-Host`, `X-Forwarded-Proto`, `X-Forwarded-Prefix` or `Forwarded`. A cache in front of
 * the service would otherwise store discovery pointing to an attacker, and wallets would send
 * proofs and tokens there (OpenID4VCI 1.0 §12.2.4: credential_issuer must equal the URL it was
 * fetched from; RFC 8414 §3.3 the same for issuer).
 *
 * Run twice: with proxy trust off (the default) and on, because trusting X-Forwarded-* for client
 * addresses must not make it a source of URLs either.
 */

const EVIL = 'attacker.example';
const FORGED: Record<string, string>[] = [
  { host: `${EVIL}:8443` },
  { 'x-forwarded-host': EVIL, 'x-forwarded-proto': 'https' },
  { forwarded: `host=${EVIL};proto=https` },
  { 'x-forwarded-prefix': '/evil', 'x-original-url': '/evil', 'x-rewrite-url': '/evil' },
  { host: `${EVIL}`, 'x-forwarded-host': `${EVIL}, other.example`, 'x-forwarded-port': '444' },
];

describe.each([
  ['proxy trust off', false],
  ['proxy trust on', true],
])('Host header never changes the issuer or published URLs (%s)', (_name, trustProxy) => {
  let f: Fixture;
  let origin: string;
  beforeAll(async () => {
    f = await startFixture({ http: { trustProxy } });
    origin = new URL(f.app.url).origin;
  });
  afterAll(() => f?.h.stop());

  /** Every absolute http(s) URL in the text that points to us or to the attacker. */
  function expectOnlyOurUrls(text: string, what: string) {
    expect(text, what).not.toContain(EVIL);
    expect(text, what).not.toContain('/evil');
    const ours = new URL(f.app.url);
    for (const [url] of text.matchAll(/https?:\/\/[^\s"'<>\\]+/g)) {
      const parsed = new URL(url);
      if (parsed.hostname === ours.hostname) expect(parsed.origin, `${what}: ${url}`).toBe(ours.origin);
    }
  }

  it.each(FORGED.map((h) => [Object.keys(h).join('+'), h]))(
    'metadata documents ignore %s',
    async (_k, forged) => {
      const documents = {
        'openid-configuration': '/.well-known/openid-configuration',
        'oauth-authorization-server': '/.well-known/oauth-authorization-server',
        'openid-credential-issuer': '/.well-known/openid-credential-issuer',
        'did.json': '/.well-known/did.json',
        'jwt-vc-issuer': '/.well-known/jwt-vc-issuer',
        'credential jwks': '/jwks/credentials',
        jwks: '/jwks',
      };
      for (const [what, path] of Object.entries(documents)) {
        const reply = await raw(`${origin}${path}`, { headers: forged as Record<string, string> });
        expect(reply.status, `${what} ${reply.text}`).toBe(200);
        expectOnlyOurUrls(reply.text, what);
        expectOnlyOurUrls(JSON.stringify(reply.headers), `${what} headers`);
        const body = JSON.parse(reply.text);
        if (what === 'openid-configuration' || what === 'oauth-authorization-server')
          expect(body.issuer).toBe(f.app.url);
        if (what === 'openid-credential-issuer') expect(body.credential_issuer).toBe(f.app.url);
        if (what === 'jwt-vc-issuer') expect(body.issuer).toBe(f.app.url);
        if (what === 'did.json')
          expect(body.id).toBe(`did:web:${encodeURIComponent(new URL(f.app.url).host)}`);
      }
    },
  );

  it('credential offers, the offer URI and issued credentials use the configured URL', async () => {
    const forged = { ...FORGED[0], ...FORGED[1], ...FORGED[2] } as Record<string, string>;
    const who = await f.h.person();
    const made = await raw(`${origin}/admin/credential-offers`, {
      method: 'POST',
      headers: { ...forged, authorization: `Bearer ${f.app.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        credential_configuration_ids: [CONFIGURATION],
        individual_id: who.individualId,
      }),
    });
    expect(made.status, made.text).toBe(201);
    expectOnlyOurUrls(made.text, 'admin offer');
    const offer = JSON.parse(made.text);
    expect(offer.credential_offer.credential_issuer).toBe(f.app.url);
    expect(offer.credential_offer_uri.startsWith(`${f.app.url}/`)).toBe(true);

    const byReference = await raw(offer.credential_offer_uri, { headers: forged });
    expect(byReference.status).toBe(200);
    expectOnlyOurUrls(byReference.text, 'offer by reference');
    expect(JSON.parse(byReference.text).credential_issuer).toBe(f.app.url);

    const token = await raw(`${origin}/token`, {
      method: 'POST',
      headers: { ...forged, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: PRE_AUTH,
        'pre-authorized_code': offer.credential_offer.grants[PRE_AUTH]['pre-authorized_code'],
      }).toString(),
    });
    expect(token.status, token.text).toBe(200);
    expectOnlyOurUrls(token.text, 'token response');
    const issued = await raw(`${origin}/credential`, {
      method: 'POST',
      headers: {
        ...forged,
        authorization: `Bearer ${JSON.parse(token.text).access_token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        credential_configuration_id: CONFIGURATION,
        proofs: { jwt: [await proofJwt(await holderKey(), f.app.url, await f.h.nonce())] },
      }),
    });
    expect(issued.status, issued.text).toBe(200);
    expectOnlyOurUrls(issued.text, 'issued credential');
  });

  it('a proof whose aud is the forged host is refused (audience comes from the configuration)', async () => {
    const forged = FORGED[0] as Record<string, string>;
    const who = await f.h.person();
    const offer = await f.h.offer([CONFIGURATION], who.individualId, false);
    const token = await f.h.token(offer.credential_offer.grants[PRE_AUTH]['pre-authorized_code']);
    const reply = await raw(`${origin}/credential`, {
      method: 'POST',
      headers: {
        ...forged,
        authorization: `Bearer ${token.body.access_token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        credential_configuration_id: CONFIGURATION,
        proofs: { jwt: [await proofJwt(await holderKey(), `http://${forged.host}`, await f.h.nonce())] },
      }),
    });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.text).error).toBe('invalid_proof');
  });

  it('authorization redirects and interaction pages never point to the forged host', async () => {
    for (const forged of FORGED) {
      const browser = new Browser(origin);
      const started = await startAuthorization(f.app, browser, f.client, { par: false });
      // The redirect to the interaction was made without forged headers; now ask with them.
      const page = await browser.fetch(started.interaction, { headers: forged as Record<string, string> });
      expect(page.status).toBe(200);
      expectOnlyOurUrls(page.text, 'login page');
      expectOnlyOurUrls(JSON.stringify(page.headers), 'login page headers');
      const query = new URLSearchParams({
        client_id: f.client.clientId,
        response_type: 'code',
        redirect_uri: f.client.redirectUri,
        scope: 'openid',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      });
      const authorize = await raw(`${origin}/authorize?${query}`, {
        headers: forged as Record<string, string>,
      });
      expect(authorize.status).toBe(303);
      const location = header(authorize, 'location');
      expect(new URL(location, f.app.url).origin).toBe(origin);
      expectOnlyOurUrls(JSON.stringify(authorize.headers), 'authorize headers');
    }
  });
});
