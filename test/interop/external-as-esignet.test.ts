import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyMdoc, verifySdJwtVc } from '../../scripts/demo-wallet.ts';
import { startVci, type VciHarness } from '../protocol/vci/harness.ts';
import { type EsignetStandin, startEsignetStandin } from './esignet-standin.ts';
import {
  externalAuthorizationCodeFlow,
  credentialRequest as sharedCredentialRequest,
} from './external-as-wallet.ts';
import { verifyJwtVc, verifyLdpVc } from './verifiers.ts';

/**
 * Issue 17: the service as credential issuer behind an existing eSignet (the role Inji Certify
 * plays). A stand-in eSignet (test/interop/esignet-standin.ts, eSignet's sources cited there) logs
 * the person in and issues its JWT access tokens; the wallet library (@openid4vc/openid4vci) runs
 * the authorization-code flow against it and takes the token to this service's credential endpoint.
 * The person: eSignet's `sub` is a partner-specific user token, so the claims come from eSignet's
 * userinfo (a JWT signed by the identity system's KYC key), called with the wallet's token.
 */
const CLIENT_ID = 'inji-wallet';
const REDIRECT = 'https://wallet.example.org/callback';
const PERSON = {
  psut: 'psut-7f3b9c1e2d4a5b6c8e9f0a1b2c3d4e5f',
  claims: {
    given_name: 'Amani',
    family_name: 'Juma',
    name: 'Amani Juma',
    'name#en': 'Amani Juma',
    'name#ar': 'أماني جمعة',
    birthdate: '1990-04-12',
    gender: 'female',
    address: { street_address: '12 Uhuru St', locality: 'Dodoma', country: 'TZ' },
    email: 'amani@example.org',
  },
};

let h: VciHarness;
let esignet: EsignetStandin;
let metadata: Record<string, any>;

/** Our key for eSignet's encrypted userinfo (the client's userinfo_response_type JWE). */
let userinfoKey: Awaited<ReturnType<typeof generateKeyPair>>;

beforeAll(async () => {
  userinfoKey = await generateKeyPair('RSA-OAEP-256', { extractable: true });
  let now = () => Date.now();
  esignet = await startEsignetStandin({ now: () => now(), person: structuredClone(PERSON) });
  h = await startVci({
    overrides: {
      oidc: { jwksUriPolicy: { allowedHosts: ['127.0.0.1'] } },
      vci: {
        ownAuthorizationServer: 'listed',
        externalAuthorizationServers: [
          {
            issuer: esignet.issuer,
            jwksUri: esignet.jwksUri,
            profile: 'esignet',
            subject: {
              mode: 'userinfo',
              endpoint: esignet.userinfoEndpoint,
              decryptionJwk: { ...(await exportJWK(userinfoKey.privateKey)), alg: 'RSA-OAEP-256' },
            },
          },
        ],
      },
    },
  });
  now = () => h.app.clock.now();
  metadata = (await (await fetch(`${h.url}/.well-known/openid-credential-issuer`)).json()) as any;
  // mosip.esignet.credential.scope-resource-mapping: each credential scope → our credential endpoint.
  for (const c of Object.values(metadata.credential_configurations_supported) as any[])
    if (c.scope) esignet.scopeResources[c.scope] = metadata.credential_endpoint;
});
afterAll(async () => {
  await h?.stop();
  await esignet?.stop();
});

const scopeOf = (id: string) => metadata.credential_configurations_supported[id].scope as string;

/** The wallet library's authorization-code flow at the stand-in, then one credential request here. */
const walletFlow = (configurationId: string, nonceFrom: 'token' | 'nonce_endpoint') =>
  externalAuthorizationCodeFlow({
    credentialIssuer: h.url,
    authorizationServer: esignet.issuer,
    clientId: CLIENT_ID,
    redirectUri: REDIRECT,
    configurationId,
    scope: scopeOf(configurationId),
    // The stand-in's /authorize answers at once with the redirect (the login is not replayed).
    authorize: async (url) => {
      expect(url.startsWith(`${esignet.issuer}/authorize`)).toBe(true);
      const redirect = await fetch(url, { redirect: 'manual' });
      return new URL(redirect.headers.get('location')!).searchParams.get('code')!;
    },
    nonceFrom,
  });

describe('credentials from an eSignet login (@openid4vc/openid4vci, authorization code at the stand-in)', () => {
  it('lists both authorization servers in the metadata', () => {
    expect(metadata.authorization_servers).toEqual([h.url, esignet.issuer]);
  });

  it('ldp_vc with the c_nonce of eSignet token: claims from eSignet userinfo, verified independently', async () => {
    const { credential } = await walletFlow('NationalIdCredential_ldp_vc', 'token');
    expect(credential.credentialSubject).toMatchObject({
      givenName: 'Amani',
      familyName: 'Juma',
      birthdate: '1990-04-12',
    });
    expect(await verifyLdpVc(credential, h.url, new Date(h.app.clock.now()))).toMatchObject({
      verified: true,
    });
  });

  it('jwt_vc_json with a nonce from the nonce endpoint', async () => {
    const { credential } = await walletFlow('NationalIdCredential_jwt_vc_json', 'nonce_endpoint');
    const { payload } = await verifyJwtVc(credential, h.url, new Date(h.app.clock.now()));
    expect((payload.vc as any).credentialSubject.familyName).toBe('Juma');
  });

  it('dc+sd-jwt', async () => {
    const { credential } = await walletFlow('NationalIdCredential_sd_jwt', 'token');
    const claims = await verifySdJwtVc(credential, new Date(h.app.clock.now()));
    expect(claims).toMatchObject({ givenName: 'Amani', birthdate: '1990-04-12' });
  });

  it('mso_mdoc', async () => {
    const { credential } = await walletFlow('NationalIdCredential_mso_mdoc', 'token');
    const doctype = metadata.credential_configurations_supported.NationalIdCredential_mso_mdoc.doctype;
    const verdict = await verifyMdoc(credential, doctype, h.url, new Date(h.app.clock.now()));
    expect(verdict.failed).toEqual([]);
    expect(verdict.checks.map((c) => c.check).join('\n')).toContain('national_id.1/givenName');
  });
});

describe("eSignet's encrypted userinfo (JWE around the signed KYC JWT)", () => {
  it('is decrypted with the configured key: the credential carries its claims', async () => {
    esignet.userinfoEncryptionKey = await exportJWK(userinfoKey.publicKey);
    try {
      const { credential } = await walletFlow('NationalIdCredential_jwt_vc_json', 'token');
      const { payload } = await verifyJwtVc(credential, h.url, new Date(h.app.clock.now()));
      expect((payload.vc as any).credentialSubject).toMatchObject({ givenName: 'Amani', familyName: 'Juma' });
    } finally {
      delete esignet.userinfoEncryptionKey;
    }
  });

  it('a userinfo answer that is JSON but not an object (null) is refused with a clear error, never 500', async () => {
    esignet.userinfoJson = 'null';
    try {
      const token = await esignet.accessToken({ clientId: CLIENT_ID, scopes: jwtScope(), cNonce: 'null-1' });
      const res = await credentialRequest(token, 'null-1');
      const body = (await res.json()) as any;
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(body.error).toBe('credential_request_denied');
      expect(body.error_description).toBe("the authorization server's userinfo answer could not be verified");
    } finally {
      delete esignet.userinfoJson;
    }
  });

  it('encrypted to another key is refused with a clear error, never 500', async () => {
    esignet.userinfoEncryptionKey = await exportJWK(
      (await generateKeyPair('RSA-OAEP-256', { extractable: true })).publicKey,
    );
    try {
      const token = await esignet.accessToken({ clientId: CLIENT_ID, scopes: jwtScope(), cNonce: 'jwe-1' });
      const res = await credentialRequest(token, 'jwe-1');
      const body = (await res.json()) as any;
      // OpenID4VCI 1.0 §8.3.1.2: credential_request_denied with HTTP 400.
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(body.error).toBe('credential_request_denied');
      expect(body.error_description).toBe("the authorization server's userinfo answer could not be verified");
    } finally {
      delete esignet.userinfoEncryptionKey;
    }
  });
});

/** A credential request with a proof over `nonce`, as a wallet sends it, with `token` (Bearer). */
const credentialRequest = (token: string, nonce: string) =>
  sharedCredentialRequest(
    { url: h.url, credentialEndpoint: metadata.credential_endpoint, now: h.app.clock.now() },
    token,
    nonce,
  );
const jwtScope = () => [scopeOf('NationalIdCredential_jwt_vc_json')];

describe('refusals of eSignet tokens', () => {
  it('a token from an untrusted server is 401 invalid_token with WWW-Authenticate', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({
      iss: 'https://esignet.other.example',
      sub: PERSON.psut,
      aud: metadata.credential_endpoint,
      scope: jwtScope()[0],
    })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuedAt(Math.floor(h.app.clock.now() / 1000))
      .setExpirationTime(Math.floor(h.app.clock.now() / 1000) + 600)
      .sign(privateKey);
    const res = await credentialRequest(forged, 'n');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(((await res.json()) as any).error_description).toContain(
      'not issued by a trusted authorization server',
    );
  });

  it('a token for another audience (a scope without resource mapping: aud = client_id) is 401', async () => {
    const token = await esignet.accessToken({ clientId: CLIENT_ID, scopes: ['openid', 'profile'] });
    const res = await credentialRequest(token, 'n');
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error_description).toBe(
      'the access token is not meant for this credential issuer',
    );
  });

  it('an expired token is 401 invalid_token', async () => {
    const iat = Math.floor(h.app.clock.now() / 1000) - 7200;
    const token = await esignet.accessToken({ clientId: CLIENT_ID, scopes: jwtScope(), iat });
    const res = await credentialRequest(token, 'n');
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error_description).toBe('the access token has expired');
  });

  it('a scope naming no credential configuration is 403 insufficient_scope', async () => {
    esignet.scopeResources.mosip_identity_vc_ldp = metadata.credential_endpoint;
    const token = await esignet.accessToken({ clientId: CLIENT_ID, scopes: ['mosip_identity_vc_ldp'] });
    const res = await credentialRequest(token, 'n');
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });

  it("the token's c_nonce is single use, and refused once expired (invalid_nonce)", async () => {
    const token = await esignet.accessToken({
      clientId: CLIENT_ID,
      scopes: jwtScope(),
      cNonce: 'esignet-nonce-1',
    });
    expect((await credentialRequest(token, 'esignet-nonce-1')).status).toBe(200);
    const replay = await credentialRequest(token, 'esignet-nonce-1');
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as any).error).toBe('invalid_nonce');
    const late = await esignet.accessToken({
      clientId: CLIENT_ID,
      scopes: jwtScope(),
      cNonce: 'esignet-nonce-2',
    });
    h.app.clock.advanceSeconds(61); // c_nonce_expires_in 60 (TokenServiceImpl.java:156)
    const expired = await credentialRequest(late, 'esignet-nonce-2');
    expect(expired.status).toBe(400);
    expect(((await expired.json()) as any).error).toBe('invalid_nonce');
  });

  it('a DPoP-bound token sent as Bearer is 401', async () => {
    const { publicKey } = await generateKeyPair('ES256');
    const jkt = await calculateJwkThumbprint(await exportJWK(publicKey));
    const token = await esignet.accessToken({
      clientId: CLIENT_ID,
      scopes: jwtScope(),
      cNonce: 'x',
      dpopJkt: jkt,
    });
    const res = await credentialRequest(token, 'x');
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error_description).toContain('DPoP scheme');
  });

  it('a token bound by a confirmation method the issuer cannot check (cnf x5t#S256) is 401, not bearer', async () => {
    const token = await esignet.accessToken({
      clientId: CLIENT_ID,
      scopes: jwtScope(),
      cNonce: 'bound-1',
      cnf: { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' },
    });
    const res = await credentialRequest(token, 'bound-1');
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error_description).toContain('confirmation method');
  });

  it('eSignet down (userinfo, then keys) is 503 with Retry-After, never 500', async () => {
    const token = await esignet.accessToken({ clientId: CLIENT_ID, scopes: jwtScope(), cNonce: 'down-1' });
    esignet.down = true;
    try {
      const res = await credentialRequest(token, 'down-1');
      expect(res.status, await res.clone().text()).toBe(503);
      expect(res.headers.get('retry-after')).toBe('30');
      expect(((await res.json()) as any).error).toBe('temporarily_unavailable');
      // A rotated key needs the JWKS, which cannot be fetched either.
      await esignet.rotate(false);
      h.app.clock.advanceSeconds(150); // the test clock starts each test at the same instant: past the last fetch
      const fresh = await esignet.accessToken({ clientId: CLIENT_ID, scopes: jwtScope(), cNonce: 'down-2' });
      const res2 = await credentialRequest(fresh, 'down-2');
      expect(res2.status, await res2.clone().text()).toBe(503);
      expect(res2.headers.get('retry-after')).toBe('30');
    } finally {
      esignet.down = false;
    }
  });

  it("follows eSignet's JWKS rotation without restart (refetched once for the new kid)", async () => {
    await esignet.rotate(false);
    h.app.clock.advanceSeconds(300); // past the last fetch (and the failure the fetcher remembers)
    const before = esignet.hits.get('/v1/esignet/oauth/.well-known/jwks.json') ?? 0;
    const token = await esignet.accessToken({ clientId: CLIENT_ID, scopes: jwtScope(), cNonce: 'rot-1' });
    const r1 = await credentialRequest(token, 'rot-1');
    expect(r1.status, await r1.clone().text()).toBe(200);
    const token2 = await esignet.accessToken({ clientId: CLIENT_ID, scopes: jwtScope(), cNonce: 'rot-2' });
    expect((await credentialRequest(token2, 'rot-2')).status).toBe(200);
    expect(esignet.hits.get('/v1/esignet/oauth/.well-known/jwks.json')).toBe(before + 1);
  });
});
