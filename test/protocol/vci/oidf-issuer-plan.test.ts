import { randomBytes, randomUUID } from 'node:crypto';
import { cborDecode, parseIssuerSigned } from '@animo-id/mdoc';
import {
  CompactEncrypt,
  compactDecrypt,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  SignJWT,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkMdoc,
  checkSdJwtVc,
  dpopProof,
  form,
  loginInBrowser,
  send,
} from '../../interop/wallets/common.ts';
import { pkce } from '../oidc/helpers.ts';
import { type HolderKey, holderKey, preAuthorizedCode, startVci, type VciHarness } from './harness.ts';

/**
 * The OpenID Foundation conformance suite's OpenID4VCI 1.0 issuer test plan
 * (openid-certification/conformance-suite 12f2a4dac6462f8a4e95968bc7e478e02881e1a7,
 * V = src/main/java/net/openid/conformance/vci10issuer, C = src/main/java/net/openid/conformance/condition/client),
 * the modules not covered elsewhere, replayed as the suite's emulated wallet sends them: client
 * attestation (ClientAuthType client_attestation), DPoP (FAPI2SenderConstrainMethod dpop), the
 * authorization code with PAR or the pre-authorized code (VCIGrantType), plain or encrypted
 * (VCICredentialEncryption: V/AbstractVCIIssuerTestModule.java:243-283 needs credential_request_encryption
 * whenever credential_response_encryption is advertised; the credential request is then an
 * encrypted application/jwt carrying credential_response_encryption, :907-920). The mtls variants need
 * TLS, which our loopback test service does not terminate; they are not replayed.
 */

const CONFIG = 'NationalIdCredential_sd_jwt';
const MDOC = 'NationalIdCredential_mso_mdoc';
const REDIRECT = 'https://oidf-suite.example.org/test/a/idissuer/callback';

/** `instanceKey` holds the attested key (client_attestation) or the client's registered key (private_key_jwt). */
type Wallet = {
  clientId: string;
  auth: 'client_attestation' | 'private_key_jwt';
  attestation: string;
  instanceKey: HolderKey;
  dpop: HolderKey;
};

let h: VciHarness;
let provider: { kid: string; key: HolderKey };
let metadata: any;
let as: any;

beforeAll(async () => {
  const key = await holderKey();
  provider = { kid: `oidf-${randomBytes(4).toString('hex')}`, key };
  h = await startVci({
    overrides: {
      oidc: {
        clientAttestation: {
          trustedJwks: [{ ...key.jwk, kid: provider.kid, alg: 'ES256', use: 'sig' }],
          trustedCaPems: [],
        },
      },
    },
  });
  metadata = (await send(`${h.url}/.well-known/openid-credential-issuer`)).json;
  const asUrl = metadata.authorization_servers?.[0] ?? metadata.credential_issuer;
  as = (await send(`${asUrl}/.well-known/oauth-authorization-server`)).json;
});
afterAll(() => h?.stop());

/**
 * A client registered for attest_jwt_client_auth, its attestation signed by the trusted wallet
 * provider; or (ClientAuthType private_key_jwt) registered with its public key in `jwks`.
 */
async function wallet(auth: Wallet['auth'] = 'client_attestation'): Promise<Wallet> {
  const instanceKey = await holderKey();
  const clientId = `oidf-${randomBytes(4).toString('hex')}`;
  if (auth === 'private_key_jwt') {
    const registered = await h.admin('POST', '/clients', {
      client_id: clientId,
      client_name: 'OIDF conformance suite',
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ ...instanceKey.jwk, kid: 'oidf-client', alg: 'ES256', use: 'sig' }] },
      allowed_claims: ['given_name', 'family_name', 'birthdate', 'gender', 'name', 'address'],
    });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    return { clientId, auth, attestation: '', instanceKey, dpop: await holderKey() };
  }
  const now = Math.floor(h.app.clock.now() / 1000);
  const attestation = await new SignJWT({
    iss: 'https://wallet-provider.example.org',
    sub: clientId,
    iat: now,
    exp: now + 3600,
    cnf: { jwk: instanceKey.jwk },
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'oauth-client-attestation+jwt', kid: provider.kid })
    .sign(provider.key.privateKey);
  const registered = await h.admin('POST', '/clients', {
    client_id: clientId,
    client_name: 'OIDF conformance suite',
    redirect_uris: [REDIRECT],
    token_endpoint_auth_method: 'attest_jwt_client_auth',
    allowed_claims: ['given_name', 'family_name', 'birthdate', 'gender', 'name', 'address'],
  });
  expect(registered.status, JSON.stringify(registered.body)).toBe(201);
  return { clientId, auth, attestation, instanceKey, dpop: await holderKey() };
}

/**
 * private_key_jwt as the suite builds it (sequence/client/CreateJWTClientAuthenticationAssertionWithIssAudAndAddToPAREndpointRequest
 * and ...AddToTokenEndpointRequest, ClientAuthType setup in fapi2spfinal/AbstractFAPI2SPFinalServerTestModule.java:1142-1149):
 * iss = sub = client_id, aud = the authorization server's issuer, jti, nbf = iat, exp = iat + 60
 * (C/CreateClientAuthenticationAssertionClaims.java:20-45, aud replaced by the issuer).
 */
async function clientAssertion(w: Wallet) {
  const now = Math.floor(h.app.clock.now() / 1000);
  const jwt = await new SignJWT({
    iss: w.clientId,
    sub: w.clientId,
    aud: as.issuer,
    jti: randomUUID(),
    nbf: now,
    iat: now,
    exp: now + 60,
  })
    .setProtectedHeader({ alg: 'ES256', kid: 'oidf-client' })
    .sign(w.instanceKey.privateKey);
  return {
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: jwt,
  };
}

/**
 * A form POST to PAR or token with a DPoP proof and the client's authentication (attestation
 * headers, or a client assertion in the body); one retry on a DPoP nonce or attestation challenge.
 */
async function attestedPost(w: Wallet, endpoint: string, params: Record<string, string>) {
  let challenge: string | undefined;
  let dpopNonce: string | undefined;
  for (let attempt = 0; ; attempt++) {
    if (w.auth === 'private_key_jwt') {
      const res = await send(endpoint, {
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          DPoP: await dpopProof(w.dpop, h.app.clock.now(), 'POST', endpoint, undefined, dpopNonce),
        },
        body: form({ ...params, ...(await clientAssertion(w)) }),
      });
      if (res.status !== 400 || attempt > 0 || res.json?.error !== 'use_dpop_nonce') return res;
      dpopNonce = res.headers.get('dpop-nonce') ?? undefined;
      continue;
    }
    const now = Math.floor(h.app.clock.now() / 1000);
    const pop = await new SignJWT({
      iss: w.clientId,
      aud: as.issuer,
      jti: randomUUID(),
      iat: now,
      ...(challenge ? { challenge } : {}),
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'oauth-client-attestation-pop+jwt' })
      .sign(w.instanceKey.privateKey);
    const res = await send(endpoint, {
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        DPoP: await dpopProof(w.dpop, h.app.clock.now(), 'POST', endpoint, undefined, dpopNonce),
        'OAuth-Client-Attestation': w.attestation,
        'OAuth-Client-Attestation-PoP': pop,
      },
      body: form(params),
    });
    const error = res.json?.error;
    if (
      res.status !== 400 ||
      attempt > 1 ||
      (error !== 'use_dpop_nonce' && error !== 'use_attestation_challenge')
    )
      return res;
    dpopNonce = res.headers.get('dpop-nonce') ?? dpopNonce;
    challenge = res.headers.get('oauth-client-attestation-challenge') ?? challenge;
  }
}

/** The token request; V/VCIIssuerHappyFlow.java:60-75 adds random unknown fields to its body. */
async function token(w: Wallet, params: Record<string, string>, unknownFields = false): Promise<string> {
  const res = await attestedPost(w, as.token_endpoint, {
    client_id: w.clientId,
    ...params,
    ...(unknownFields ? { [`oidf_${randomBytes(3).toString('hex')}`]: randomUUID() } : {}),
  });
  expect(res.status, res.text).toBe(200);
  expect(res.json.token_type).toMatch(/^dpop$/i);
  return res.json.access_token as string;
}

/**
 * Authorization code flow: PAR (scope of the configuration, PKCE S256, state), the person's login,
 * token. `reordered`: the second client's authorization URL puts request_uri before client_id
 * (V/VCIIssuerHappyFlowMultipleClients.java:45-54). `unknownFields`: V/VCIIssuerHappyFlow.java:53-57.
 */
async function authorizationCode(
  w: Wallet,
  opts: { reordered?: boolean; unknownFields?: boolean; config?: string } = {},
) {
  const who = await h.person();
  const { verifier, challenge } = pkce();
  const state = randomBytes(16).toString('base64url');
  const par = await attestedPost(w, as.pushed_authorization_request_endpoint, {
    response_type: 'code',
    client_id: w.clientId,
    redirect_uri: REDIRECT,
    scope: metadata.credential_configurations_supported[opts.config ?? CONFIG].scope,
    state,
    code_challenge_method: 'S256',
    code_challenge: challenge,
    ...(opts.unknownFields ? { [`oidf_${randomBytes(3).toString('hex')}`]: randomUUID() } : {}),
  });
  expect(par.status, par.text).toBe(201);
  const query = opts.reordered
    ? form({ request_uri: par.json.request_uri, client_id: w.clientId })
    : form({ client_id: w.clientId, request_uri: par.json.request_uri });
  const callback = await loginInBrowser(h, `${as.authorization_endpoint}?${query}`, who.individualId);
  expect(callback.searchParams.get('state')).toBe(state);
  const code = callback.searchParams.get('code')!;
  const params = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier };
  return token(w, params, opts.unknownFields);
}

interface CredentialCall {
  status: number;
  headers: Headers;
  body: any;
  /** The JWE protected header of an encrypted answer. */
  jweHeader?: Record<string, unknown>;
  holders: HolderKey[];
}

/**
 * Nonce endpoint, proofs (one per key: V/VCIIssuerBatchIssuance.java:59-71), the credential request
 * with the DPoP-bound token. `encrypted`: credential_response_encryption (ECDH-ES, the first enc) and
 * the body as a JWE to the issuer's credential_request_encryption key; `zip` adds
 * credential_response_encryption.zip (V/condition/VCIAddCompressionToCredentialRequestEncryption.java:29).
 * `extraBody` is the random unknown field of V/VCIIssuerHappyFlow.java:93-106.
 */
async function credential(
  w: Wallet,
  accessToken: string,
  opts: {
    proofs?: number;
    encrypted?: boolean;
    zip?: boolean;
    headers?: Record<string, string>;
    extraBody?: Record<string, unknown>;
    dpopKey?: HolderKey;
    config?: string;
    /** The negative modules' one change: a random c_nonce, a proof signed by another key, no proofs. */
    fault?: 'nonce' | 'signature' | 'no-proof';
  } = {},
): Promise<CredentialCall> {
  const fetched = (await send(metadata.nonce_endpoint, { method: 'POST' })).json.c_nonce as string;
  const nonce = opts.fault === 'nonce' ? randomBytes(16).toString('base64url') : fetched;
  const holders = await Promise.all(Array.from({ length: opts.proofs ?? 1 }, () => holderKey()));
  const signer = opts.fault === 'signature' ? await holderKey() : undefined;
  const now = Math.floor(h.app.clock.now() / 1000);
  const proofs = await Promise.all(
    holders.map((k) =>
      new SignJWT({ aud: metadata.credential_issuer, iat: now, iss: w.clientId, nonce })
        .setProtectedHeader({ alg: 'ES256', typ: 'openid4vci-proof+jwt', jwk: k.jwk })
        .sign((signer ?? k).privateKey),
    ),
  );
  const body: Record<string, unknown> = {
    credential_configuration_id: opts.config ?? CONFIG,
    ...(opts.fault === 'no-proof' ? {} : { proofs: { jwt: proofs } }),
    ...opts.extraBody,
  };
  const dpopKey = opts.dpopKey ?? w.dpop;
  const headers: Record<string, string> = {
    authorization: `DPoP ${accessToken}`,
    DPoP: await dpopProof(dpopKey, h.app.clock.now(), 'POST', metadata.credential_endpoint, accessToken),
    ...opts.headers,
  };
  let payload = JSON.stringify(body);
  let responseKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'] | undefined;
  if (opts.encrypted) {
    const pair = await generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
    responseKey = pair.privateKey;
    const jwk: JWK = { ...(await exportJWK(pair.publicKey)), use: 'enc', alg: 'ECDH-ES', kid: randomUUID() };
    body.credential_response_encryption = {
      jwk,
      enc: metadata.credential_response_encryption.enc_values_supported[0],
      ...(opts.zip ? { zip: 'DEF' } : {}),
    };
    const req = metadata.credential_request_encryption;
    const key = (req.jwks.keys as JWK[])[0]!;
    payload = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(body)))
      .setProtectedHeader({
        alg: key.alg!,
        enc: req.enc_values_supported[0],
        ...(key.kid ? { kid: key.kid } : {}),
      })
      .encrypt(await importJWK(key, key.alg));
    headers['content-type'] = 'application/jwt';
  } else headers['content-type'] = 'application/json';
  const res = await send(metadata.credential_endpoint, { headers, body: payload });
  if (!responseKey || res.status !== 200)
    return { status: res.status, headers: res.headers, body: res.json ?? res.text, holders };
  expect(res.headers.get('content-type')).toMatch(/^application\/jwt/);
  const plain = await compactDecrypt(res.text, responseKey);
  return {
    status: res.status,
    headers: res.headers,
    body: JSON.parse(new TextDecoder().decode(plain.plaintext)),
    jweHeader: decodeProtectedHeader(res.text) as Record<string, unknown>,
    holders,
  };
}

/** The answer as the suite verifies it (V/AbstractVCIIssuerTestModule.java:800-825): 200, a Date header, each credential bound to its key. */
async function expectIssued(answer: CredentialCall, config = CONFIG) {
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  // C/CheckForDateHeaderInResourceResponse (AbstractVCIIssuerTestModule.java:817, FAILURE).
  expect(Number.isNaN(Date.parse(answer.headers.get('date') ?? ''))).toBe(false);
  expect(answer.body.credentials).toHaveLength(answer.holders.length);
  const configuration = metadata.credential_configurations_supported[config];
  for (const [i, c] of (answer.body.credentials as { credential: string }[]).entries()) {
    if (configuration.format === 'mso_mdoc')
      checkMdoc(c.credential, configuration.doctype, answer.holders[i]!.jwk);
    else await checkSdJwtVc(h, c.credential, configuration.vct, answer.holders[i]!.jwk);
  }
  return (answer.body.credentials as { credential: string }[]).map((c) => c.credential);
}

/**
 * The MSO of an mdoc (IssuerSigned, base64url), decoded from the COSE payload (the library's typed
 * view drops `status`): its token status list reference and validity times in seconds.
 */
function mso(credential: string, docType: string) {
  const document = parseIssuerSigned(Buffer.from(credential, 'base64url'), docType);
  const item = cborDecode((document.issuerSigned.issuerAuth as unknown as { payload: Uint8Array }).payload);
  const data = (item as { data: Map<string, any> }).data;
  const validity = data.get('validityInfo') as Map<string, Date>;
  const statusList = data.get('status')?.get('status_list') as Map<string, unknown> | undefined;
  return {
    status: statusList
      ? { idx: statusList.get('idx') as number, uri: statusList.get('uri') as string }
      : undefined,
    times: {
      iat: validity.get('signed')!.getTime() / 1000,
      nbf: validity.get('validFrom')!.getTime() / 1000,
      exp: validity.get('validUntil')!.getTime() / 1000,
    },
  };
}

/** The issuer-signed payload and the disclosures ([salt, name, value]) of an SD-JWT VC. */
function sdJwt(compact: string) {
  const [jwt, ...rest] = compact.split('~');
  const disclosures = rest
    .filter(Boolean)
    .map((d) => JSON.parse(Buffer.from(d, 'base64url').toString('utf8')) as unknown[]);
  return { payload: decodeJwt(jwt!) as Record<string, any>, disclosures, jwt: jwt! };
}

/**
 * V/condition/VCIEnsureSelectiveDisclosureConformsToTypeMetadata.java:65-117: for each type metadata
 * claim with `sd` always/never, the claim at its path must be selectively disclosed (always) or a
 * literal member (never). The status of a path is that of its last segment, read in the raw object
 * at that level (the payload, or the value of the disclosure the parent came from); a child literal
 * inside a disclosed parent counts as clear (:39-42). Array and null segments are inconclusive and
 * skipped, as there (:32-37). Returns the number of constraints checked.
 */
function checkSdRules(typeMetadata: any, compact: string): number {
  const { payload, disclosures } = sdJwt(compact);
  const byName = (name: string) => disclosures.filter((d) => d.length === 3 && d[1] === name);
  let checked = 0;
  for (const claim of typeMetadata.claims ?? []) {
    if (claim.sd !== 'always' && claim.sd !== 'never') continue;
    if (!claim.path.every((s: unknown) => typeof s === 'string')) continue;
    let raw: Record<string, any> | undefined = payload;
    let status: 'clear' | 'disclosed' | undefined;
    for (const name of claim.path as string[]) {
      if (!raw || typeof raw !== 'object') {
        status = undefined;
        break;
      }
      if (Object.hasOwn(raw, name)) {
        status = 'clear';
        raw = raw[name];
      } else if (byName(name).length === 1) {
        status = 'disclosed';
        raw = byName(name)[0]![2] as Record<string, any>;
      } else {
        status = undefined;
        break;
      }
    }
    if (!status) continue; // absent in this credential: not applicable
    checked++;
    expect({ path: claim.path, sd: claim.sd, status }).toEqual({
      path: claim.path,
      sd: claim.sd,
      status: claim.sd === 'always' ? 'disclosed' : 'clear',
    });
  }
  return checked;
}

/**
 * V/condition/VCIEnsureBatchTimeClaimsNotLinkable.java:17-38 (and VCIEnsureCredentialTimeClaimsNotLinkable
 * for two clients): each of iat, nbf, exp present must be rounded (on an hour boundary, or one second
 * before it, :32-35) or randomized (not one shared value); a shared precise value fails.
 */
function expectTimeClaimsNotLinkable(payloads: Record<string, any>[]) {
  for (const claim of ['iat', 'nbf', 'exp']) {
    const values = payloads.map((p) => p[claim]).filter((v): v is number => typeof v === 'number');
    if (values.length === 0) continue;
    const rounded = values.every((v) => v % 3600 === 0 || v % 3600 === 3599);
    expect({ claim, values, notLinkable: rounded || new Set(values).size === values.length }).toEqual({
      claim,
      values,
      notLinkable: true,
    });
  }
}

describe('OIDF oid4vci-1_0-issuer-test-plan (conformance-suite 12f2a4dac6), client attestation + DPoP', () => {
  it.each([
    [CONFIG, false],
    [CONFIG, true],
    [MDOC, false],
    [MDOC, true],
  ] as const)(
    'oid4vci-1_0-issuer-happy-flow %s (encrypted: %s): unknown fields ignored; for SD-JWT VC the type metadata sd rules hold on the issued credential',
    async (config, encrypted) => {
      const w = await wallet();
      const accessToken = await authorizationCode(w, { unknownFields: true, config });
      const answer = await credential(w, accessToken, {
        config,
        encrypted,
        extraBody: { [`oidf_${randomBytes(3).toString('hex')}`]: randomUUID() },
      });
      const [issued] = await expectIssued(answer, config);
      if (config === CONFIG) {
        // V/condition/VCIFetchSdJwtVcTypeMetadata: the type metadata at the vct URL; its vct matches.
        const vct = metadata.credential_configurations_supported[CONFIG].vct as string;
        const typeMetadata = await send(vct);
        expect(typeMetadata.status).toBe(200);
        expect(typeMetadata.json.vct).toBe(vct);
        expect(checkSdRules(typeMetadata.json, issued!)).toBeGreaterThan(1);
      }
      if (encrypted) {
        // V/VCIIssuerHappyFlow.java:36-38 and :123-144: a second request asking zip=DEF must still be
        // answered 200; without zip_values_supported the answer is not compressed
        // (V/condition/VCICheckCredentialResponseCompression.java:37-49).
        expect(metadata.credential_response_encryption.zip_values_supported).toBeUndefined();
        const compressed = await credential(w, accessToken, { config, encrypted: true, zip: true });
        await expectIssued(compressed, config);
        expect(compressed.jweHeader?.zip).toBeUndefined();
      }
    },
  );

  it('oid4vci-1_0-issuer-happy-flow, pre-authorized code, encrypted request and response', async () => {
    const w = await wallet();
    const who = await h.person();
    const offer = await h.offer([CONFIG], who.individualId);
    const accessToken = await token(w, {
      grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code',
      'pre-authorized_code': preAuthorizedCode(offer),
    });
    await expectIssued(await credential(w, accessToken, { encrypted: true }));
  });

  it.each([false, true])(
    'oid4vci-1_0-issuer-happy-flow with private_key_jwt (ClientAuthType private_key_jwt), encrypted: %s',
    async (encrypted) => {
      const w = await wallet('private_key_jwt');
      const accessToken = await authorizationCode(w, { unknownFields: true });
      await expectIssued(await credential(w, accessToken, { encrypted }));
    },
  );

  it.each([
    ['fail-invalid-nonce', { fault: 'nonce' }, 'invalid_nonce'],
    ['fail-invalid-jwt-proof-signature', { fault: 'signature' }, 'invalid_proof'],
    ['fail-missing-proof', { fault: 'no-proof' }, 'invalid_proof'],
    [
      'fail-unknown-credential-configuration',
      { config: 'NoSuchCredential' },
      'unknown_credential_configuration',
    ],
  ] as const)(
    'oid4vci-1_0-issuer-%s in the encrypted variant: a plain JSON error the suite can read',
    async (_module, change, error) => {
      // V/condition/VCIValidateCredentialErrorResponse.java:17-36 parses the error body as JSON and
      // compares `error`; the request itself is the encrypted application/jwt of the variant.
      const w = await wallet();
      const accessToken = await authorizationCode(w);
      const answer = await credential(w, accessToken, { encrypted: true, ...change });
      expect(answer.status).toBe(400);
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expect(answer.body.error).toBe(error);
    },
  );

  it('oid4vci-1_0-issuer-happy-flow-additional-requests: the FAPI headers and Accept variants are answered 200', async () => {
    const w = await wallet();
    const accessToken = await authorizationCode(w);
    // V/AbstractVCIIssuerTestModule.java:583-599: x-fapi-auth-date, x-fapi-customer-ip-address (IPv4)
    // and a random x-fapi-interaction-id on the first request.
    const interactionId = randomUUID();
    const first = await credential(w, accessToken, {
      headers: {
        'x-fapi-auth-date': new Date(h.app.clock.now()).toUTCString(),
        'x-fapi-customer-ip-address': '198.51.100.119',
        'x-fapi-interaction-id': interactionId,
      },
    });
    await expectIssued(first);
    // :819-823: an x-fapi-interaction-id in the answer must be a UUID and ours (absent is INFO only).
    const echoed = first.headers.get('x-fapi-interaction-id');
    if (echoed !== null) expect(echoed.toLowerCase()).toBe(interactionId);
    // V/VCIIssuerHappyFlowAdditionalRequests.java:84-100: a fresh nonce and proof, x-fapi-customer-ip-address
    // IPv6 (C/AddIpV6FapiCustomerIpAddressToResourceEndpointRequest.java:19),
    // Accept: application/json;charset=UTF-8 and Accept-Charset: UTF-8
    // (C/SetUtf8JsonAcceptHeadersForResourceEndpointRequest.java:26-27): 200 or 202.
    const ipv6 = await credential(w, accessToken, {
      headers: {
        'x-fapi-customer-ip-address': '2001:DB8::1893:25c8:1946',
        accept: 'application/json;charset=UTF-8',
        'accept-charset': 'UTF-8',
      },
    });
    await expectIssued(ipv6);
    // :102-113: Accept: application/json, application/*+json, */*
    // (C/SetPermissiveAcceptHeaderForResourceEndpointRequest.java:17).
    const permissive = await credential(w, accessToken, {
      headers: { accept: 'application/json, application/*+json, */*' },
    });
    await expectIssued(permissive);
  });

  it('oid4vci-1_0-issuer-happy-flow-multiple-clients: two clients in turn; client 1 DPoP key with client 2 token is 4xx', async () => {
    const one = await wallet();
    const two = await wallet();
    const first = await expectIssued(await credential(one, await authorizationCode(one)));
    const secondToken = await authorizationCode(two, { reordered: true });
    const second = await expectIssued(await credential(two, secondToken));
    // V/AbstractVCIIssuerMultipleClient.java:32-39: the two credentials' time claims (WARNING there).
    expectTimeClaimsNotLinkable([sdJwt(first[0]!).payload, sdJwt(second[0]!).payload]);
    // :77-100: client 1's DPoP key with client 2's access token must be refused with a 4xx.
    const crossed = await credential(one, secondToken, { dpopKey: one.dpop });
    expect(crossed.status).toBeGreaterThanOrEqual(400);
    expect(crossed.status).toBeLessThan(500);
    expect(crossed.body.credentials).toBeUndefined();
  });

  it('oid4vci-1_0-issuer-happy-flow-skip-notification: issuance is complete and the credential valid without a notification', async () => {
    const w = await wallet();
    const [issued] = await expectIssued(await credential(w, await authorizationCode(w)));
    const { payload } = sdJwt(issued!);
    // V/VCIIssuerHappyFlowWithSkipNotification.java:20-23: the notification is never sent; the
    // credential's status entry reads valid (0) in the issuer's status list.
    const ref = payload.status.status_list as { idx: number; uri: string };
    const list = await send(ref.uri);
    expect(list.status).toBe(200);
    const { inflateSync } = await import('node:zlib');
    const statusList = decodeJwt(list.text).status_list as { bits: number; lst: string };
    const bytes = inflateSync(Buffer.from(statusList.lst, 'base64url'));
    const perByte = 8 / statusList.bits;
    const byte = bytes[Math.floor(ref.idx / perByte)]!;
    const value = (byte >> ((ref.idx % perByte) * statusList.bits)) & ((1 << statusList.bits) - 1);
    expect(value).toBe(0);
  });

  it.each([CONFIG, MDOC])(
    'oid4vci-1_0-issuer-batch-issuance %s: one credential per proof key, distinct salts and status references, indices not an arithmetic sequence, time claims not linkable',
    async (config) => {
      const w = await wallet();
      const batch = metadata.batch_credential_issuance.batch_size as number;
      expect(batch).toBeGreaterThanOrEqual(3);
      const accessToken = await authorizationCode(w, { config });
      const answer = await credential(w, accessToken, { config, proofs: Math.min(batch, 5) });
      // Each credential bound to its own proof key (V/VCIIssuerBatchIssuance.java:92-101).
      const issued = await expectIssued(answer, config);
      let refs: { idx: number; uri: string }[];
      if (config === MDOC) {
        const docType = metadata.credential_configurations_supported[MDOC].doctype as string;
        const msos = issued.map((c) => mso(c, docType));
        refs = msos.map((m) => m.status!);
        // :109-110 (WARNING for mdoc): validityInfo signed/validFrom/validUntil.
        expectTimeClaimsNotLinkable(msos.map((m) => m.times));
      } else {
        const sd = issued.map(sdJwt);
        // V/condition/VCIEnsureBatchSdJwtDisclosureSaltsAreDistinct (V/VCIIssuerBatchIssuance.java:97).
        const salts = sd.flatMap((c) => c.disclosures.map((d) => d[0]));
        expect(new Set(salts).size).toBe(salts.length);
        refs = sd.map((c) => c.payload.status.status_list);
        // :109-110 VCIEnsureBatchTimeClaimsNotLinkable (FAILURE for SD-JWT VC).
        expectTimeClaimsNotLinkable(sd.map((c) => c.payload));
      }
      // :118-119 VCIEnsureBatchStatusReferencesAreDistinct: no two share uri + idx.
      expect(new Set(refs.map((r) => `${r.uri}#${r.idx}`)).size).toBe(refs.length);
      // :120-122 VCIEnsureBatchStatusListIndicesAreUnpredictable (:39-51, :66-77): per list URI, three or
      // more distinct indices must not form an arithmetic progression.
      let assessed = 0;
      for (const group of Map.groupBy(refs, (r) => r.uri).values()) {
        const sorted = [...new Set(group.map((r) => r.idx))].sort((a, b) => a - b);
        if (sorted.length < 3) continue;
        assessed++;
        const stride = sorted[1]! - sorted[0]!;
        expect(sorted.slice(1).every((v, k) => v - sorted[k]! === stride)).toBe(false);
      }
      expect(assessed).toBeGreaterThan(0);
    },
  );

  it('oid4vci-1_0-issuer-fail-on-access-token-in-query: the token in the query string is refused (400, 401 or 414)', async () => {
    const w = await wallet();
    const accessToken = await authorizationCode(w);
    // C/DisallowAccessTokenInQuery.java:35-45 and :80-91: ?access_token=…, no Authorization header;
    // success fails the module, 400/401/414 pass.
    const nonce = (await send(metadata.nonce_endpoint, { method: 'POST' })).json.c_nonce;
    const holder = await holderKey();
    const proof = await new SignJWT({
      aud: metadata.credential_issuer,
      iat: Math.floor(h.app.clock.now() / 1000),
      nonce,
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'openid4vci-proof+jwt', jwk: holder.jwk })
      .sign(holder.privateKey);
    const url = `${metadata.credential_endpoint}?${form({ access_token: accessToken })}`;
    const res = await send(url, {
      headers: {
        'content-type': 'application/json',
        DPoP: await dpopProof(w.dpop, h.app.clock.now(), 'POST', metadata.credential_endpoint, accessToken),
      },
      body: JSON.stringify({ credential_configuration_id: CONFIG, proofs: { jwt: [proof] } }),
    });
    expect([400, 401, 414]).toContain(res.status);
    expect(res.json?.credentials).toBeUndefined();
    // The same token in the Authorization header still works: the refusal was about where it was sent.
    await expectIssued(await credential(w, accessToken));
  });
});
