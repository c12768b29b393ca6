import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holderKey, preAuthorizedCode, proofJwt, startVci, type VciHarness } from './harness.ts';

/**
 * The HAIP switch (config `profile: 'haip'`, src/oidc/haip.ts): OpenID4VC High Assurance
 * Interoperability Profile 1.0 for the issuer. PAR and DPoP required, wallet attestation required
 * (the pre-authorized grant included), ES256 only, SD-JWT VC and mdoc configurations only, signed
 * metadata. Over real HTTP: what discovery and the issuer metadata show, and what is refused.
 */

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
const CLIENT_ID = 'haip-wallet';

describe('HAIP profile switch', () => {
  let h: VciHarness;
  let walletProvider: PrivateKey;

  const json = async (path: string) =>
    (await request(`${h.url}${path}`).then((r) => r.body.json())) as Record<string, any>;

  /** A DPoP key (RFC 9449 §4.2) of `alg`; `proof` signs for the token endpoint or, with `ath`, a resource. */
  const dpopKey = async (alg: 'ES256' | 'EdDSA' = 'ES256') => {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const jwk = await exportJWK(publicKey);
    return (htu = `${h.url}/token`, accessToken?: string) =>
      new SignJWT({
        htm: 'POST',
        htu,
        jti: randomUUID(),
        ...(accessToken ? { ath: createHash('sha256').update(accessToken).digest('base64url') } : {}),
      })
        .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk })
        .setIssuedAt(Math.floor(h.app.clock.now() / 1000))
        .sign(privateKey);
  };
  const dpop = async (alg: 'ES256' | 'EdDSA' = 'ES256') => (await dpopKey(alg))();

  /** Client Attestation and PoP, as in test/protocol/oidc/client-attestation.test.ts. */
  const attestation = async () => {
    const instance = await generateKeyPair('ES256', { extractable: true });
    const now = Math.floor(h.app.clock.now() / 1000);
    const cnf: JWK = await exportJWK(instance.publicKey);
    const jwt = await new SignJWT({ sub: CLIENT_ID, exp: now + 600, iat: now, cnf: { jwk: cnf } })
      .setIssuer('https://wallet-provider.example.org')
      .setProtectedHeader({ alg: 'ES256', typ: 'oauth-client-attestation+jwt', kid: 'wp' })
      .sign(walletProvider);
    const challenge = await request(`${h.url}/challenge`, { method: 'POST' }).then(
      (r) => r.headers['oauth-client-attestation-challenge'] as string,
    );
    const pop = await new SignJWT({ iss: CLIENT_ID, aud: h.url, jti: randomUUID(), iat: now, challenge })
      .setProtectedHeader({ alg: 'ES256', typ: 'oauth-client-attestation-pop+jwt' })
      .sign(instance.privateKey);
    return { 'oauth-client-attestation': jwt, 'oauth-client-attestation-pop': pop };
  };

  const token = async (code: string, headers: Record<string, string>) => {
    const res = await request(`${h.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code',
        'pre-authorized_code': code,
      }).toString(),
    });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, any> };
  };

  const offer = async () => {
    const who = await h.person();
    return preAuthorizedCode(await h.offer(['AgeCredential_sd_jwt'], who.individualId));
  };

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    walletProvider = pair.privateKey;
    const trusted = { ...(await exportJWK(pair.publicKey)), kid: 'wp', alg: 'ES256' };
    h = await startVci({
      overrides: { profile: 'haip', oidc: { clientAttestation: { trustedJwks: [trusted] } } },
    });
    const registered = await h.admin('POST', '/clients', {
      client_id: CLIENT_ID,
      redirect_uris: ['https://wallet.example.org/cb'],
      token_endpoint_auth_method: 'attest_jwt_client_auth',
      allowed_claims: ['birthdate'],
    });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
  });
  afterAll(() => h.stop());

  it('shows the profile in discovery and the issuer metadata', async () => {
    const as = await json('/.well-known/openid-configuration');
    expect(as.require_pushed_authorization_requests).toBe(true);
    expect(as.token_endpoint_auth_methods_supported).toContain('attest_jwt_client_auth');
    expect(as.token_endpoint_auth_methods_supported).not.toContain('none');
    expect(as.dpop_signing_alg_values_supported).toEqual(['ES256']);
    expect(as.client_attestation_pop_signing_alg_values_supported).toEqual(['ES256']);

    const issuer = await json('/.well-known/openid-credential-issuer');
    const configurations = Object.values(issuer.credential_configurations_supported) as Record<string, any>[];
    expect(configurations.length).toBeGreaterThan(0);
    for (const c of configurations) expect(['dc+sd-jwt', 'mso_mdoc']).toContain(c.format);
    expect(issuer.credential_configurations_supported.AgeCredential_ldp_vc).toBeUndefined();
    expect(issuer.signed_metadata).toEqual(expect.any(String));
  });

  it('refuses a token request without DPoP, with a non-ES256 DPoP proof, and without wallet attestation', async () => {
    const code = await offer();
    const noDpop = await token(code, await attestation());
    expect(noDpop.status).toBe(400);
    expect(noDpop.body).toMatchObject({
      error: 'invalid_dpop_proof',
      error_description: 'a DPoP proof is required',
    });

    const eddsa = await token(code, { dpop: await dpop('EdDSA'), ...(await attestation()) });
    expect(eddsa.status).toBe(400);
    expect(eddsa.body.error).toBe('invalid_dpop_proof');

    const noAttestation = await token(code, { dpop: await dpop() });
    expect(noAttestation.status).toBe(401);
    expect(noAttestation.body.error).toBe('invalid_client');

    // The code was not spent by any refusal: with DPoP and attestation it is redeemed.
    const issued = await token(code, { dpop: await dpop(), ...(await attestation()) });
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    expect(issued.body.token_type).toBe('DPoP');
  });

  it('refuses a PAR without wallet attestation (PAR itself is required)', async () => {
    const res = await request(`${h.url}/par`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: CLIENT_ID,
        response_type: 'code',
        redirect_uri: 'https://wallet.example.org/cb',
        scope: 'proof_of_age',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      }).toString(),
    });
    expect(res.statusCode).toBe(401);
    expect(((await res.body.json()) as Record<string, unknown>).error).toBe('invalid_client');
  });

  it('refuses a credential request for an ldp_vc configuration, and issues the SD-JWT VC', async () => {
    const key = await holderKey();
    const proof = await dpopKey();
    const issued = await token(await offer(), { dpop: await proof(), ...(await attestation()) });
    expect(issued.status).toBe(200);
    const accessToken = issued.body.access_token as string;
    const credential = async (id: string) =>
      h.post(
        '/credential',
        { credential_configuration_id: id, proofs: { jwt: [await proofJwt(key, h.url, await h.nonce())] } },
        { authorization: `DPoP ${accessToken}`, dpop: await proof(`${h.url}/credential`, accessToken) },
      );
    const refused = await credential('AgeCredential_ldp_vc');
    expect(refused.status, refused.text).toBe(400);
    expect(refused.body.error).toBe('unknown_credential_configuration');
    const sdJwt = await credential('AgeCredential_sd_jwt');
    expect(sdJwt.status, sdJwt.text).toBe(200);
  });
});
