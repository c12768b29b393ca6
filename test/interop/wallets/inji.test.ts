import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../../protocol/oidc/helpers.ts';
import {
  type HolderKey,
  holderKey,
  preAuthorizedCode,
  startVci,
  type VciHarness,
} from '../../protocol/vci/harness.ts';
import { verifyLdpVc } from '../verifiers.ts';
import { checkMdoc, form, loginInBrowser, send } from './common.ts';

/**
 * MOSIP Inji Wallet, replayed request by request as its sources build them:
 * - inji-vci-client branch release-0.4.x 8ef3fb03abe100b8afb5d9fab9aadda6d1c4ab86 (the offer flow and
 *   the authorization-code flow of the library the current wallet builds on);
 *   C4 = kotlin/vci-client/src/main/java/io/mosip/vciclient at that commit;
 * - inji-wallet v0.16.0 213d22d2b14123d4eb5fd1bc0dde890949e2433a, which ships inji-vci-client 0.2.0
 *   (android/app/build.gradle:274; C2 = the same path at tag v0.2.0 of inji-vci-client) and signs
 *   in with react-native-app-auth v7.2.0 (8f033cb4; package.json:70 "^7.0.0").
 * The service is the issuer and its own authorization server; the wallet's client is registered
 * with exactly the leniencies it needs (src/oidc/clients.ts CLIENT_LENIENCIES), and each flow is
 * shown failing without that leniency, the way it fails today.
 */

// mosip/mimoto 784d67e src/main/resources/mimoto-issuers-config.json:22 (the wallet's issuer entry);
// inji-wallet android/app/build.gradle:120 appAuthRedirectScheme io.mosip.residentapp.inji.
const REDIRECT_URI = 'io.mosip.residentapp.inji://oauthredirect';
const PRE_AUTHORIZED = 'urn:ietf:params:oauth:grant-type:pre-authorized_code';

/**
 * C4/issuerMetadata/IssuerMetadataService.kt:68-121: the configuration is read from the raw map;
 * credential_endpoint and credential_issuer must be strings; scope defaults to "openid"; mso_mdoc
 * needs doctype and takes `claims` as a map; ldp_vc takes credential_definition.type/@context as
 * string lists; any other format is refused. Inji's storage then deserializes the answer with Gson.
 */
function injiResolve(metadata: any, configurationId: string) {
  expect(metadata.credential_configurations_supported).toBeTypeOf('object');
  const c = metadata.credential_configurations_supported[configurationId];
  expect(c, configurationId).toBeTypeOf('object');
  expect(metadata.credential_endpoint).toBeTypeOf('string');
  expect(metadata.credential_issuer).toBeTypeOf('string');
  expect(['mso_mdoc', 'ldp_vc']).toContain(c.format);
  if (c.format === 'mso_mdoc') {
    expect(c.doctype).toBeTypeOf('string');
    if (c.claims !== undefined) expect(c.claims).toBeTypeOf('object');
  } else {
    const definition = c.credential_definition ?? {};
    expect(definition.type.every((t: unknown) => typeof t === 'string')).toBe(true);
    expect(definition['@context'].every((t: unknown) => typeof t === 'string')).toBe(true);
  }
  return {
    format: c.format as 'mso_mdoc' | 'ldp_vc',
    scope: (c.scope as string | undefined) ?? 'openid',
    doctype: c.doctype as string | undefined,
    claims: c.claims as Record<string, unknown> | undefined,
    types: c.credential_definition?.type as string[] | undefined,
    context: c.credential_definition?.['@context'] as string[] | undefined,
    authorizationServers: metadata.authorization_servers as string[] | undefined,
  };
}

/**
 * C4/authorizationServer/AuthorizationServerResolver.kt:35-83 and AuthorizationServerDiscoveryService.kt:23-56:
 * with one authorization server, its /.well-known/oauth-authorization-server (then
 * openid-configuration); its issuer must be that URL; for the authorization-code flow
 * grant_types_supported (default authorization_code, implicit) must list it and an
 * authorization_endpoint must be there.
 */
async function injiAuthorizationServer(servers: string[] | undefined, issuer: string, grant: string) {
  const base = servers?.length === 1 ? servers[0]! : issuer;
  const res = await send(`${base}/.well-known/oauth-authorization-server`);
  expect(res.status).toBe(200);
  expect(res.json.issuer).toBe(base);
  if (grant === 'authorization_code') {
    expect(res.json.grant_types_supported ?? ['authorization_code', 'implicit']).toContain(grant);
    expect(res.json.authorization_endpoint).toEqual(expect.any(String));
  }
  expect(res.json.token_endpoint).toEqual(expect.any(String));
  return res.json;
}

/**
 * The proof JWT as inji-wallet builds it (shared/openId4VCI/Utils.ts:264-292 constructProofJWT):
 * header alg, jwk (with alg and use sig, :294-326), typ openid4vci-proof+jwt; payload iss = the
 * wallet's client_id, nonce, aud = credential_audience (the issuer's credential_issuer,
 * machines/Issuers/IssuersActions.ts:241-249), iat, exp = iat + 18000. With inji-vci-client 0.4 the
 * nonce is the one the library hands the callback (C4/constants/CallbackTypes.kt:9, the token
 * response's c_nonce); in v0.16.0 it is decoded out of the access token (Utils.ts:276-279).
 */
function injiProof(key: HolderKey, clientId: string, nonce: string, audience: string, now: number) {
  return new SignJWT({ iss: clientId, nonce, aud: audience, iat: now, exp: now + 18000 })
    .setProtectedHeader({
      alg: 'ES256',
      jwk: { ...key.jwk, alg: 'ES256', use: 'sig' },
      typ: 'openid4vci-proof+jwt',
    })
    .sign(key.privateKey);
}

/**
 * The credential request (JSON, Authorization: Bearer; Gson with LOWER_CASE_WITH_UNDERSCORES,
 * C4/common/JsonUtils.kt:13-16, so the JWTProof is {proof_type, jwt}, C4/proof/jwt/JWTProof.kt:18-26):
 * - ldp_vc: {format, credential_definition {@context, type}, proof}; 0.4 takes @context from the
 *   metadata (C4/credential/request/types/LdpVcCredentialRequest.kt:37-49), 0.2 always sends
 *   ["https://www.w3.org/2018/credentials/v1"] (C2/credentialRequest/types/LdpVcCredentialRequest.kt:36-61);
 * - mso_mdoc: {format, doctype, claims (the configuration's claims map), proof}
 *   (C4/credential/request/types/MsoMdocCredentialRequest.kt:35-56; C2 the same, claims required :27-35).
 */
function injiCredentialRequest(
  resolved: ReturnType<typeof injiResolve>,
  jwt: string,
  version: '0.4' | '0.2',
): Record<string, unknown> {
  const proof = { proof_type: 'jwt', jwt };
  if (resolved.format === 'mso_mdoc')
    return { format: 'mso_mdoc', doctype: resolved.doctype, claims: resolved.claims, proof };
  const context =
    version === '0.2'
      ? ['https://www.w3.org/2018/credentials/v1']
      : (resolved.context ?? ['https://www.w3.org/2018/credentials/v1']);
  return { format: 'ldp_vc', credential_definition: { '@context': context, type: resolved.types }, proof };
}

/**
 * The answer as each reads it: a 200 whose body is JSON (C4/credential/request/CredentialRequestExecutor.kt:49-69:
 * CredentialResponse {credential: JsonElement}). inji-vci-client 0.2 reads an mdoc as
 * {credential: String} (C2/credentialResponse/types/msoMdocVc/MsoMdocVcCredentialResponse.kt:6-8) and an
 * ldp_vc with Gson into Credential (C2/credentialResponse/types/ldpVc/LdpVcCredentialResponse.kt:28-53):
 * id and issuer strings, type and @context arrays, credentialSubject an object, proof one object.
 */
function injiReadsAnswer(res: { status: number; text: string; json: any }, format: string) {
  expect(res.status, res.text).toBe(200);
  const credential = res.json?.credential;
  if (format === 'mso_mdoc') {
    expect(credential).toBeTypeOf('string');
    return credential as string;
  }
  expect(credential).toBeTypeOf('object');
  if (credential.id !== undefined) expect(credential.id).toBeTypeOf('string');
  expect(credential.issuer).toBeTypeOf('string');
  expect(Array.isArray(credential.type)).toBe(true);
  expect(Array.isArray(credential['@context'])).toBe(true);
  expect(credential.credentialSubject).toBeTypeOf('object');
  expect(credential.proof).toBeTypeOf('object');
  expect(Array.isArray(credential.proof)).toBe(false);
  expect(credential.proof.type).toEqual(expect.any(String));
  expect(credential.proof.verificationMethod).toEqual(expect.any(String));
  return credential as Record<string, any>;
}

describe('Inji Wallet (inji-vci-client 0.4 and inji-wallet v0.16.0 with inji-vci-client 0.2)', () => {
  let h: VciHarness;
  let metadata: any;
  const now = () => Math.floor(h.app.clock.now() / 1000);

  const register = async (clientId: string, leniencies: string[]) => {
    const res = await h.admin('POST', '/clients', {
      client_id: clientId,
      client_name: 'Inji Wallet',
      // A custom-scheme redirect: a native application (OpenID Connect Registration §2).
      application_type: 'native',
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: 'none',
      allowed_claims: ['given_name', 'family_name', 'name', 'birthdate', 'gender', 'address'],
      ...(leniencies.length ? { leniencies } : {}),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  };

  beforeAll(async () => {
    h = await startVci();
    // inji-vci-client 0.4's authorization-code flow: nonce without openid, padded PKCE verifier.
    await register('inji-04', ['nonce_without_openid', 'padded_pkce_verifier']);
    await register('inji-04-no-nonce-leniency', ['padded_pkce_verifier']);
    await register('inji-04-no-pkce-leniency', ['nonce_without_openid']);
    // inji-wallet v0.16.0: nonce without openid (AppAuth), c_nonce inside a JWT access token.
    await register('inji-016', ['nonce_without_openid', 'jwt_access_token_c_nonce']);
    await register('inji-016-no-jwt-leniency', ['nonce_without_openid']);
    // C4/issuerMetadata/IssuerMetadataService.kt:45-66: GET <issuer>/.well-known/openid-credential-issuer.
    const res = await send(`${h.url}/.well-known/openid-credential-issuer`);
    expect(res.status).toBe(200);
    metadata = res.json;
  });
  afterAll(() => h?.stop());

  /** The credential request (injiCredentialRequest), its answer read and the credential checked. */
  async function receive(
    resolved: ReturnType<typeof injiResolve>,
    accessToken: string,
    jwt: string,
    version: '0.4' | '0.2',
    configurationId: string,
    holder: HolderKey,
  ) {
    const res = await send(metadata.credential_endpoint, {
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(injiCredentialRequest(resolved, jwt, version)),
    });
    await checkCredential(injiReadsAnswer(res, resolved.format), configurationId, holder);
  }

  async function checkCredential(credential: unknown, configurationId: string, holder: HolderKey) {
    const c = metadata.credential_configurations_supported[configurationId];
    if (c.format === 'mso_mdoc') {
      checkMdoc(credential, c.doctype, holder.jwk);
      return;
    }
    const vc = credential as Record<string, any>;
    expect(vc.type).toEqual(c.credential_definition.type);
    if (vc.proof.type === 'DataIntegrityProof') {
      const verified = await verifyLdpVc(vc, h.url, new Date(h.app.clock.now()));
      expect(verified.verified, String(verified.error)).toBe(true);
    } else {
      // The VCDM 1.1 Ed25519Signature2020 credential: verified under MOSIP's verifier rules in
      // test/interop/mosip-verifier.test.ts; here, what Inji's storage reads.
      expect(vc.proof.type).toBe('Ed25519Signature2020');
      expect(vc['@context']).toContain('https://www.w3.org/2018/credentials/v1');
    }
  }

  describe('offer flow (pre-authorized code, inji-vci-client 0.4)', () => {
    it.each(['NationalIdCredential_ldp_vc', 'NationalIdCredential_mso_mdoc'])(
      '%s',
      async (configurationId) => {
        const who = await h.person();
        const offer = await h.offer([configurationId], who.individualId);
        // C4/credentialOffer/CredentialOfferService.kt:45-51 with CredentialOffer.kt:5-36: the offer by
        // value, credential_issuer, credential_configuration_ids, the pre-authorized grant.
        const credentialOffer = offer.credential_offer;
        expect(credentialOffer.credential_issuer).toBe(h.url);
        expect(credentialOffer.credential_configuration_ids).toEqual([configurationId]);
        const code = preAuthorizedCode(offer);
        expect(credentialOffer.grants[PRE_AUTHORIZED].tx_code).toBeUndefined();

        const resolved = injiResolve(metadata, configurationId);
        // C4/preAuthCodeFlow/PreAuthCodeFlowService.kt:28-34: the token endpoint from the AS metadata.
        const as = await injiAuthorizationServer(
          resolved.authorizationServers,
          metadata.credential_issuer,
          PRE_AUTHORIZED,
        );
        // :48-53 with C4/token/TokenService.kt:9-20 and TokenRequest.kt:5-14: grant_type and
        // pre-authorized_code (no client, no tx_code here), posted as a form by the app's callback.
        const token = await send(as.token_endpoint, {
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form({ grant_type: PRE_AUTHORIZED, 'pre-authorized_code': code }),
        });
        expect(token.status, token.text).toBe(200);
        // C4/token/TokenResponse.kt:5-20: access_token and token_type required, c_nonce read.
        expect(token.json.access_token).toEqual(expect.any(String));
        expect(token.json.token_type).toEqual(expect.any(String));
        expect(token.json.c_nonce, 'c_nonce in the token response').toEqual(expect.any(String));

        // :55-69: the proof with the token response's c_nonce; the credential request.
        const holder = await holderKey();
        const jwt = await injiProof(holder, 'inji-04', token.json.c_nonce, metadata.credential_issuer, now());
        await receive(resolved, token.json.access_token, jwt, '0.4', configurationId, holder);
      },
    );
  });

  /** A PKCE pair as C4/pkce/PKCESessionManager.kt:30-41 makes it: okio base64Url() of 64 random bytes keeps `==`. */
  const paddedPkce = () => {
    const verifier = randomBytes(64).toString('base64').replaceAll('+', '-').replaceAll('/', '_');
    return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
  };

  /**
   * The authorization URL of C4/authorizationServer/AuthorizationUrlBuilder.kt:8-30 (a plain GET, no
   * PAR): client_id, redirect_uri, response_type=code, scope (the configuration's scope only:
   * AuthorizationCodeFlowService.kt:91-99), state, code_challenge, code_challenge_method=S256, nonce.
   */
  const injiAuthorizationUrl = (as: any, clientId: string, scope: string, challenge: string) =>
    `${as.authorization_endpoint}?${form({
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      scope,
      state: randomBytes(16).toString('hex'),
      code_challenge: challenge,
      code_challenge_method: 'S256',
      nonce: randomBytes(16).toString('hex'),
    })}`;

  /** C4/token/TokenService.kt:22-37: grant_type, code, client_id, redirect_uri, code_verifier. */
  const codeToken = (as: any, clientId: string, code: string, verifier: string) =>
    send(as.token_endpoint, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({
        grant_type: 'authorization_code',
        code,
        client_id: clientId,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
      }),
    });

  describe('authorization-code flow (inji-vci-client 0.4)', () => {
    it.each(['NationalIdCredential_ldp_vc', 'NationalIdCredential_mso_mdoc'])(
      '%s',
      async (configurationId) => {
        const resolved = injiResolve(metadata, configurationId);
        const as = await injiAuthorizationServer(
          resolved.authorizationServers,
          metadata.credential_issuer,
          'authorization_code',
        );
        // AuthorizationCodeFlowService.kt:88-89: issuer metadata's token_endpoint, else the AS's.
        expect(metadata.token_endpoint).toBeUndefined();
        const who = await h.person();
        const pkce = paddedPkce();
        expect(pkce.verifier).toMatch(/^[A-Za-z0-9_-]{86}==$/);
        const callback = await loginInBrowser(
          h,
          injiAuthorizationUrl(as, 'inji-04', resolved.scope, pkce.challenge),
          who.individualId,
        );
        expect(`${callback.protocol}//${callback.host}${callback.pathname}`).toBe(REDIRECT_URI);
        const code = callback.searchParams.get('code')!;
        expect(code).toBeTruthy();
        const token = await codeToken(as, 'inji-04', code, pkce.verifier);
        expect(token.status, token.text).toBe(200);
        // AuthorizationCodeFlowService.kt:56-60: the proof nonce is the token response's c_nonce.
        expect(token.json.c_nonce, 'c_nonce in the token response').toEqual(expect.any(String));
        const holder = await holderKey();
        const jwt = await injiProof(holder, 'inji-04', token.json.c_nonce, metadata.credential_issuer, now());
        // :64-70 → CredentialRequestExecutor.kt:31-69.
        await receive(resolved, token.json.access_token, jwt, '0.4', configurationId, holder);
      },
    );

    it('fails without nonce_without_openid (the authorization request is refused) and without padded_pkce_verifier (the token request is refused)', async () => {
      const as = await injiAuthorizationServer([h.url], h.url, 'authorization_code');
      const scope = injiResolve(metadata, 'NationalIdCredential_ldp_vc').scope;
      const noNonce = await new Browser(new URL(h.url).origin).fetch(
        injiAuthorizationUrl(as, 'inji-04-no-nonce-leniency', scope, paddedPkce().challenge),
      );
      const refused = new URL(noNonce.location!);
      expect(refused.searchParams.get('error')).toBe('invalid_request');
      expect(refused.searchParams.get('error_description')).toBe(
        'openid scope must be requested when using the nonce parameter',
      );

      const who = await h.person();
      const pkce = paddedPkce();
      const callback = await loginInBrowser(
        h,
        injiAuthorizationUrl(as, 'inji-04-no-pkce-leniency', scope, pkce.challenge),
        who.individualId,
      );
      const token = await codeToken(
        as,
        'inji-04-no-pkce-leniency',
        callback.searchParams.get('code')!,
        pkce.verifier,
      );
      expect(token.status).toBe(400);
      expect(token.json).toMatchObject({
        error: 'invalid_request',
        error_description: 'code_verifier contains invalid characters',
      });
    });
  });

  /**
   * inji-wallet v0.16.0's authorization (machines/Issuers/IssuersService.ts:107-121 →
   * shared/openId4VCI/Utils.ts:120-135): react-native-app-auth `authorize` with the configuration's
   * scope and ui_locales; usePKCE and useNonce default true (index.js:195-205 at v7.2.0), so AppAuth
   * sends its own unpadded S256 PKCE (RNAppAuthModule.java:715-720, CodeVerifierUtil) and a nonce
   * (:722-724 keeps it) with a plain GET, then exchanges the code at the configured token endpoint
   * (grant_type, code, redirect_uri, code_verifier, client_id). In a MOSIP deployment that token
   * endpoint is mimoto's proxy, replayed in test/interop/mimoto.test.ts; here the wallet's
   * client is public and calls ours.
   */
  async function app016(clientId: string, configurationId: string) {
    // IssuersService.ts:64-82: authorization_servers[0] read unguarded, its
    // /.well-known/oauth-authorization-server (shared/api.ts:42), grant_types_supported filtered
    // unguarded for authorization_code.
    expect(Array.isArray(metadata.authorization_servers)).toBe(true);
    const asRes = await send(`${metadata.authorization_servers[0]}/.well-known/oauth-authorization-server`);
    expect(asRes.status).toBe(200);
    const as = asRes.json;
    expect((as.grant_types_supported as string[]).filter((g) => g === 'authorization_code')).toHaveLength(1);
    const c = metadata.credential_configurations_supported[configurationId];
    const verifier = randomBytes(64).toString('base64url');
    const who = await h.person();
    const callback = await loginInBrowser(
      h,
      `${as.authorization_endpoint}?${form({
        redirect_uri: REDIRECT_URI,
        client_id: clientId,
        response_type: 'code',
        state: randomBytes(16).toString('base64url'),
        nonce: randomBytes(16).toString('base64url'),
        scope: c.scope,
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
        ui_locales: 'en',
      })}`,
      who.individualId,
    );
    const token = await send(as.token_endpoint, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({
        grant_type: 'authorization_code',
        redirect_uri: REDIRECT_URI,
        code: callback.searchParams.get('code')!,
        code_verifier: verifier,
        client_id: clientId,
      }),
    });
    expect(token.status, token.text).toBe(200);
    return { token: token.json, c };
  }

  describe('authorization-code flow (inji-wallet v0.16.0, inji-vci-client 0.2)', () => {
    it.each(['NationalIdCredential_ldp_vc_ed25519_2020', 'NationalIdCredential_mso_mdoc'])(
      '%s',
      async (configurationId) => {
        const { token, c } = await app016('inji-016', configurationId);
        // Utils.ts:276-279: jwtDecode(accessToken).c_nonce is the proof nonce.
        const accessToken = token.access_token as string;
        expect(decodeProtectedHeader(accessToken).typ).toBe('at+jwt');
        const nonce = decodeJwt(accessToken).c_nonce;
        expect(nonce).toEqual(expect.any(String));
        const holder = await holderKey();
        const jwt = await injiProof(holder, 'inji-016', nonce as string, metadata.credential_issuer, now());
        // IssuersService.ts:84-102 with Utils.ts:380-399 constructIssuerMetaData: ldp_vc takes
        // credential_definition.type, mso_mdoc doctype and claims; then the 0.2 request.
        const resolved = {
          format: c.format,
          scope: c.scope,
          doctype: c.doctype,
          claims: c.claims,
          types: c.credential_definition?.type ?? ['VerifiableCredential'],
          context: undefined,
          authorizationServers: metadata.authorization_servers,
        };
        if (c.format === 'mso_mdoc') expect(Object.keys(c.claims ?? {}).length).toBeGreaterThan(0);
        await receive(resolved, accessToken, jwt, '0.2', configurationId, holder);
      },
    );

    it('fails without jwt_access_token_c_nonce: the access token is opaque and jwtDecode throws', async () => {
      const { token } = await app016('inji-016-no-jwt-leniency', 'NationalIdCredential_ldp_vc_ed25519_2020');
      // jwt-decode's "Invalid token specified" (Utils.ts:244 OIDCErrors.INVALID_TOKEN_SPECIFIED).
      expect(() => decodeJwt(token.access_token)).toThrow();
    });
  });
});
