import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { preAuthorizedCode, startVci, type VciHarness } from '../protocol/vci/harness.ts';
import { credentialRequest } from './external-as-wallet.ts';
import { type ExternalOp, startExternalOp } from './external-oidc-provider.ts';

/**
 * Issue 17: `vci.externalAuthorizationServers` is checked at start (each problem named by its
 * member), and `vci.ownAuthorizationServer: off` leaves the credential endpoint to the external
 * servers: our provider's tokens are refused there (and never sent to an external introspection
 * endpoint), the metadata lists only the external servers. (`listed`: the eSignet test; `on`: the
 * oidc-provider test.)
 */
const problemsOf = (vci: Record<string, unknown>, kyc?: Record<string, unknown>) => {
  try {
    loadConfig({
      env: { DEMO: 'on' },
      overrides: { vci, ...(kyc ? { kyc } : {}) },
    });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  return [];
};
const good = {
  issuer: 'https://esignet.example.org',
  jwksUri: 'https://esignet.example.org/v1/esignet/oauth/.well-known/jwks.json',
  profile: 'esignet',
  subject: { mode: 'userinfo', endpoint: 'https://esignet.example.org/v1/esignet/oidc/userinfo' },
};

describe('vci.externalAuthorizationServers is refused at start when wrong', () => {
  it('accepts a good entry', () => {
    expect(problemsOf({ externalAuthorizationServers: [good] })).toEqual([]);
  });

  it.each([
    ['a bad issuer URL', { issuer: 'esignet.example.org' }, '[0].issuer: must be an http(s) URL'],
    ['no keys source', { jwksUri: undefined }, '[0].one of jwksUri, jwks or introspection is required'],
    [
      'an unknown subject mode',
      { subject: { mode: 'psut' } },
      '[0].subject.mode: must be userinfo, claim or spi',
    ],
    [
      'a JWK Set with a private key',
      { jwksUri: undefined, jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' }] } },
      '[0].jwks: must be a JWK Set of public keys',
    ],
    ['an unknown profile', { profile: 'keycloak' }, '[0].profile: must be esignet or rfc9068'],
  ])('%s', (_name, change, problem) => {
    const entry = JSON.parse(JSON.stringify({ ...good, ...change }));
    expect(problemsOf({ externalAuthorizationServers: [entry] })).toEqual([
      `vci.externalAuthorizationServers: ${problem}`,
    ]);
  });

  it('a subject mapping naming an identity system that is not configured', () => {
    const entry = { ...good, subject: { mode: 'spi', identitySystem: 'civil-registry' } };
    expect(problemsOf({ externalAuthorizationServers: [entry] })).toEqual([
      'vci.externalAuthorizationServers[0].subject.identitySystem: "civil-registry" is not in kyc.systems',
    ]);
  });

  it('ownAuthorizationServer off without any external server', () => {
    expect(problemsOf({ ownAuthorizationServer: 'off' })).toEqual([
      'vci.ownAuthorizationServer: off needs at least one vci.externalAuthorizationServers entry',
    ]);
    expect(problemsOf({ ownAuthorizationServer: 'off', externalAuthorizationServers: [good] })).toEqual([]);
  });
});

describe('ownAuthorizationServer off', () => {
  let h: VciHarness;
  let op: ExternalOp;
  let metadata: Record<string, any>;
  beforeAll(async () => {
    op = await startExternalOp({ format: 'opaque', person: () => ({ accountId: 'unused' }) });
    h = await startVci({
      overrides: {
        oidc: { jwksUriPolicy: { allowedHosts: ['127.0.0.1'] } },
        vci: {
          ownAuthorizationServer: 'off',
          externalAuthorizationServers: [
            {
              issuer: op.issuer,
              profile: 'rfc9068',
              introspection: { endpoint: op.introspectionEndpoint, ...op.introspectionClient },
              subject: { mode: 'spi', identitySystem: 'mock' },
            },
          ],
        },
      },
    });
    metadata = (await (await fetch(`${h.url}/.well-known/openid-credential-issuer`)).json()) as any;
    op.attach({
      resource: h.url,
      scopes: ['national_id'],
      walletClientId: 'wallet',
      redirectUri: 'https://w.example/cb',
    });
  });
  afterAll(async () => {
    await h?.stop();
    await op?.stop();
  });
  // The nonce and proof below are the service's own (TestClock); the external server mints nothing here.
  beforeEach(() => h.app.clock.set(Date.now()));

  it('lists only the external server in authorization_servers', () => {
    expect(metadata.authorization_servers).toEqual([op.issuer]);
  });

  it("refuses our provider's token at the credential endpoint and never sends it out", async () => {
    const who = await h.person();
    const { body } = await h.token(
      preAuthorizedCode(await h.offer(['NationalIdCredential_jwt_vc_json'], who.individualId)),
    );
    expect(typeof body.access_token).toBe('string');
    const nonce = ((await (await fetch(metadata.nonce_endpoint, { method: 'POST' })).json()) as any).c_nonce;
    const issuerSide = {
      url: h.url,
      credentialEndpoint: metadata.credential_endpoint,
      now: h.app.clock.now(),
    };
    const res = await credentialRequest(issuerSide, body.access_token, nonce);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(((await res.json()) as any).error_description).toBe(
      'the access token was not issued by a trusted authorization server',
    );
    expect(op.hits.get('/token/introspection')).toBeUndefined();
    // A token neither we nor it know goes to its introspection, and is refused.
    const unknown = await credentialRequest(issuerSide, randomBytes(32).toString('base64url'), nonce);
    expect(unknown.status).toBe(401);
    expect(op.hits.get('/token/introspection')).toBe(1);
  });
});
