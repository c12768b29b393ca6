import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holderKey, preAuthorizedCode, proofJwt, startVci, type VciHarness } from '../vci/harness.ts';
import { Browser } from './helpers.ts';
import { walletLogin } from './wallet-login.ts';

/**
 * OAuth 2.0 Attestation-Based Client Authentication
 * (draft-ietf-oauth-attestation-based-client-auth) at PAR, at the token endpoint (authorization
 * code, answered by oidc-provider) and in the pre-authorized grant (answered in front of it), over
 * real HTTP. The headers are built as the EUDI library builds them
 * (eu-digital-identity-wallet/eudi-lib-jvm-openid4vci-kt e1336d6631084f342f925a07f11f01162c611fd5):
 * - the two headers `OAuth-Client-Attestation` and `OAuth-Client-Attestation-PoP`
 *   (internal/AttestationBasedClientAuthentication.kt:62-63 clientAttestationHeaders);
 * - the PoP: `typ` `oauth-client-attestation-pop+jwt` (AttestationBasedClientAuthentication.kt:52),
 *   claims iss = client_id, aud = the authorization server, jti, iat, nbf, challenge
 *   (AttestationBasedClientAuthentication.kt:40-47, ClientAttestation.kt ClientAttestationPOPClaims);
 * - the challenge from the AS metadata's `challenge_endpoint` when advertised
 *   (internal/http/GetAbcaChallengeAndDPoPNonce.kt:35-48), and one retry on
 *   `use_attestation_challenge` with the `OAuth-Client-Attestation-Challenge` header
 *   (internal/http/TokenEndpointClient.kt:254-272);
 * - the attestation: iss, sub, exp, cnf.jwk (ClientAttestation.kt ClientAttestationJWTClaims; the
 *   wallet provider signs it with `typ` `oauth-client-attestation+jwt`, Specs.kt:87).
 * Each negative is what the OIDF conformance suite's client-attestation modules try: 401
 * `invalid_client`.
 */

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

const CLIENT_ID = 'eudi-wallet-dev';
const REDIRECT_URI = 'https://wallet.example.org/callback';
const INVALID_CLIENT = { error: 'invalid_client' };
/** The JWS with its signature's first byte changed (still base64url, same length). */
const tamper = (jws: string) => {
  const [header, payload, signature] = jws.split('.');
  const bytes = Buffer.from(signature!, 'base64url');
  bytes[0] = bytes[0]! ^ 0xff;
  return `${header}.${payload}.${bytes.toString('base64url')}`;
};

interface WalletInstance {
  attestation: string;
  privateKey: SigningKey;
  publicJwk: JWK;
}

describe('attestation-based client authentication', () => {
  let h: VciHarness;
  let providerKey: SigningKey;
  const providerKid = 'wallet-provider-1';

  /** A wallet provider's Client Attestation for a fresh wallet instance key; `tweak` breaks one thing. */
  const walletInstance = async (
    tweak: { claims?: Record<string, unknown>; header?: Record<string, unknown>; key?: SigningKey } = {},
  ): Promise<WalletInstance> => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const now = Math.floor(h.app.clock.now() / 1000);
    const attestation = await new SignJWT({
      iss: 'https://wallet-provider.example.org',
      sub: CLIENT_ID,
      iat: now,
      exp: now + 3600,
      cnf: { jwk: publicJwk },
      wallet_name: 'EUDI Wallet',
      wallet_link: 'https://wallet.example.org',
      ...tweak.claims,
    })
      .setProtectedHeader({
        alg: 'ES256',
        typ: 'oauth-client-attestation+jwt',
        kid: providerKid,
        ...tweak.header,
      })
      .sign(tweak.key ?? providerKey);
    return { attestation, privateKey: privateKey as SigningKey, publicJwk };
  };

  const challenge = async (): Promise<string> => {
    const meta = (await request(`${h.url}/.well-known/openid-configuration`).then((r) => r.body.json())) as {
      challenge_endpoint: string;
    };
    const res = await request(meta.challenge_endpoint, { method: 'POST' });
    const body = (await res.body.json()) as { attestation_challenge: string };
    expect(res.headers['oauth-client-attestation-challenge']).toBe(body.attestation_challenge);
    return body.attestation_challenge;
  };

  /** The two headers; `pop` tweaks the PoP's claims or header, `signer` signs it with another key. */
  const headers = async (
    wallet: WalletInstance,
    tweak: { claims?: Record<string, unknown>; header?: Record<string, unknown>; signer?: SigningKey } = {},
  ): Promise<Record<string, string>> => {
    const now = Math.floor(h.app.clock.now() / 1000);
    const pop = await new SignJWT({
      iss: CLIENT_ID,
      aud: h.url,
      jti: randomUUID(),
      iat: now,
      nbf: now,
      challenge: await challenge(),
      ...tweak.claims,
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'oauth-client-attestation-pop+jwt', ...tweak.header })
      .sign(tweak.signer ?? wallet.privateKey);
    return { 'oauth-client-attestation': wallet.attestation, 'oauth-client-attestation-pop': pop };
  };

  const form = async (path: string, body: Record<string, string>, extra: Record<string, string> = {}) => {
    const res = await request(`${h.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...extra },
      body: new URLSearchParams(body).toString(),
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  };

  const pkce = () => {
    const verifier = randomBytes(32).toString('base64url');
    return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
  };
  const par = (code: { challenge: string }) => ({
    client_id: CLIENT_ID,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'proof_of_age',
    state: randomBytes(8).toString('hex'),
    code_challenge: code.challenge,
    code_challenge_method: 'S256',
  });
  const preAuthorized = async () => {
    const who = await h.person();
    const offer = await h.offer(['AgeCredential_ldp_vc'], who.individualId);
    return {
      grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code',
      'pre-authorized_code': preAuthorizedCode(offer),
    };
  };

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    providerKey = pair.privateKey as SigningKey;
    const trusted = { ...(await exportJWK(pair.publicKey)), kid: providerKid, alg: 'ES256' };
    // Anonymous pre-authorized tokens get walt.id's leniency here; attested ones must not.
    h = await startVci({
      overrides: {
        oidc: { clientAttestation: { trustedJwks: [trusted] } },
        vci: { anonymousClientLeniencies: ['proof_kid_with_jwk'] },
      },
    });
    const registered = await h.admin('POST', '/clients', {
      client_id: CLIENT_ID,
      client_name: 'EUDI wallet',
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: 'attest_jwt_client_auth',
      allowed_claims: ['birthdate'],
    });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
  });
  afterAll(() => h.stop());

  it('is advertised in the authorization server metadata', async () => {
    const meta = (await request(`${h.url}/.well-known/openid-configuration`).then((r) =>
      r.body.json(),
    )) as Record<string, any>;
    expect(meta.token_endpoint_auth_methods_supported).toContain('attest_jwt_client_auth');
    expect(meta.client_attestation_signing_alg_values_supported).toEqual(['ES256']);
    expect(meta.client_attestation_pop_signing_alg_values_supported).toEqual(['ES256']);
    expect(meta.challenge_endpoint).toBe(`${h.url}/challenge`);
  });

  it('authenticates PAR and the authorization code token request; the token response carries a usable c_nonce', async () => {
    const wallet = await walletInstance();
    const code = pkce();
    const pushed = await form('/par', par(code), await headers(wallet));
    expect(pushed.status, JSON.stringify(pushed.body)).toBe(201);

    const browser = new Browser(new URL(h.url).origin);
    const start = await browser.fetch(
      `${h.url}/authorize?${new URLSearchParams({ client_id: CLIENT_ID, request_uri: pushed.body.request_uri })}`,
    );
    expect(start.location, start.text).toBeTruthy();
    const authorizationCode = await walletLogin(h, browser, start.location!);

    const tokenForm = {
      grant_type: 'authorization_code',
      code: authorizationCode,
      code_verifier: code.verifier,
      redirect_uri: REDIRECT_URI,
    };
    const unauthenticated = await form('/token', { ...tokenForm, client_id: CLIENT_ID });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.body).toMatchObject(INVALID_CLIENT);

    const token = await form('/token', tokenForm, await headers(wallet));
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    // The authorization request named a scope, not authorization_details: no credential_identifiers.
    expect(token.body.authorization_details).toBeUndefined();
    expect(token.body.c_nonce_expires_in).toBeGreaterThan(0);

    const key = await holderKey();
    const credential = await h.post(
      '/credential',
      {
        credential_configuration_id: 'AgeCredential_ldp_vc',
        proofs: { jwt: [await proofJwt(key, h.url, token.body.c_nonce)] },
      },
      { authorization: `Bearer ${token.body.access_token}` },
    );
    expect(credential.status, credential.text).toBe(200);
  });

  it('authenticates the pre-authorized grant; the PoP jti is single use', async () => {
    const wallet = await walletInstance();
    const sent = await headers(wallet);
    const token = await form('/token', await preAuthorized(), sent);
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    expect(token.body.c_nonce).toBeTruthy();
    // The token request named no authorization_details: none come back (EUDI then asks by configuration).
    expect(token.body.authorization_details).toBeUndefined();

    // Draft §5.2 / §12: a PoP is used once.
    const replay = await form('/token', await preAuthorized(), sent);
    expect(replay.status).toBe(401);
    expect(replay.body).toMatchObject(INVALID_CLIENT);
  });

  it('answers use_attestation_challenge with a challenge when the PoP has none, then accepts the retry', async () => {
    const wallet = await walletInstance();
    const grant = await preAuthorized();
    const first = await form('/token', grant, await headers(wallet, { claims: { challenge: undefined } }));
    expect(first.status).toBe(400);
    expect(first.body.error).toBe('use_attestation_challenge');
    expect(first.headers['oauth-client-attestation-challenge']).toBeTruthy();
    const second = await form('/token', grant, await headers(wallet));
    expect(second.status, JSON.stringify(second.body)).toBe(200);
  });

  it("ties an attested pre-authorized token to its client: the anonymous leniencies are not that client's", async () => {
    const token = await form('/token', await preAuthorized(), await headers(await walletInstance()));
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    // walt.id's header shape (kid beside jwk): allowed for anonymous tokens in this deployment only.
    const proof = await proofJwt(await holderKey(), h.url, token.body.c_nonce, { header: { kid: 'k-1' } });
    const credential = await h.post(
      '/credential',
      { credential_configuration_id: 'AgeCredential_ldp_vc', proofs: { jwt: [proof] } },
      { authorization: `Bearer ${token.body.access_token}` },
    );
    expect(credential.status, credential.text).toBe(400);
    expect(credential.body.error).toBe('invalid_proof');
  });

  it('returns credential_identifiers only when the token request carried authorization_details', async () => {
    const wallet = await walletInstance();
    const details = [{ type: 'openid_credential', credential_configuration_id: 'AgeCredential_ldp_vc' }];
    const token = await form(
      '/token',
      { ...(await preAuthorized()), authorization_details: JSON.stringify(details) },
      await headers(wallet),
    );
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    expect(token.body.authorization_details).toEqual([
      { ...details[0], credential_identifiers: ['AgeCredential_ldp_vc'] },
    ]);
  });

  it('refuses authorization_details for a configuration that was not offered before the code is used', async () => {
    const grant = await preAuthorized();
    const notOffered = [
      { type: 'openid_credential', credential_configuration_id: 'NationalIdCredential_ldp_vc' },
    ];
    const refused = await form(
      '/token',
      { ...grant, authorization_details: JSON.stringify(notOffered) },
      await headers(await walletInstance()),
    );
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_authorization_details');
    // Validation comes before the single-use write: the same code still redeems once.
    const redeemed = await form('/token', grant, await headers(await walletInstance()));
    expect(redeemed.status, JSON.stringify(redeemed.body)).toBe(200);
  });

  describe('each failure is 401 invalid_client, at PAR, the code token request and the pre-authorized grant', () => {
    const other = async () =>
      (await generateKeyPair('ES256', { extractable: true })).privateKey as SigningKey;
    const cases: [string, () => Promise<Record<string, string>>][] = [
      [
        'attestation signed by an untrusted key',
        async () => headers(await walletInstance({ key: await other() })),
      ],
      [
        'attestation with an unknown kid',
        async () => headers(await walletInstance({ header: { kid: 'someone-else' } })),
      ],
      [
        'expired attestation',
        async () => {
          const past = Math.floor(h.app.clock.now() / 1000) - 7200;
          return headers(await walletInstance({ claims: { iat: past, exp: past + 60 } }));
        },
      ],
      ['attestation without sub', async () => headers(await walletInstance({ claims: { sub: undefined } }))],
      [
        'attestation with the wrong typ',
        async () => headers(await walletInstance({ header: { typ: 'JWT' } })),
      ],
      [
        'PoP signed by a key other than cnf.jwk',
        async () => headers(await walletInstance(), { signer: await other() }),
      ],
      [
        'PoP with the wrong aud',
        async () => headers(await walletInstance(), { claims: { aud: 'https://elsewhere.example' } }),
      ],
      ['PoP without jti', async () => headers(await walletInstance(), { claims: { jti: undefined } })],
      // The checks oidc-provider leaves to our hook (src/oidc/client-attestation.ts
      // assertAttestationClaims): an attestation naming no issuer, a PoP older than the window.
      ['attestation without iss', async () => headers(await walletInstance({ claims: { iss: undefined } }))],
      [
        'PoP issued more than 300 s ago',
        async () => {
          const old = Math.floor(h.app.clock.now() / 1000) - 600;
          return headers(await walletInstance(), { claims: { iat: old, nbf: old } });
        },
      ],
      // The OIDF modules change the signature bytes of a correctly built JWT.
      [
        'attestation with a changed signature',
        async () => {
          const sent = await headers(await walletInstance());
          return { ...sent, 'oauth-client-attestation': tamper(sent['oauth-client-attestation']!) };
        },
      ],
      [
        'PoP with a changed signature',
        async () => {
          const sent = await headers(await walletInstance());
          return { ...sent, 'oauth-client-attestation-pop': tamper(sent['oauth-client-attestation-pop']!) };
        },
      ],
      ['PoP with the wrong typ', async () => headers(await walletInstance(), { header: { typ: 'JWT' } })],
      [
        'PoP header missing',
        async () => {
          const { 'oauth-client-attestation': attestation } = await headers(await walletInstance());
          return { 'oauth-client-attestation': attestation! };
        },
      ],
      [
        'attestation header missing',
        async () => {
          const { 'oauth-client-attestation-pop': pop } = await headers(await walletInstance());
          return { 'oauth-client-attestation-pop': pop! };
        },
      ],
    ];
    for (const [name, build] of cases) {
      it(name, async () => {
        const atPar = await form('/par', par(pkce()), await build());
        expect(atPar.status, JSON.stringify(atPar.body)).toBe(401);
        expect(atPar.body).toMatchObject(INVALID_CLIENT);
        const atPreAuthorized = await form('/token', await preAuthorized(), await build());
        expect(atPreAuthorized.status, JSON.stringify(atPreAuthorized.body)).toBe(401);
        expect(atPreAuthorized.body).toMatchObject(INVALID_CLIENT);
      });
    }
  });
});
