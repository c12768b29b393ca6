import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVci, type VciHarness } from '../../protocol/vci/harness.ts';

/**
 * The issuer metadata our service serves, read by the rules of each wallet's metadata parser as
 * its source states them ("a deployed client's source code is a spec"). Each rule cites repository,
 * commit and file:line; nothing of their code is copied. A rule set returns the reasons the parser
 * would refuse the metadata (or the one configuration that wallet asks for), so a test can show
 * both that our metadata passes and that the rule does fail on what the parser refuses.
 *
 * EUDI: eu-digital-identity-wallet/eudi-lib-jvm-openid4vci-kt, src/main/kotlin/eu/europa/ec/eudi/
 *   openid4vci/internal/http/CredentialIssuerMetadataJsonParser.kt, at tag v0.10.1
 *   (89a2ac584f2fce1751001772152bfae20e301a4f) and HEAD (e1336d6631084f342f925a07f11f01162c611fd5).
 *   Decoded with ignoreUnknownKeys = true (internal/Serialization.kt:39-41 at HEAD), one pass: a
 *   configuration that fails toDomain() rejects the whole metadata (HEAD :718-722, v0.10.1 :658).
 * walt.id: walt-id/waltid-identity b19fda24510c7543f3c3dcad1daf2d77f4a168d1,
 *   waltid-libraries/protocols/waltid-openid4vc/src/commonMain/kotlin/id/walt/oid4vc/ (data/...).
 *   Decoded with the default (strict) Json; JsonDataObjectSerializer moves unknown members of its
 *   own classes into customParameters (data/JsonDataObject.kt:48-62), plain classes stay strict.
 * Inji: mosip/inji-vci-client develop 572e1a3cd8afd7860601c5e10110d065ace463af, kotlin/vci-client/
 *   src/main/java/io/mosip/vciclient/issuerMetadata/IssuerMetadataService.kt (reads a raw map).
 */

type Json = Record<string, any>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringList = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** EUDI ClaimTO: `path` is a required JsonArray (HEAD :596-598, v0.10.1 :534-536). */
function eudiClaim(where: string, claim: unknown): string[] {
  return isObject(claim) && Array.isArray(claim.path) ? [] : [`${where}: claim without a path array`];
}

function eudi(m: Json, issuer: string, version: 'v0.10.1' | 'HEAD'): string[] {
  const errors: string[] = [];
  // toDomain: credential_issuer present and equal to the issuer asked for (HEAD :684-694).
  if (m.credential_issuer !== issuer) errors.push('credential_issuer does not match');
  // authorization_servers: List<String>? (HEAD :426, :696-698).
  if (m.authorization_servers !== undefined && !isStringList(m.authorization_servers))
    errors.push('authorization_servers is not a list of strings');
  if (typeof m.credential_endpoint !== 'string') errors.push('missing credential_endpoint'); // HEAD :700-704
  // credential_response_encryption ⇒ credential_request_encryption (HEAD :738-743, v0.10.1 :678-682),
  // which needs jwks and enc_values_supported (HEAD :521-527).
  if (m.credential_response_encryption) {
    const req = m.credential_request_encryption;
    if (!isObject(req)) errors.push('credential_response_encryption without credential_request_encryption');
    else if (!isObject(req.jwks) || !isStringList(req.enc_values_supported))
      errors.push('credential_request_encryption without jwks or enc_values_supported');
  }
  if (m.batch_credential_issuance && !Number.isInteger(m.batch_credential_issuance.batch_size))
    errors.push('batch_size is not an integer'); // HEAD :415-418
  // KeepKnownConfigurations drops formats it does not know (HEAD :442-475).
  const known = new Set(['mso_mdoc', 'dc+sd-jwt', 'jwt_vc_json', 'jwt_vc_json-ld', 'ldp_vc']);
  const configurations = Object.entries((m.credential_configurations_supported ?? {}) as Json).filter(
    ([, c]) => isObject(c) && known.has(c.format),
  );
  if (configurations.length === 0) errors.push('no credential configuration'); // HEAD :725
  for (const [id, c] of configurations) {
    const at = (what: string) => `${id}: ${what}`;
    if (c.format === 'mso_mdoc') {
      if (typeof c.doctype !== 'string') errors.push(at('doctype missing')); // HEAD :161 @Required
      // credential_signing_alg_values_supported: List<Int> (HEAD :157-158).
      if (c.credential_signing_alg_values_supported?.some((a: unknown) => !Number.isInteger(a)))
        errors.push(at('mso_mdoc signing algorithms are not COSE integers'));
    }
    if (c.format === 'dc+sd-jwt' && typeof c.vct !== 'string') errors.push(at('vct missing')); // HEAD :208
    if (c.format === 'ldp_vc' || c.format === 'jwt_vc_json-ld') {
      // W3CJsonLdCredentialDefinitionTO: @context and type, both List<String> (HEAD :243-247, :270).
      const d = c.credential_definition;
      if (!isObject(d) || !isStringList(d['@context']) || !isStringList(d.type))
        errors.push(at('credential_definition without @context and type lists'));
    }
    if (c.format === 'jwt_vc_json') {
      // CredentialDefinitionTO: type, and credentialSubject as Map<String, ClaimTO> (HEAD :376-380).
      const d = c.credential_definition;
      if (!isObject(d) || !isStringList(d.type)) errors.push(at('credential_definition without type'));
      for (const [name, claim] of Object.entries((d?.credentialSubject ?? {}) as Json))
        errors.push(...eudiClaim(at(`credentialSubject.${name}`), claim));
    }
    // CredentialMetadataTO: display List<{name @Required}>, claims List<ClaimTO> (HEAD :96-109, :541-542).
    const meta = c.credential_metadata;
    for (const d of meta?.display ?? [])
      if (typeof d?.name !== 'string') errors.push(at('credential display without name'));
    for (const claim of meta?.claims ?? [])
      errors.push(...eudiClaim(at('credential_metadata.claims'), claim));
    // Binding methods need proof types (HEAD :222-230).
    const proofTypes = Object.entries((c.proof_types_supported ?? {}) as Json);
    if ((c.cryptographic_binding_methods_supported ?? []).length > 0 && proofTypes.length === 0)
      errors.push(at('binding methods without proof types'));
    for (const [type, meta] of proofTypes) {
      // v0.10.1 :589-596: an attestation proof type must carry key_attestations_required.
      // HEAD :639-656 (from v0.12.0 on): jwt and attestation must both carry it.
      const mustRequire = version === 'HEAD' ? ['jwt', 'attestation'] : ['attestation'];
      if (mustRequire.includes(type) && !isObject(meta.key_attestations_required))
        errors.push(at(`${type} proof type without key_attestations_required`));
    }
  }
  return errors;
}

/** walt.id ClaimDescriptor (data/ClaimDescriptor.kt:18-25): members typed, nested objects are claims. */
function waltClaim(where: string, d: unknown): string[] {
  if (!isObject(d)) return [`${where}: claim descriptor is not an object`];
  const errors: string[] = [];
  if (d.mandatory !== undefined && typeof d.mandatory !== 'boolean') errors.push(`${where}: mandatory`);
  if (d.value_type !== undefined && typeof d.value_type !== 'string') errors.push(`${where}: value_type`);
  if (d.display !== undefined) errors.push(...waltDisplay(where, d.display));
  for (const [k, v] of Object.entries(d))
    if (!['mandatory', 'value_type', 'display'].includes(k) && isObject(v))
      errors.push(...waltClaim(`${where}.${k}`, v));
  return errors;
}

/** DisplayProperties: `name` is a non-null String (data/DisplayProperties.kt:26-27). */
function waltDisplay(where: string, list: unknown): string[] {
  if (!Array.isArray(list)) return [`${where}: display is not a list`];
  return list.some((d) => !isObject(d) || typeof d.name !== 'string')
    ? [`${where}: display without name`]
    : [];
}

function waltId(m: Json): string[] {
  const errors: string[] = [];
  // Draft 11 is chosen only by `credentials_supported` (data/OpenIDProviderMetadata.kt:473-483).
  if ('credentials_supported' in m) errors.push('read as draft 11');
  // sendTokenRequest: tokenEndpoint ?: authorizationServers!! (OpenID4VCI.kt:237-244).
  if (typeof m.token_endpoint !== 'string' && !isStringList(m.authorization_servers))
    errors.push('neither token_endpoint nor authorization_servers');
  if (m.display !== undefined) errors.push(...waltDisplay('issuer', m.display)); // :412
  for (const [id, c] of Object.entries((m.credential_configurations_supported ?? {}) as Json)) {
    if (!isObject(c) || !('format' in c)) continue; // skipped (data/CredentialSupported.kt:133-136)
    const at = (what: string) => `${id}: ${what}`;
    // CredentialFormat.fromValue or "Unsupported format" (data/CredentialFormat.kt:11-22, :42-46).
    const formats = ['jwt_vc_json', 'jwt_vc_json-ld', 'ldp_vc', 'dc+sd-jwt', 'vc+sd-jwt', 'mso_mdoc'];
    if (!formats.includes(c.format)) errors.push(at('unsupported format'));
    // proof_types_supported: Map<ProofType, ProofTypeMetadata>; ProofType is {jwt, cwt, ldp_vp} and
    // ProofTypeMetadata a plain class with one member (ProofOfPossession.kt:195-202), decoded strictly.
    for (const [type, meta] of Object.entries((c.proof_types_supported ?? {}) as Json)) {
      if (!['jwt', 'cwt', 'ldp_vp'].includes(type)) errors.push(at(`proof type ${type} is not a ProofType`));
      for (const key of Object.keys(meta as Json))
        if (key !== 'proof_signing_alg_values_supported') errors.push(at(`unknown key ${key} in ${type}`));
      if (!isStringList((meta as Json).proof_signing_alg_values_supported))
        errors.push(at(`${type} without proof_signing_alg_values_supported`));
    }
    // FlexibleAlgSetSerializer: all strings or all integers (data/CredentialSupported.kt:197-227).
    const algs = c.credential_signing_alg_values_supported;
    if (algs !== undefined && !(isStringList(algs) || algs.every((a: unknown) => Number.isInteger(a))))
      errors.push(at('signing algorithms mix strings and integers'));
    if (c.display !== undefined) errors.push(...waltDisplay(at('display'), c.display)); // :77
    // credentialSubject: Map<String, ClaimDescriptor> (:81); claims: Map<String, Map<String,
    // ClaimDescriptor>>, namespace → claim → descriptor (:82, data/ClaimDescriptor.kt:46-55).
    for (const [k, v] of Object.entries((c.credentialSubject ?? {}) as Json))
      errors.push(...waltClaim(at(k), v));
    if (c.claims !== undefined) {
      if (!isObject(c.claims)) errors.push(at('claims is not a namespace map'));
      else
        for (const [ns, claims] of Object.entries(c.claims)) {
          if (!isObject(claims)) errors.push(at(`claims.${ns} is not a map of claims`));
          else for (const [k, v] of Object.entries(claims)) errors.push(...waltClaim(at(`${ns}.${k}`), v));
        }
    }
    if (c.order !== undefined && !isStringList(c.order)) errors.push(at('order')); // :83
    // CredentialDefinitionSerializer reads `type` as a list of strings (data/CredentialDefinition.kt:25-28).
    if (c.credential_definition !== undefined && !isStringList(c.credential_definition.type))
      errors.push(at('credential_definition.type'));
  }
  return errors;
}

/** Inji: resolveMetadata for the configuration the wallet asks for (IssuerMetadataService.kt:68-121). */
function inji(m: Json, id: string): string[] {
  const errors: string[] = [];
  const c = m.credential_configurations_supported?.[id]; // :72-77
  if (!isObject(c)) return [`${id}: configuration not found`];
  if (typeof m.credential_endpoint !== 'string') errors.push('missing credential_endpoint'); // :78-79
  if (typeof m.credential_issuer !== 'string') errors.push('missing credential_issuer'); // :80-81
  if (c.format === 'mso_mdoc') {
    if (typeof c.doctype !== 'string') errors.push(`${id}: missing doctype`); // :87-88
  } else if (c.format === 'ldp_vc') {
    // :103-106, `as?` casts: a missing list only yields null, and the request then lacks the type.
    if (!isStringList(c.credential_definition?.type) || !isStringList(c.credential_definition?.['@context']))
      errors.push(`${id}: credential_definition without type and @context`);
  } else errors.push(`${id}: unsupported format ${c.format}`); // :119
  // authorization_servers `as? List<String>` (:98, :114); one server is discovered and its RFC 8414
  // issuer must equal it (authorizationServer/AuthorizationServerResolver.kt:43-44, :67-68).
  if (!isStringList(m.authorization_servers) || m.authorization_servers.length === 0)
    errors.push('no authorization_servers (the app on 0.2 reads [0] unguarded)');
  return errors;
}

describe('the issuer metadata, read by each wallet parser as its source states it', () => {
  let h: VciHarness;
  let served: Json;
  beforeAll(async () => {
    h = await startVci();
    // EUDI fetches the 1.0 path; walt.id and Inji append the well-known suffix to the issuer
    // (walt.id OpenID4VCI.kt:152-154, Inji IssuerMetadataService.kt:11, :46): the same URL for an
    // issuer without a path (test/protocol/vci/metadata.test.ts serves both for one with a path).
    served = (await (await request(`${h.url}/.well-known/openid-credential-issuer`)).body.json()) as Json;
  });
  afterAll(() => h.stop());

  it('EUDI library 0.10.1 reads every configuration', () => {
    expect(eudi(served, h.url, 'v0.10.1')).toEqual([]);
  });

  it('the EUDI rules refuse what the library refuses: a draft-13 credentialSubject entry without path', () => {
    const broken = structuredClone(served);
    broken.credential_configurations_supported.NationalIdCredential_jwt_vc_json.credential_definition.credentialSubject =
      { givenName: { mandatory: true } };
    expect(eudi(broken, h.url, 'v0.10.1')).toEqual([
      'NationalIdCredential_jwt_vc_json: credentialSubject.givenName: claim without a path array',
    ]);
  });

  it('EUDI from 0.12 on needs key_attestations_required on every jwt proof type: opt-in per configuration, and then it reads them all', async () => {
    // Without it (the default, because walt.id breaks on it) the current library refuses the metadata.
    const refusals = eudi(served, h.url, 'HEAD');
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.every((r) => r.endsWith('jwt proof type without key_attestations_required'))).toBe(true);
    // A deployment for EUDI wallets requires key attestations on its definitions (admin API).
    const ids = (
      (await h.admin('GET', '/credential-configurations')).body.configurations as { id: string }[]
    ).map((d) => d.id);
    const setRequirement = async (required: boolean) => {
      for (const id of ids) {
        const { version: _v, ...def } = (await h.admin('GET', `/credential-configurations/${id}`)).body;
        if (!def.binding) continue;
        const { keyAttestationsRequired: _k, ...binding } = def.binding;
        const res = await h.admin('PUT', `/credential-configurations/${id}`, {
          ...def,
          binding: required ? { ...binding, keyAttestationsRequired: {} } : binding,
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      }
    };
    await setRequirement(true);
    try {
      const attested = (await (
        await request(`${h.url}/.well-known/openid-credential-issuer`)
      ).body.json()) as Json;
      expect(eudi(attested, h.url, 'HEAD')).toEqual([]);
      // ... and walt.id cannot read that metadata (its ProofTypeMetadata is strict): the two conflict.
      expect(waltId(attested).some((r) => r.includes('unknown key key_attestations_required'))).toBe(true);
    } finally {
      await setRequirement(false);
    }
  });

  it('walt.id reads every configuration and finds the token endpoint through authorization_servers', async () => {
    const fresh = (await (
      await request(`${h.url}/.well-known/openid-credential-issuer`)
    ).body.json()) as Json;
    expect(waltId(fresh)).toEqual([]);
    // resolveOAuthServersTokenEndpoint tries <as>/.well-known/oauth-authorization-server first (OpenID4VCI.kt:265-275).
    const as = (await (
      await request(`${fresh.authorization_servers[0]}/.well-known/oauth-authorization-server`)
    ).body.json()) as Json;
    expect(as.token_endpoint).toBe(`${h.url}/token`);
  });

  it('the walt.id rules refuse what walt.id refuses: the draft-13 boolean claims map on an SD-JWT configuration', () => {
    const broken = structuredClone(served);
    broken.credential_configurations_supported.NationalIdCredential_sd_jwt.claims = {
      givenName: { mandatory: true },
    };
    expect(waltId(broken)).toEqual([
      'NationalIdCredential_sd_jwt: givenName.mandatory: claim descriptor is not an object',
    ]);
  });

  it('Inji reads the ldp_vc and mso_mdoc configurations, and authorization_servers[0] is the provider', async () => {
    for (const id of Object.keys(served.credential_configurations_supported).filter((k) =>
      ['ldp_vc', 'mso_mdoc'].includes(served.credential_configurations_supported[k].format),
    ))
      expect(inji(served, id), id).toEqual([]);
    const as = (await (
      await request(`${served.authorization_servers[0]}/.well-known/oauth-authorization-server`)
    ).body.json()) as Json;
    expect(as.issuer).toBe(served.authorization_servers[0]);
    expect(as.grant_types_supported ?? ['authorization_code']).toContain('authorization_code');
    expect(as.authorization_endpoint).toEqual(expect.any(String));
  });
});
