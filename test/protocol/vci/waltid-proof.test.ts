import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load.ts';
import { type HolderKey, holderKey, preAuthorizedCode, startVci, type VciHarness } from './harness.ts';

/**
 * walt.id's key proofs carry both `kid` and `jwk`, which OpenID4VCI 1.0 Appendix F.1 forbids
 * ("It MUST NOT be present if jwk or x5c is present"). Accepted only under the per-client leniency
 * `proof_kid_with_jwk` (src/oidc/clients.ts), or, for tokens issued to no client, the deployment's
 * vci.anonymousClientLeniencies; refused as invalid_proof otherwise.
 *
 * Replayed from walt-id/waltid-identity at b19fda24510c7543f3c3dcad1daf2d77f4a168d1:
 * - waltid-libraries/protocols/waltid-openid4vc/src/commonMain/kotlin/id/walt/oid4vc/
 *   data/ProofOfPossession.kt:87-93: header `typ` openid4vci-proof+jwt, then `kid` and `jwk` (and
 *   `alg`, added when signing); :95-107: payload iss/sub only with a client, `jti`, `aud` = issuer,
 *   `iat`, `exp` = iat + 300, `nonce`;
 * - providers/OpenIDCredentialWallet.kt:134-142 (generateKeyProof): `keyJwk` = the exported public
 *   key, `keyId` = key.getKeyId(), which for a JWK key is its kid or RFC 7638 thumbprint
 *   (waltid-libraries/crypto/waltid-crypto/src/jvmAndroidMain/kotlin/id/walt/crypto/keys/jwk/JWKKey.jvm.kt:444);
 * - waltid-services/waltid-wallet-api/src/main/kotlin/id/walt/webwallet/service/exchange/
 *   IssuanceService.kt:110-124: the pre-authorized token request has no client_id (an anonymous
 *   token); :141: the proof nonce is the token response's `c_nonce`; :153-161 with
 *   IssuanceServiceBase.kt:137-142: a key proof (kid + jwk) whenever the binding methods list `jwk`
 *   and not the bare string "did"; ProofOfPossessionFactory.kt:42-59: no client for key proofs;
 * - requests/CredentialRequest.kt:53-64: the request is draft-13 shaped, `format` + `vct` + `proof`.
 */

const SD_JWT_AGE = 'AgeCredential_sd_jwt';

/** ProofOfPossession.kt:87-107, as generateKeyProof builds it (no client: no iss, no sub). */
async function waltIdProof(key: HolderKey, issuer: string, nonce: string, now: number, kid?: string) {
  const keyId = kid ?? (await calculateJwkThumbprint(key.jwk));
  const jwk: JWK = { ...key.jwk, kid: keyId };
  return new SignJWT({ jti: crypto.randomUUID(), aud: issuer, iat: now, exp: now + 300, nonce })
    .setProtectedHeader({ typ: 'openid4vci-proof+jwt', kid: keyId, jwk, alg: key.alg })
    .sign(key.privateKey);
}

async function startWithWaltIdClient(overrides?: Record<string, unknown>) {
  const h = await startVci(overrides ? { overrides } : {});
  for (const [client_id, leniencies] of [
    ['waltid-wallet', ['proof_kid_with_jwk']],
    ['strict-wallet', []],
  ] as const) {
    const res = await h.admin('POST', '/clients', {
      client_id,
      client_name: client_id,
      redirect_uris: ['https://wallet.example.org/cb'],
      token_endpoint_auth_method: 'none',
      ...(leniencies.length ? { leniencies } : {}),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  return h;
}

describe('walt.id jwt proofs with both kid and jwk (leniency proof_kid_with_jwk)', () => {
  let h: VciHarness;
  let accountId: string;
  let vct: string;
  const now = () => Math.floor(h.app.clock.now() / 1000);

  beforeAll(async () => {
    h = await startWithWaltIdClient();
    accountId = (await h.person()).accountId;
    const metadata = (await (await fetch(`${h.url}/.well-known/openid-credential-issuer`)).json()) as any;
    vct = metadata.credential_configurations_supported[SD_JWT_AGE].vct;
  });
  afterAll(() => h.stop());

  /** CredentialRequest.kt:53-64: {format, proof, vct}. */
  const ask = async (token: string, proof: string) =>
    h.post(
      '/credential',
      { format: 'dc+sd-jwt', vct, proof: { proof_type: 'jwt', jwt: proof } },
      { authorization: `Bearer ${token}` },
    );
  const tokenFor = (clientId?: string) =>
    h.mintToken({
      accountId,
      ...(clientId ? { clientId } : {}),
      credentialConfigurationIds: [SD_JWT_AGE],
      consentedClaims: ['birthdate'],
    });
  const BOTH = {
    error: 'invalid_proof',
    error_description: 'the proof header must carry exactly one of kid, jwk and x5c',
  };

  it('binds the credential to the jwk for a client registered with the leniency', async () => {
    const key = await holderKey();
    const res = await ask(tokenFor('waltid-wallet'), await waltIdProof(key, h.url, await h.nonce(), now()));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const sdJwt: string = res.body.credential;
    const payload = JSON.parse(Buffer.from(sdJwt.split('~')[0]!.split('.')[1]!, 'base64url').toString());
    expect(payload.cnf.jwk).toMatchObject({ kty: 'EC', crv: 'P-256', x: key.jwk.x, y: key.jwk.y });
  });

  it('refuses it as invalid_proof for a client without the leniency and for an anonymous token', async () => {
    for (const token of [tokenFor('strict-wallet'), tokenFor()]) {
      const res = await ask(token, await waltIdProof(await holderKey(), h.url, await h.nonce(), now()));
      expect(res.status).toBe(400);
      // Draft 13 §7.3.2: invalid_proof with a fresh c_nonce to retry with.
      expect(res.body).toEqual({ ...BOTH, c_nonce: expect.any(String), c_nonce_expires_in: 300 });
    }
  });

  it('still refuses a DID URL kid beside a jwk under the leniency (two keys named)', async () => {
    const key = await holderKey();
    const didKid = `${key.did}#${key.did.slice('did:key:'.length)}`;
    const res = await ask(
      tokenFor('waltid-wallet'),
      await waltIdProof(key, h.url, await h.nonce(), now(), didKid),
    );
    expect(res.body).toMatchObject(BOTH);
  });
});

describe('walt.id pre-authorized flow with vci.anonymousClientLeniencies', () => {
  let h: VciHarness;
  afterAll(() => h.stop());

  it('issues to an anonymous walt.id wallet proving with the token response c_nonce', async () => {
    h = await startWithWaltIdClient({ vci: { anonymousClientLeniencies: ['proof_kid_with_jwk'] } });
    const who = await h.person();
    const metadata = (await (await fetch(`${h.url}/.well-known/openid-credential-issuer`)).json()) as any;
    // IssuanceService.kt:110-124: grant_type and pre-authorized_code only (no client_id).
    const token = await h.token(preAuthorizedCode(await h.offer([SD_JWT_AGE], who.individualId)));
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    // IssuanceService.kt:141: the proof nonce is the token response's c_nonce, a normal c_nonce.
    expect(token.body.c_nonce).toEqual(expect.any(String));
    const now = Math.floor(h.app.clock.now() / 1000);
    const key = await holderKey();
    const res = await h.post(
      '/credential',
      {
        format: 'dc+sd-jwt',
        vct: metadata.credential_configurations_supported[SD_JWT_AGE].vct,
        proof: { proof_type: 'jwt', jwt: await waltIdProof(key, h.url, token.body.c_nonce, now) },
      },
      { authorization: `Bearer ${token.body.access_token}` },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.credential).toEqual(expect.any(String));
    // The token response's c_nonce is single use like any other (§7.2, SECURITY.md c_nonce row);
    // draft 13 §7.3.2 names a spent nonce invalid_proof and hands a fresh one.
    const again = await h.post(
      '/credential',
      {
        format: 'dc+sd-jwt',
        vct: metadata.credential_configurations_supported[SD_JWT_AGE].vct,
        proof: {
          proof_type: 'jwt',
          jwt: await waltIdProof(await holderKey(), h.url, token.body.c_nonce, now),
        },
      },
      { authorization: `Bearer ${token.body.access_token}` },
    );
    expect(again.body).toEqual({
      error: 'invalid_proof',
      error_description: 'the c_nonce is unknown, expired or already used',
      c_nonce: expect.any(String),
      c_nonce_expires_in: 300,
    });
  });
});

describe('vci.anonymousClientLeniencies', () => {
  it('takes only the credential endpoint leniency, refused at start otherwise with its path', () => {
    const load = (leniencies: string[]) => {
      const file = join(mkdtempSync(join(tmpdir(), 'leniencies-')), 'config.json');
      writeFileSync(file, JSON.stringify({ vci: { anonymousClientLeniencies: leniencies } }));
      return loadConfig({ env: { CONFIG_FILE: file, KEY_ENCRYPTION_SECRET: 'k'.repeat(40) } });
    };
    expect(load(['proof_kid_with_jwk']).vci.anonymousClientLeniencies).toEqual(['proof_kid_with_jwk']);
    // nonce_without_openid is a client leniency of the authorization endpoint: meaningless without a client.
    let problems: string[] = [];
    try {
      load(['nonce_without_openid']);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      problems = (error as ConfigError).problems;
    }
    expect(problems).toEqual([
      'vci.anonymousClientLeniencies: must be an array of credential-endpoint leniencies: proof_kid_with_jwk',
    ]);
  });
});
