import { randomBytes, randomUUID } from 'node:crypto';
import {
  CompactEncrypt,
  compactDecrypt,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  SignJWT,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pkce } from '../../protocol/oidc/helpers.ts';
import {
  type HolderKey,
  holderKey,
  preAuthorizedCode,
  startVci,
  type VciHarness,
} from '../../protocol/vci/harness.ts';
import { checkMdoc, checkSdJwtVc, dpopProof, form, loginInBrowser, send } from './common.ts';

/**
 * The EUDI reference wallet: eu-digital-identity-wallet/eudi-lib-jvm-openid4vci-kt at tag v0.10.1
 * (89a2ac584f2fce1751001772152bfae20e301a4f, the version eudi-lib-android-wallet-core 1d17f2f9
 * pins in gradle/libs.versions.toml) and at HEAD e1336d6631084f342f925a07f11f01162c611fd5 (0.13.x),
 * configured as the Android app configures it (eudi-app-android-wallet-ui 5657268d,
 * core-logic/src/demo/java/eu/europa/ec/corelogic/config/WalletCoreConfigImpl.kt:92-98:
 * attestation-based client authentication, PAR if supported, DPoP).
 *
 * L = src/main/kotlin/eu/europa/ec/eudi/openid4vci (same path at both commits unless a line says otherwise).
 */

type Version = 'v0.10.1' | 'e1336d66';

const fail = (message: string): never => {
  throw new Error(message);
};
const strings = (v: unknown, what: string) => {
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) fail(`${what} must be a list of strings`);
};
const isObject = (v: unknown): v is Record<string, any> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** L/internal/http/CredentialIssuerMetadataJsonParser.kt ClaimTO: `path` (JsonArray) has no default. */
function claimTO(claim: unknown, where: string) {
  if (!isObject(claim) || !Array.isArray(claim.path)) fail(`${where}: a claim needs a path array`);
  if ((claim as any).mandatory !== undefined && typeof (claim as any).mandatory !== 'boolean')
    fail(`${where}: mandatory must be a boolean`);
}

/**
 * The library's one-pass decoding of the issuer metadata, as its deserializer declares it
 * (L/internal/http/CredentialIssuerMetadataJsonParser.kt, v0.10.1 and HEAD): an unknown format is
 * dropped (KeepKnownConfigurations), a known one that does not decode fails the whole metadata.
 * Its HTTPS check on URLs is the one rule left out (the test service runs on http://127.0.0.1).
 */
function eudiParse(version: Version, m: Record<string, any>, expectedIssuer: string) {
  // toDomain: credential_issuer present and equal to the one asked (HEAD :684-694, v0.10.1 :95-105).
  if (m.credential_issuer !== expectedIssuer) fail('credential_issuer does not match');
  if (m.authorization_servers !== undefined) strings(m.authorization_servers, 'authorization_servers');
  if (typeof m.credential_endpoint !== 'string') fail('missing credential_endpoint');
  // BatchCredentialIssuanceTO: batch_size @Required Int.
  if (m.batch_credential_issuance !== undefined && !Number.isInteger(m.batch_credential_issuance.batch_size))
    fail('batch_size');
  // CredentialRequestEncryptionTO: jwks, enc_values_supported and encryption_required all @Required.
  const req = m.credential_request_encryption;
  if (req !== undefined) {
    if (!isObject(req.jwks) || !Array.isArray(req.jwks.keys)) fail('credential_request_encryption.jwks');
    strings(req.enc_values_supported, 'credential_request_encryption.enc_values_supported');
    if (typeof req.encryption_required !== 'boolean')
      fail('credential_request_encryption.encryption_required');
  }
  // CredentialResponseEncryptionTO: alg/enc lists without defaults; and (HEAD :738-743, v0.10.1
  // :149-154) response encryption advertised ⇒ request encryption advertised.
  const res = m.credential_response_encryption;
  if (res !== undefined) {
    strings(res.alg_values_supported, 'credential_response_encryption.alg_values_supported');
    strings(res.enc_values_supported, 'credential_response_encryption.enc_values_supported');
    if (req === undefined) fail('CredentialRequestEncryptionMustExistIfCredentialResponseEncryptionExists');
  }
  const known = ['mso_mdoc', 'dc+sd-jwt', 'jwt_vc_json', 'jwt_vc_json-ld', 'ldp_vc'];
  const configurations = Object.entries(m.credential_configurations_supported ?? {}).filter(([, c]) =>
    known.includes((c as any).format),
  );
  if (configurations.length === 0) fail('CredentialsSupportedRequired');
  for (const [id, c] of configurations as [string, Record<string, any>][]) {
    const where = `${id}`;
    if (c.format === 'mso_mdoc') {
      if (typeof c.doctype !== 'string') fail(`${where}: doctype is @Required`);
      if (
        c.credential_signing_alg_values_supported !== undefined &&
        (c.credential_signing_alg_values_supported as unknown[]).some((a) => !Number.isInteger(a))
      )
        fail(`${where}: mso_mdoc credential_signing_alg_values_supported is List<Int>`);
    } else if (c.format === 'dc+sd-jwt') {
      if (typeof c.vct !== 'string') fail(`${where}: vct has no default`);
    } else if (c.format === 'jwt_vc_json') {
      if (!isObject(c.credential_definition)) fail(`${where}: credential_definition is @Required`);
      strings(c.credential_definition.type, `${where}: credential_definition.type`);
      for (const [name, claim] of Object.entries(c.credential_definition.credentialSubject ?? {}))
        claimTO(claim, `${where}: credentialSubject.${name}`);
    } else {
      if (!isObject(c.credential_definition)) fail(`${where}: credential_definition is @Required`);
      strings(c.credential_definition['@context'], `${where}: @context`);
      strings(c.credential_definition.type, `${where}: type`);
    }
    if (c.credential_metadata !== undefined) {
      for (const d of c.credential_metadata.display ?? [])
        if (typeof d.name !== 'string') fail(`${where}: display.name is @Required`);
      for (const claim of c.credential_metadata.claims ?? [])
        claimTO(claim, `${where}: credential_metadata.claims`);
    }
    const proofTypes = Object.entries(c.proof_types_supported ?? {}) as [string, Record<string, any>][];
    for (const [type, meta] of proofTypes) {
      if (meta.proof_signing_alg_values_supported !== undefined)
        strings(meta.proof_signing_alg_values_supported, `${where}: ${type} algs`);
      // proofTypeMeta: HEAD :639-658 requires key_attestations_required on jwt and attestation;
      // v0.10.1 :49-71 only on attestation.
      const needs = type === 'attestation' || (type === 'jwt' && version === 'e1336d66');
      if (needs && !isObject(meta.key_attestations_required))
        fail(`${where}: ${type} proof must contain 'key_attestations_required'`);
    }
    // Binding methods ⇔ proof types (each TO's toDomain).
    const bindings = (c.cryptographic_binding_methods_supported ?? []) as unknown[];
    if (bindings.length > 0 !== proofTypes.length > 0) fail(`${where}: binding methods without proof types`);
  }
  return configurations;
}

/** The wallet provider (the app's WalletAttestationRepository): an ES256 key the issuer trusts by kid. */
async function walletProvider() {
  const key = await holderKey();
  const kid = `wp-${randomBytes(4).toString('hex')}`;
  return { kid, key, trusted: { ...key.jwk, kid, alg: 'ES256', use: 'sig' } };
}

describe.each(['v0.10.1', 'e1336d66'] as Version[])(
  'EUDI wallet (eudi-lib-jvm-openid4vci-kt %s)',
  (version) => {
    let h: VciHarness;
    let provider: Awaited<ReturnType<typeof walletProvider>>;
    const redirectUri = 'eu.europa.ec.euidi://authorization';
    beforeAll(async () => {
      provider = await walletProvider();
      h = await startVci({
        overrides: {
          oidc: { clientAttestation: { trustedJwks: [provider.trusted], trustedCaPems: [] } },
          // HEAD refuses the whole metadata unless every jwt proof type carries
          // key_attestations_required (CredentialIssuerMetadataJsonParser.kt :639-658), so a
          // deployment for it turns on the issuer-wide switch; 0.10.1 is served the default.
          vci: {
            keyAttestationTrustedJwks: [provider.trusted],
            ...(version === 'e1336d66' ? { keyAttestationsRequired: {} } : {}),
          },
        },
      });
    });
    afterAll(() => h?.stop());

    /**
     * One wallet instance: its attestation from the wallet provider (typ oauth-client-attestation+jwt,
     * iss, sub = client_id, exp, cnf.jwk: L/ClientAttestation.kt v0.10.1 :50-63), registered as a client
     * that authenticates with it.
     */
    async function walletInstance() {
      const instanceKey = await holderKey();
      const clientId = `eudi-${randomBytes(4).toString('hex')}`;
      const now = Math.floor(h.app.clock.now() / 1000);
      const attestation = await new SignJWT({
        iss: 'https://wallet-provider.example.org',
        sub: clientId,
        iat: now,
        exp: now + 3600,
        cnf: { jwk: instanceKey.jwk },
        wallet_name: 'EUDI Wallet',
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'oauth-client-attestation+jwt', kid: provider.kid })
        .sign(provider.key.privateKey);
      const registered = await h.admin('POST', '/clients', {
        client_id: clientId,
        client_name: 'EUDI Wallet',
        // The app's redirect is a custom scheme (WalletCoreConfigImpl.kt:95 withAuthFlowRedirectionURI
        // = ISSUE_AUTHORIZATION_DEEPLINK, eu.europa.ec.euidi://authorization from
        // build-logic/convention/src/main/kotlin/AndroidLibraryConventionPlugin.kt:64-65): a native
        // application (OpenID Connect Dynamic Client Registration 1.0 §2 application_type).
        application_type: 'native',
        redirect_uris: [redirectUri],
        token_endpoint_auth_method: 'attest_jwt_client_auth',
        allowed_claims: ['given_name', 'family_name', 'birthdate', 'gender', 'name', 'address'],
      });
      expect(registered.status, JSON.stringify(registered.body)).toBe(201);
      return { clientId, attestation, instanceKey };
    }

    /**
     * Client attestation headers (L/internal/AttestationBasedClientAuthentication.kt v0.10.1 :36-63,
     * :81-87; L/ClientAttestation.kt v0.10.1 :93-101): the PoP has typ oauth-client-attestation-pop+jwt
     * and only alg in its header; claims iss = client_id, aud = the authorization server's issuer,
     * jti, iat, challenge (when it has one), nbf (no exp).
     */
    async function attestationHeaders(
      w: Awaited<ReturnType<typeof walletInstance>>,
      asIssuer: string,
      challenge: string | undefined,
    ) {
      const now = Math.floor(h.app.clock.now() / 1000);
      const pop = await new SignJWT({
        iss: w.clientId,
        aud: asIssuer,
        jti: randomUUID(),
        iat: now,
        ...(challenge ? { challenge } : {}),
        nbf: now,
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'oauth-client-attestation-pop+jwt' })
        .sign(w.instanceKey.privateKey);
      return { 'OAuth-Client-Attestation': w.attestation, 'OAuth-Client-Attestation-PoP': pop };
    }

    /**
     * A POST to the token or PAR endpoint as TokenEndpointClient.kt v0.10.1 :205-290 and
     * AuthorizationEndpointClient.kt v0.10.1 :270-330 place it: the challenge first from the AS's
     * challenge_endpoint when it advertises one (ChallengeEndpointClient.kt :36-44: a bare POST,
     * Accept application/json, `attestation_challenge` required), a fresh DPoP proof and PoP per try;
     * a 400 use_dpop_nonce with a DPoP-Nonce header, or use_attestation_challenge with an
     * OAuth-Client-Attestation-Challenge header, is retried once each with the value it carries.
     */
    async function attestedPost(
      as: any,
      w: Awaited<ReturnType<typeof walletInstance>>,
      dpop: HolderKey,
      endpoint: string,
      params: Record<string, string>,
    ) {
      let challenge: string | undefined;
      if (as.challenge_endpoint) {
        const res = await send(as.challenge_endpoint, {
          method: 'POST',
          headers: { accept: 'application/json' },
        });
        expect(res.status, res.text).toBe(200);
        expect(res.json.attestation_challenge).toEqual(expect.any(String));
        challenge = res.json.attestation_challenge;
      }
      let dpopNonce: string | undefined;
      let retriedChallenge = false;
      let retriedNonce = false;
      for (;;) {
        const res = await send(endpoint, {
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            DPoP: await dpopProof(dpop, h.app.clock.now(), 'POST', endpoint, undefined, dpopNonce),
            ...(await attestationHeaders(w, as.issuer, challenge)),
          },
          body: form(params),
        });
        if (res.status !== 400) return res;
        const newChallenge = res.headers.get('oauth-client-attestation-challenge') ?? undefined;
        const newNonce = res.headers.get('dpop-nonce') ?? undefined;
        if (res.json?.error === 'use_dpop_nonce' && newNonce && !retriedNonce) {
          dpopNonce = newNonce;
          challenge = newChallenge ?? challenge;
          retriedNonce = true;
        } else if (res.json?.error === 'use_attestation_challenge' && !retriedChallenge) {
          expect(newChallenge, 'use_attestation_challenge without a challenge header').toBeDefined();
          challenge = newChallenge;
          dpopNonce = newNonce ?? dpopNonce;
          retriedChallenge = true;
        } else return res;
      }
    }

    async function discover() {
      // L/internal/DefaultCredentialIssuerMetadataResolver.kt: GET /.well-known/openid-credential-issuer.
      const issuerRes = await send(`${h.url}/.well-known/openid-credential-issuer`, {
        headers: { accept: 'application/json' },
      });
      expect(issuerRes.status).toBe(200);
      eudiParse(version, issuerRes.json, h.url);
      const metadata = issuerRes.json;
      const asUrl = metadata.authorization_servers?.[0] ?? metadata.credential_issuer;
      // L/internal/DefaultAuthorizationServerMetadataResolver.kt v0.10.1 :43-48: only
      // /.well-known/oauth-authorization-server, issuer must equal the server asked.
      const asRes = await send(`${asUrl}/.well-known/oauth-authorization-server`);
      expect(asRes.status).toBe(200);
      const as = asRes.json;
      expect(as.issuer).toBe(asUrl);
      // wallet-core IssuerCreator.kt:173-177 (1d17f2f9): attestation-based client authentication
      // needs client_attestation_pop_signing_alg_values_supported; DPoP.kt v0.10.1 :137-146: DPoP
      // only when dpop_signing_alg_values_supported has the signer's alg.
      expect(as.client_attestation_pop_signing_alg_values_supported).toContain('ES256');
      expect(as.dpop_signing_alg_values_supported).toContain('ES256');
      return { metadata, as };
    }

    /**
     * Token endpoint (L/internal/http/TokenEndpointClient.kt, v0.10.1 :205-290 and TokenEndpointForm
     * :330-360): a form with client_id first, the DPoP proof and the attestation headers; the
     * response's token_type DPoP makes the token a DPoP token (:70-86).
     */
    async function token(
      as: any,
      w: Awaited<ReturnType<typeof walletInstance>>,
      dpop: HolderKey,
      params: Record<string, string>,
    ) {
      const res = await attestedPost(as, w, dpop, as.token_endpoint, { client_id: w.clientId, ...params });
      expect(res.status, res.text).toBe(200);
      expect(res.json.token_type).toMatch(/^dpop$/i);
      // wallet-core asks AsRequested (no authorization_details, AuthorizeIssuanceImpl.kt v0.10.1
      // :163-169), so a configuration-based request follows only if the token carries none
      // (RequestIssuanceImpl.kt v0.10.1 :80-101).
      expect(res.json.authorization_details).toBeUndefined();
      return res.json.access_token as string;
    }

    async function proof(
      metadata: any,
      configurationId: string,
      clientId: string,
      holder: HolderKey,
      nonce: string,
    ) {
      const now = Math.floor(h.app.clock.now() / 1000);
      // JwtProofClaims (L/internal/JwtProofSigners.kt :25-32): aud = credential issuer, iat, iss =
      // client_id (always with attestation-based auth: RequestIssuanceImpl.kt v0.10.1 :303-313), nonce.
      const claims = { aud: metadata.credential_issuer, iat: now, iss: clientId, nonce };
      const needsAttestation = isObject(
        metadata.credential_configurations_supported[configurationId].proof_types_supported?.jwt
          ?.key_attestations_required,
      );
      if (!needsAttestation) {
        // jwtProofHeader (:59-72): typ openid4vci-proof+jwt and the jwk.
        return new SignJWT(claims)
          .setProtectedHeader({ alg: 'ES256', typ: 'openid4vci-proof+jwt', jwk: holder.jwk })
          .sign(holder.privateKey);
      }
      // keyAttestationJwtProofHeader (:74-82): kid "0" (the key's index in attested_keys) and the
      // key_attestation from the wallet provider (L/KeyAttestationJWT.kt: typ key-attestation+jwt,
      // attested_keys, iat, exp, nonce).
      const keyAttestation = await new SignJWT({
        iat: now,
        exp: now + 3600,
        attested_keys: [holder.jwk],
        nonce,
        key_storage: ['iso_18045_high'],
        user_authentication: ['iso_18045_high'],
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'key-attestation+jwt', kid: provider.kid })
        .sign(provider.key.privateKey);
      return new SignJWT(claims)
        .setProtectedHeader({
          alg: 'ES256',
          typ: 'openid4vci-proof+jwt',
          kid: '0',
          key_attestation: keyAttestation,
        })
        .sign(holder.privateKey);
    }

    /**
     * Nonce endpoint, then the credential request (L/internal/http/NonceEndpointClient.kt :48: a
     * bare POST; CredentialEndpointClient.kt v0.10.1 :67-108 and :201-232; IssuanceRequestJsonMapper.kt
     * v0.10.1 :56-107): Authorization DPoP + DPoP proof with ath; credential_configuration_id and
     * proofs.jwt; encrypted to the issuer (application/jwt) when it publishes request encryption, with
     * credential_response_encryption {jwk, enc} when it supports response encryption
     * (IssuanceEncryption.kt v0.10.1 :87-208, Issuance.kt :184-240: first issuer alg/enc the wallet has).
     */
    async function credential(
      metadata: any,
      accessToken: string,
      dpop: HolderKey,
      configurationId: string,
      clientId: string,
    ) {
      const nonceRes = await send(metadata.nonce_endpoint, { method: 'POST' });
      expect(nonceRes.status).toBe(200);
      const holder = await holderKey();
      const jwt = await proof(metadata, configurationId, clientId, holder, nonceRes.json.c_nonce);
      const body: Record<string, unknown> = {
        credential_configuration_id: configurationId,
        proofs: { jwt: [jwt] },
      };
      let responseKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'] | undefined;
      const resEnc = metadata.credential_response_encryption;
      if (resEnc) {
        expect(resEnc.alg_values_supported).toContain('ECDH-ES');
        const enc = (resEnc.enc_values_supported as string[]).find((e) =>
          ['A128CBC-HS256', 'A192CBC-HS384', 'A256CBC-HS512', 'A128GCM', 'A192GCM', 'A256GCM'].includes(e),
        )!;
        const pair = await generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
        responseKey = pair.privateKey;
        const jwk: JWK = {
          ...(await exportJWK(pair.publicKey)),
          use: 'enc',
          kid: randomUUID(),
          alg: 'ECDH-ES',
        };
        body.credential_response_encryption = { jwk, enc };
      }
      const headers: Record<string, string> = {
        authorization: `DPoP ${accessToken}`,
        DPoP: await dpopProof(dpop, h.app.clock.now(), 'POST', metadata.credential_endpoint, accessToken),
      };
      let payload: string;
      const reqEnc = metadata.credential_request_encryption;
      if (reqEnc) {
        const key = (reqEnc.jwks.keys as JWK[]).find((k) => k.alg === 'ECDH-ES' || k.alg === 'RSA-OAEP-256');
        expect(key, 'a request encryption key whose alg the wallet supports').toBeDefined();
        const enc = reqEnc.enc_values_supported[0] as string;
        payload = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(body)))
          .setProtectedHeader({
            alg: key!.alg!,
            enc,
            jwk: key,
            typ: 'JWT',
            ...(key!.kid ? { kid: key!.kid } : {}),
          } as never)
          .encrypt(await importJWK(key!, key!.alg));
        headers['content-type'] = 'application/jwt';
      } else {
        payload = JSON.stringify(body);
        headers['content-type'] = 'application/json';
      }
      const res = await send(metadata.credential_endpoint, { headers, body: payload });
      expect(res.status, res.text).toBe(200);
      let answer: any;
      if (responseKey) {
        expect(String(res.headers.get('content-type'))).toMatch(/^application\/jwt/);
        answer = JSON.parse(
          new TextDecoder().decode((await compactDecrypt(res.text, responseKey)).plaintext),
        );
      } else {
        expect(String(res.headers.get('content-type'))).toMatch(/^application\/json/);
        answer = res.json;
      }
      // CredentialResponseSuccessTO (IssuanceRequestJsonMapper.kt v0.10.1 :133-166): credentials[].credential
      // a string or non-empty object, no transaction_id/interval beside them.
      expect(answer.credentials?.length).toBeGreaterThan(0);
      expect(answer.transaction_id).toBeUndefined();
      // Stored as the wallet stores it: bound to its key, signed by the issuer.
      const issued = answer.credentials[0].credential;
      const configuration = metadata.credential_configurations_supported[configurationId];
      if (configuration.format === 'dc+sd-jwt') await checkSdJwtVc(h, issued, configuration.vct, holder.jwk);
      else checkMdoc(issued, configuration.doctype, holder.jwk);
    }

    it.each(['NationalIdCredential_sd_jwt', 'NationalIdCredential_mso_mdoc'])(
      'pre-authorized offer → %s with attestation-based client auth, DPoP, the nonce endpoint',
      async (configurationId) => {
        const { metadata, as } = await discover();
        const w = await walletInstance();
        const who = await h.person();
        const offer = await h.offer([configurationId], who.individualId);
        const dpop = await holderKey();
        const accessToken = await token(as, w, dpop, {
          grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code',
          'pre-authorized_code': preAuthorizedCode(offer),
        });
        await credential(metadata, accessToken, dpop, configurationId, w.clientId);
      },
    );

    it.each(['NationalIdCredential_sd_jwt', 'NationalIdCredential_mso_mdoc'])(
      'authorization code (PAR, PKCE, DPoP, attestation-based client auth) → %s',
      async (configurationId) => {
        const { metadata, as } = await discover();
        const w = await walletInstance();
        const who = await h.person();
        const dpop = await holderKey();
        // AuthorizationEndpointClient.kt v0.10.1 :147-189 and :255-290: PAR with response_type,
        // client_id, redirect_uri, code_challenge (S256, Nimbus CodeVerifier: 32 random bytes),
        // state, scope = the configuration's scope (FAVOR_SCOPES, AuthorizeIssuanceImpl.kt :62-80),
        // no resource (the issuer is its own authorization server); DPoP proof and attestation headers.
        const { verifier, challenge } = pkce();
        const state = randomBytes(16).toString('base64url');
        const scope = metadata.credential_configurations_supported[configurationId].scope as string;
        const par = await attestedPost(as, w, dpop, as.pushed_authorization_request_endpoint, {
          response_type: 'code',
          client_id: w.clientId,
          redirect_uri: redirectUri,
          scope,
          state,
          code_challenge_method: 'S256',
          code_challenge: challenge,
        });
        expect(par.status, par.text).toBe(201);
        // :238-248: the authorization URL carries client_id, state and request_uri.
        const authorize = `${as.authorization_endpoint}?${form({ client_id: w.clientId, state, request_uri: par.json.request_uri })}`;
        const callback = await loginInBrowser(h, authorize, who.individualId);
        expect(callback.searchParams.get('state')).toBe(state);
        const code = callback.searchParams.get('code')!;
        expect(code).toBeTruthy();
        // TokenEndpointForm.authCodeFlow (v0.10.1 :330-345): client_id, grant_type, code, redirect_uri, code_verifier.
        const accessToken = await token(as, w, dpop, {
          grant_type: 'authorization_code',
          code,
          redirect_uri: redirectUri,
          code_verifier: verifier,
        });
        await credential(metadata, accessToken, dpop, configurationId, w.clientId);
      },
    );
  },
);
