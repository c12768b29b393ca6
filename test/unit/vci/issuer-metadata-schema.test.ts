import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { decodeJwt } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVci, type VciHarness } from '../../protocol/vci/harness.ts';

/**
 * The issuer metadata the service serves, validated against test/unit/vci/issuer-metadata.schema.json:
 * a JSON Schema written from OpenID4VCI 1.0 §12.2.4 and Appendix A (required members, types,
 * format-specific parameters). It makes the structural checks of the OIDF issuer tests'
 * VCICredentialIssuerMetadataValidation (whose schema is not copied), VCICheckRequiredMetadataFields,
 * VCIValidateProofTypesCoPresence, VCIValidateCredentialConfigurationScopeSyntax and
 * VCICheckForOldSdJwtFormatInCredentialConfigurations (openid-certification/conformance-suite
 * 12f2a4dac6462f8a4e95968bc7e478e02881e1a7, src/main/java/net/openid/conformance/vci10issuer/condition/).
 */
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const schema = JSON.parse(readFileSync(new URL('./issuer-metadata.schema.json', import.meta.url), 'utf8'));
const ajv = addFormats(new Ajv({ allErrors: true, strict: false }));
const validate = ajv.compile(schema);
const errorsOf = (doc: unknown) =>
  validate(doc) ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message}`);

describe('issuer metadata against the schema written from OpenID4VCI 1.0 §12.2.4 and Appendix A', () => {
  let h: VciHarness;
  let served: Record<string, any>;
  beforeAll(async () => {
    h = await startVci();
    served = (await (await request(`${h.url}/.well-known/openid-credential-issuer`)).body.json()) as any;
  });
  afterAll(() => h.stop());

  it('validates what the service serves, as JSON and as signed metadata claims', async () => {
    expect(errorsOf(served)).toEqual([]);
    const jwt = await (
      await request(`${h.url}/.well-known/openid-credential-issuer`, {
        headers: { accept: 'application/jwt' },
      })
    ).body.text();
    // §12.2.3: the JWT claims are the metadata plus iss/sub/iat/exp (the OIDF test removes those).
    const { iss: _i, sub: _s, iat: _t, exp: _e, ...claims } = decodeJwt(jwt);
    expect(errorsOf(claims)).toEqual([]);
  });

  it('refuses what the spec refuses', () => {
    const bad = (change: (m: any) => void) => {
      const m = structuredClone(served);
      change(m);
      return errorsOf(m);
    };
    const ids = served.credential_configurations_supported;
    expect(ids.NationalIdCredential_sd_jwt).toBeDefined();
    expect(bad((m) => delete m.credential_endpoint)).not.toEqual([]);
    expect(
      bad((m) => delete m.credential_configurations_supported.NationalIdCredential_sd_jwt.vct),
    ).not.toEqual([]);
    // The draft-13 claims map the OIDF schema fails on.
    expect(
      bad((m) => {
        m.credential_configurations_supported.NationalIdCredential_sd_jwt.claims = { givenName: {} };
      }),
    ).not.toEqual([]);
    expect(
      bad((m) => {
        m.credential_configurations_supported.NationalIdCredential_mso_mdoc.credential_signing_alg_values_supported =
          ['ES256'];
      }),
    ).not.toEqual([]);
    expect(
      bad(
        (m) => delete m.credential_configurations_supported.NationalIdCredential_ldp_vc.proof_types_supported,
      ),
    ).not.toEqual([]);
    expect(bad((m) => (m.batch_credential_issuance = { batch_size: 1 }))).not.toEqual([]);
    expect(
      bad((m) => {
        m.credential_configurations_supported.NationalIdCredential_sd_jwt.credential_metadata.claims.push({
          path: [],
        });
      }),
    ).not.toEqual([]);
    expect(
      bad((m) => {
        m.credential_configurations_supported.NationalIdCredential_sd_jwt.format = 'vc+sd-jwt';
      }),
    ).not.toEqual([]);
  });
});
