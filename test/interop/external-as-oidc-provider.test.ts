import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { verifyMdoc, verifySdJwtVc } from '../../scripts/demo-wallet.ts';
import { preAuthorizedCode, startVci, type VciHarness } from '../protocol/vci/harness.ts';
import {
  credentialRequest,
  externalAccessToken,
  externalAuthorizationCodeFlow,
} from './external-as-wallet.ts';
import { type ExternalOp, startExternalOp } from './external-oidc-provider.ts';
import { verifyJwtVc, verifyLdpVc } from './verifiers.ts';

/**
 * Issue 17: oidc-provider as a generic external authorization server (test/interop/external-oidc-provider.ts):
 *
 * - `jwtOp` issues RFC 9068 JWT access tokens (typ at+jwt) for our credential issuer as the resource;
 *   the service checks them with the keys at its jwks_uri (profile rfc9068). Its `sub` is its own
 *   account id; the person is found by the `individual_id` claim it adds to its tokens, looked up in
 *   the identity system (subject mode `claim`).
 * - `opaqueOp` issues opaque access tokens; the service asks its RFC 7662 introspection endpoint as
 *   the resource server client. Its `sub` is the identity system's account id, resolved by the
 *   system's resolveExternalSubject (subject mode `spi`).
 * - `untrustedOp` is the same kind of server, not configured: its opaque tokens are refused.
 *
 * In each flow the wallet library (@openid4vc/openid4vci) runs the authorization-code flow with
 * PKCE (and PAR, which oidc-provider advertises) against the external server, then gets a credential
 * here with a proof over a nonce from our nonce endpoint; independent verifiers accept it.
 *
 * Time: oidc-provider reads the real clock (its iat/exp and introspection `exp` are real-clock
 * epoch seconds) and so does the wallet library. The service under test judges those tokens on its
 * injected TestClock, which stands still and is put back after each test. So each test starts by
 * moving the TestClock to the real now (a forward move from where it stood at start: keys and
 * certificates made at start stay valid) and everything in that test — the tokens' exp and nbf, the
 * service's nonces and proofs, the verifiers' `now` — is judged at that one instant. A test lasts
 * seconds; the tokens live 600 s and the external servers' tolerance is 30 s, so the frozen instant
 * never falls outside a token the real-clock party just minted. Under faketime both clocks move together.
 */
const CLIENT_ID = 'wallet';
const REDIRECT = 'https://wallet.example.org/callback';
const FORMATS = [
  'NationalIdCredential_ldp_vc',
  'NationalIdCredential_jwt_vc_json',
  'NationalIdCredential_sd_jwt',
  'NationalIdCredential_mso_mdoc',
] as const;

let h: VciHarness;
let jwtOp: ExternalOp;
let opaqueOp: ExternalOp;
let untrustedOp: ExternalOp;
let metadata: Record<string, any>;
let person: { individualId: string; accountId: string };

beforeAll(async () => {
  const opPerson = () => ({ accountId: 'op-user-0001', claims: { individual_id: person.individualId } });
  jwtOp = await startExternalOp({ format: 'jwt', person: opPerson });
  opaqueOp = await startExternalOp({ format: 'opaque', person: () => ({ accountId: person.accountId }) });
  untrustedOp = await startExternalOp({ format: 'opaque', person: () => ({ accountId: person.accountId }) });
  h = await startVci({
    overrides: {
      oidc: { jwksUriPolicy: { allowedHosts: ['127.0.0.1'] } },
      vci: {
        ownAuthorizationServer: 'on',
        externalAuthorizationServers: [
          {
            issuer: jwtOp.issuer,
            jwksUri: jwtOp.jwksUri,
            profile: 'rfc9068',
            subject: { mode: 'claim', claim: 'individual_id', identitySystem: 'mock' },
          },
          {
            issuer: opaqueOp.issuer,
            profile: 'rfc9068',
            introspection: { endpoint: opaqueOp.introspectionEndpoint, ...opaqueOp.introspectionClient },
            subject: { mode: 'spi', identitySystem: 'mock' },
          },
        ],
      },
    },
  });
  person = await h.person();
  metadata = (await (await fetch(`${h.url}/.well-known/openid-credential-issuer`)).json()) as any;
  const scopes = FORMATS.map((id) => metadata.credential_configurations_supported[id].scope as string);
  for (const op of [jwtOp, opaqueOp, untrustedOp])
    op.attach({ resource: h.url, scopes, walletClientId: CLIENT_ID, redirectUri: REDIRECT });
});
afterAll(async () => {
  await h?.stop();
  await Promise.all([jwtOp, opaqueOp, untrustedOp].map((op) => op?.stop()));
});
// The external servers mint on the real clock: judge this test's tokens at the real now (see above).
beforeEach(() => h.app.clock.set(Date.now()));

/** The wallet's side of a flow at `op` for one configuration (the person logs in there). */
const flowOptions = (op: ExternalOp, configurationId: string) => ({
  credentialIssuer: h.url,
  authorizationServer: op.issuer,
  clientId: CLIENT_ID,
  redirectUri: REDIRECT,
  configurationId,
  scope: metadata.credential_configurations_supported[configurationId].scope as string,
  authorize: async (url: string) => (await op.authorize(url, REDIRECT)).searchParams.get('code')!,
});
const flow = (op: ExternalOp, configurationId: string) =>
  externalAuthorizationCodeFlow({ ...flowOptions(op, configurationId), nonceFrom: 'nonce_endpoint' });

/** Checks a credential of this configuration with the independent verifier of its format. */
async function verifyIndependently(configurationId: string, credential: any) {
  const now = new Date(h.app.clock.now());
  if (configurationId.endsWith('ldp_vc')) {
    expect(credential.credentialSubject).toMatchObject({ givenName: 'Layla', familyName: 'Mansour' });
    expect(await verifyLdpVc(credential, h.url, now)).toMatchObject({ verified: true });
  } else if (configurationId.endsWith('jwt_vc_json')) {
    const { payload } = await verifyJwtVc(credential, h.url, now);
    expect((payload.vc as any).credentialSubject.familyName).toBe('Mansour');
  } else if (configurationId.endsWith('sd_jwt')) {
    expect(await verifySdJwtVc(credential, now)).toMatchObject({
      givenName: 'Layla',
      birthdate: '1994-07-21',
    });
  } else {
    const doctype = metadata.credential_configurations_supported[configurationId].doctype;
    const verdict = await verifyMdoc(credential, doctype, h.url, now);
    expect(verdict.failed).toEqual([]);
    expect(verdict.checks.map((c) => c.check).join('\n')).toContain('national_id.1/givenName');
  }
}

it('lists only the external servers when ours is on but unlisted', () => {
  expect(metadata.authorization_servers).toEqual([jwtOp.issuer, opaqueOp.issuer]);
});

describe('RFC 9068 JWT access tokens of an external oidc-provider (subject by claim lookup)', () => {
  it.each(FORMATS)('%s', async (configurationId) => {
    const { credential, accessToken } = await flow(jwtOp, configurationId);
    const [header, payload] = accessToken
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    expect(header.typ).toBe('at+jwt');
    expect(payload).toMatchObject({ iss: jwtOp.issuer, aud: h.url, sub: 'op-user-0001' });
    await verifyIndependently(configurationId, credential);
  });
});

describe('opaque access tokens through RFC 7662 introspection (subject by the identity system SPI)', () => {
  it.each(FORMATS)('%s', async (configurationId) => {
    const before = opaqueOp.hits.get('/token/introspection') ?? 0;
    const { credential, accessToken } = await flow(opaqueOp, configurationId);
    expect(accessToken.split('.')).toHaveLength(1);
    expect(opaqueOp.hits.get('/token/introspection')).toBe(before + 1);
    await verifyIndependently(configurationId, credential);
  });
});

const issuerSide = () => ({
  url: h.url,
  credentialEndpoint: metadata.credential_endpoint as string,
  now: h.app.clock.now(),
});
const ourNonce = async () =>
  ((await (await fetch(metadata.nonce_endpoint, { method: 'POST' })).json()) as { c_nonce: string }).c_nonce;
const tokenAt = async (op: ExternalOp, configurationId = 'NationalIdCredential_jwt_vc_json') =>
  (await externalAccessToken(flowOptions(op, configurationId))).accessTokenResponse.access_token;

describe('refusals of opaque tokens', () => {
  it('a revoked token is 401 invalid_token (introspection: active false)', async () => {
    const token = await tokenAt(opaqueOp);
    expect((await credentialRequest(issuerSide(), token, await ourNonce())).status).toBe(200);
    expect(await opaqueOp.revoke(token, CLIENT_ID)).toBe(200);
    const res = await credentialRequest(issuerSide(), token, await ourNonce());
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(((await res.json()) as any).error_description).toBe(
      'the access token is invalid, expired or revoked',
    );
  });

  it('an opaque token of an untrusted server is 401 and never sent to that server', async () => {
    // The wallet library will not talk to a server the issuer metadata does not list: a plain
    // OAuth 2.0 authorization-code flow with PKCE gets the token (RFC 6749 §4.1, RFC 7636, RFC 8707).
    const verifier = randomBytes(32).toString('base64url');
    const authorization = new URL(`${untrustedOp.issuer}/auth`);
    authorization.search = new URLSearchParams({
      client_id: CLIENT_ID,
      response_type: 'code',
      redirect_uri: REDIRECT,
      scope: metadata.credential_configurations_supported.NationalIdCredential_jwt_vc_json.scope,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      resource: h.url,
    }).toString();
    const code = (await untrustedOp.authorize(authorization.href, REDIRECT)).searchParams.get('code')!;
    const tokenResponse = await fetch(`${untrustedOp.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
        client_id: CLIENT_ID,
      }),
    });
    const token = ((await tokenResponse.json()) as { access_token: string }).access_token;
    const asked = opaqueOp.hits.get('/token/introspection') ?? 0;
    const res = await credentialRequest(issuerSide(), token, await ourNonce());
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error).toBe('invalid_token');
    // The trusted server was asked (and knew nothing of it); the untrusted one never hears of it.
    expect(opaqueOp.hits.get('/token/introspection')).toBe(asked + 1);
    expect(untrustedOp.hits.get('/token/introspection')).toBeUndefined();
  });

  it('the introspection endpoint down is 503 temporarily_unavailable with Retry-After, never 500', async () => {
    const token = await tokenAt(opaqueOp);
    opaqueOp.down = true;
    try {
      const res = await credentialRequest(issuerSide(), token, await ourNonce());
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('30');
      expect(((await res.json()) as any).error).toBe('temporarily_unavailable');
    } finally {
      opaqueOp.down = false;
    }
    expect((await credentialRequest(issuerSide(), token, await ourNonce())).status).toBe(200);
  });

  it('our own provider (on, unlisted) still issues credential tokens beside the external servers', async () => {
    const offer = await h.offer(['NationalIdCredential_jwt_vc_json'], person.individualId);
    const { body } = await h.token(preAuthorizedCode(offer));
    expect((await credentialRequest(issuerSide(), body.access_token, await ourNonce())).status).toBe(200);
  });
});
