import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holderKey, preAuthorizedCode, startVci, type VciHarness } from '../../protocol/vci/harness.ts';
import { checkMdoc, checkSdJwtVc, form, send } from './common.ts';

/**
 * The walt.id wallet (walt-id/waltid-identity at b19fda24510c7543f3c3dcad1daf2d77f4a168d1: the
 * wallet API's IssuanceService on the waltid-openid4vc library), replayed request by request in
 * the pre-authorized code flow for an SD-JWT VC and an mdoc, each answer read as its parser reads it.
 *
 * Paths below: WAPI = waltid-services/waltid-wallet-api/src/main/kotlin/id/walt/webwallet/service/exchange,
 * OID4VC = waltid-libraries/protocols/waltid-openid4vc/src/commonMain/kotlin/id/walt/oid4vc.
 */

const KNOWN_CONFIGURATION_KEYS = new Set([
  // OID4VC/data/CredentialSupported.kt:65-85: the members it decodes; every other key of a
  // configuration lands in customParameters and is copied into the credential request
  // (OID4VC/data/OfferedCredential.kt:32-42, OID4VC/requests/CredentialRequest.kt:53-64).
  'format',
  'scope',
  'vct',
  'cryptographic_binding_methods_supported',
  'id',
  'cryptographic_suites_supported',
  'types',
  'credential_signing_alg_values_supported',
  'proof_types_supported',
  'display',
  '@context',
  'credential_definition',
  'doctype',
  'credentialSubject',
  'claims',
  'order',
  'sdJwtVcTypeMetadata',
]);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * OID4VC/data/CredentialSupported.kt:82 decodes `claims` with ClaimDescriptorNamespacedMapSerializer
 * (OID4VC/data/ClaimDescriptor.kt:46-48): a map of namespace → map of claim name → ClaimDescriptor
 * object (ClaimDescriptor.kt:18-22: mandatory Boolean?, value_type String?, display list). Anything
 * else fails the decoding of the whole issuer metadata (OID4VC/OpenID4VCI.kt:177-186).
 */
function waltidReadsConfiguration(id: string, configuration: Record<string, unknown>) {
  const claims = configuration.claims;
  if (claims === undefined) return;
  expect(isObject(claims), `${id}: claims must be a namespace map`).toBe(true);
  for (const [namespace, entries] of Object.entries(claims as Record<string, unknown>)) {
    expect(isObject(entries), `${id}: claims.${namespace} must be an object`).toBe(true);
    for (const [name, descriptor] of Object.entries(entries as Record<string, unknown>)) {
      expect(isObject(descriptor), `${id}: claims.${namespace}.${name} must be a ClaimDescriptor`).toBe(true);
      const d = descriptor as Record<string, unknown>;
      if (d.mandatory !== undefined) expect(typeof d.mandatory).toBe('boolean');
      if (d.value_type !== undefined) expect(typeof d.value_type).toBe('string');
      if (d.display !== undefined) expect(Array.isArray(d.display)).toBe(true);
    }
  }
}

describe('walt.id wallet (waltid-identity b19fda24), pre-authorized code flow', () => {
  let h: VciHarness;
  beforeAll(async () => {
    // IssuanceService.kt:109-123 redeems the offer without a client id, so the token names no client
    // whose registration could list proof_kid_with_jwk: the deployment's anonymous leniencies do.
    h = await startVci({ overrides: { vci: { anonymousClientLeniencies: ['proof_kid_with_jwk'] } } });
  });
  afterAll(() => h?.stop());

  async function receive(configurationId: string) {
    const who = await h.person();
    const offer = await h.offer([configurationId], who.individualId);

    // OID4VC/OpenID4VCI.kt:177-186: GET <credential_issuer>/.well-known/openid-credential-issuer,
    // decoded whole (OpenIDProviderMetadata.fromJSONString).
    const metadataRes = await send(
      `${offer.credential_offer.credential_issuer}/.well-known/openid-credential-issuer`,
    );
    expect(metadataRes.status).toBe(200);
    const metadata = metadataRes.json;
    for (const [id, configuration] of Object.entries(metadata.credential_configurations_supported))
      waltidReadsConfiguration(id, configuration as Record<string, unknown>);

    // OID4VC/OpenID4VCI.kt:237-244: token_endpoint from the issuer metadata, else
    // authorization_servers!! (a crash without either), resolved at
    // /.well-known/oauth-authorization-server then /.well-known/openid-configuration (:265-283).
    let tokenEndpoint: string | undefined = metadata.token_endpoint;
    if (!tokenEndpoint) {
      expect(
        metadata.authorization_servers,
        'neither token_endpoint nor authorization_servers',
      ).toBeDefined();
      for (const server of metadata.authorization_servers as string[]) {
        for (const wellKnown of ['oauth-authorization-server', 'openid-configuration']) {
          const res = await send(`${server}/.well-known/${wellKnown}`);
          if (res.status === 200 && !tokenEndpoint) tokenEndpoint = res.json.token_endpoint;
        }
      }
    }
    expect(tokenEndpoint).toEqual(expect.any(String));

    // WAPI/IssuanceService.kt:109-123: TokenRequest.PreAuthorizedCode without a client id;
    // OID4VC/requests/TokenRequest.kt:12-19 and :48-52: grant_type, then pre-authorized_code
    // (client_id only when set: never in this flow); submitted as a form (OID4VC/OpenID4VCI.kt:250-253).
    const tokenRes = await send(tokenEndpoint!, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({
        grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code',
        'pre-authorized_code': preAuthorizedCode(offer),
      }),
    });
    expect(tokenRes.status, tokenRes.text).toBe(200);
    expect(tokenRes.json.access_token).toEqual(expect.any(String));
    // WAPI/IssuanceService.kt:141: the proof nonce is the token response's c_nonce.
    const nonce = tokenRes.json.c_nonce;
    expect(nonce, 'c_nonce in the token response').toEqual(expect.any(String));

    // WAPI/IssuanceServiceBase.kt:137-142: binding methods with jwk or cose_key and without the
    // exact string "did" → a key proof (WAPI/ProofOfPossessionFactory.kt:37-55), proof type the
    // first key of proof_types_supported.
    const configuration = metadata.credential_configurations_supported[configurationId];
    const bindings: string[] = configuration.cryptographic_binding_methods_supported;
    expect(bindings.includes('jwk') || bindings.includes('cose_key')).toBe(true);
    expect(bindings).not.toContain('did');
    expect(Object.keys(configuration.proof_types_supported)[0]).toBe('jwt');

    // OID4VC/providers/OpenIDCredentialWallet.kt:132-138 → OID4VC/data/ProofOfPossession.kt:87-106:
    // header typ openid4vci-proof+jwt, kid (the key id: a JWKKey's is its thumbprint) AND jwk;
    // payload jti, aud = credential issuer, iat, exp = iat + 300, nonce; no iss/sub (no client).
    const key = await holderKey();
    const now = Math.floor(h.app.clock.now() / 1000);
    const jwt = await new SignJWT({
      jti: randomUUID(),
      aud: offer.credential_offer.credential_issuer,
      iat: now,
      exp: now + 300,
      nonce,
    })
      .setProtectedHeader({
        typ: 'openid4vci-proof+jwt',
        kid: await calculateJwkThumbprint(key.jwk),
        jwk: key.jwk,
        alg: 'ES256',
      })
      .sign(key.privateKey);

    // OID4VC/requests/CredentialRequest.kt:53-64 with OfferedCredential.fromProviderMetadata
    // (OID4VC/data/OfferedCredential.kt:32-42): format, proof, vct, doctype, credential_definition
    // (type only, so {} when the configuration has none), types, display, and the configuration's
    // unknown keys flattened in (JsonDataObjectSerializer); nulls left out.
    const custom = Object.fromEntries(
      Object.entries(configuration).filter(([k]) => !KNOWN_CONFIGURATION_KEYS.has(k)),
    );
    const body = {
      format: configuration.format,
      proof: { proof_type: 'jwt', jwt },
      ...(configuration.vct ? { vct: configuration.vct } : {}),
      ...(configuration.doctype ? { doctype: configuration.doctype } : {}),
      credential_definition: configuration.credential_definition?.type
        ? { type: configuration.credential_definition.type }
        : {},
      ...(configuration.display ? { display: configuration.display } : {}),
      ...custom,
    };
    // OID4VC/OpenID4VCI.kt:285-306: POST credential_endpoint, Authorization: Bearer, JSON body.
    const credentialRes = await send(metadata.credential_endpoint, {
      headers: { authorization: `Bearer ${tokenRes.json.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(credentialRes.status, credentialRes.text).toBe(200);
    // WAPI/CredentialOfferProcessor.kt:48-62: one request per offer; the answer's top-level
    // `credential` (draft 13) is read with !!, and an SD-JWT must end with '~'.
    const credential = credentialRes.json.credential;
    expect(typeof credential).toBe('string');
    if ((credential as string).includes('~')) expect((credential as string).endsWith('~')).toBe(true);
    return { credential, key, configuration };
  }

  it('receives an SD-JWT VC with its kid+jwk proof and the token response nonce', async () => {
    const { credential, key, configuration } = await receive('NationalIdCredential_sd_jwt');
    await checkSdJwtVc(h, credential, configuration.vct, key.jwk);
  });

  it('receives an mdoc with its kid+jwk proof and the token response nonce', async () => {
    const { credential, key, configuration } = await receive('NationalIdCredential_mso_mdoc');
    checkMdoc(credential, configuration.doctype, key.jwk);
  });
});
