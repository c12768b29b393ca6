import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildUnsignedCredential,
  createLdpVcFormat,
  issueWithLibrary,
  keyObjectSigner,
} from '../../src/credentials/formats/ldp-vc.ts';
import { createLdpVcFastPath } from '../../src/credentials/formats/ldp-vc-fast.ts';
import { createFormatRegistry } from '../../src/credentials/formats/registry.ts';
import type { IssueRequest } from '../../src/credentials/formats/types.ts';
import { createDocumentLoader, ownContextUrl } from '../../src/credentials/jsonld/document-loader.ts';
import { didJwkFromJwk } from '../../src/crypto/did.ts';
import {
  didWebFromUrl,
  ed25519VerificationKey2020Id,
  verificationMethodId,
} from '../../src/keys/documents.ts';
import { type CredentialDeps, credentialDeps, START, testIssuerCa } from '../helpers/credential-deps.ts';
import { verifierLoader, verifyWithLibrary } from './ldp-vc-helpers.ts';

let deps: CredentialDeps;
beforeAll(async () => {
  deps = await credentialDeps();
});

const validFrom = new Date(Date.UTC(2026, 10, 5, 10, 0, 0));
const now = new Date(START);
const holderJwk = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' };

function request(
  overrides: Partial<IssueRequest> = {},
  cryptosuite?: IssueRequest['profile']['cryptosuite'],
): IssueRequest {
  return {
    profile: {
      configurationId: 'NationalId_ldp',
      types: ['NationalIdCredential'],
      contexts: [ownContextUrl(deps.publicUrl, 'claims-v1')],
      ...(cryptosuite ? { cryptosuite } : {}),
    },
    claims: {
      fullName: 'Amina Diallo',
      givenName: 'Amina',
      familyName: 'Diallo',
      localizedName: { en: 'Amina Diallo', ar: 'أمينة ديالو' },
      birthdate: '1990-04-01',
      address: { streetAddress: '1 Rue de la Paix', locality: 'Dakar', postalCode: '10000', country: 'SN' },
      nationality: ['SN'],
    },
    holder: { jwk: holderJwk },
    status: [
      {
        kind: 'bitstring',
        purpose: 'revocation',
        listCredentialUrl: `${deps.publicUrl}/status/1`,
        index: 93817,
      },
    ],
    validFrom,
    validUntil: new Date(Date.UTC(2027, 10, 5, 10, 0, 0)),
    ...overrides,
  };
}

describe('ldp_vc format', () => {
  it('issues a VCDM 2.0 eddsa-rdfc-2022 credential that the stock verifier accepts', async () => {
    const format = createLdpVcFormat(deps);
    const credential = (await format.issue(request())) as Record<string, any>;
    const key = deps.keys.active('credential', 'EdDSA');
    expect(credential['@context'][0]).toBe('https://www.w3.org/ns/credentials/v2');
    expect(credential.issuer).toBe(didWebFromUrl(deps.publicUrl));
    expect(credential.validFrom).toBe('2026-11-05T10:00:00Z');
    expect(credential.validUntil).toBe('2027-11-05T10:00:00Z');
    expect(credential.credentialSubject.id).toBe(didJwkFromJwk(holderJwk));
    expect(credential.credentialStatus).toEqual({
      id: `${deps.publicUrl}/status/1#93817`,
      type: 'BitstringStatusListEntry',
      statusPurpose: 'revocation',
      statusListIndex: '93817',
      statusListCredential: `${deps.publicUrl}/status/1`,
    });
    expect(credential.proof).toMatchObject({
      type: 'DataIntegrityProof',
      cryptosuite: 'eddsa-rdfc-2022',
      created: '2026-11-05T10:00:00Z',
      proofPurpose: 'assertionMethod',
      verificationMethod: verificationMethodId(deps.publicUrl, key.kid),
    });
    const result = await verifyWithLibrary(credential, verifierLoader(deps.keys, deps.publicUrl), now);
    expect(result.error).toBeUndefined();
    expect(result.verified).toBe(true);
  });

  it('issues ecdsa-rdfc-2019 with the P-256 key and VCDM 1.1 Ed25519Signature2020 that verify', async () => {
    const format = createLdpVcFormat(deps);
    const loader = verifierLoader(deps.keys, deps.publicUrl);
    const ecdsa = (await format.issue(request({}, 'ecdsa-rdfc-2019'))) as Record<string, any>;
    expect(ecdsa.proof.cryptosuite).toBe('ecdsa-rdfc-2019');
    expect(ecdsa.proof.verificationMethod).toBe(
      verificationMethodId(deps.publicUrl, deps.keys.active('credential', 'ES256').kid),
    );
    expect((await verifyWithLibrary(ecdsa, loader, now)).verified).toBe(true);

    const v1 = (await format.issue(request({}, 'Ed25519Signature2020'))) as Record<string, any>;
    expect(v1['@context'][0]).toBe('https://www.w3.org/2018/credentials/v1');
    expect(v1.issuanceDate).toBe('2026-11-05T10:00:00Z');
    expect(v1.expirationDate).toBe('2027-11-05T10:00:00Z');
    expect(v1.validFrom).toBeUndefined();
    expect(v1.proof.type).toBe('Ed25519Signature2020');
    // The suite's own key type (the MOSIP vc-verifier loads publicKeyMultibase from nothing else).
    expect(v1.proof.verificationMethod).toBe(
      ed25519VerificationKey2020Id(deps.publicUrl, deps.keys.active('credential', 'EdDSA').kid),
    );
    const result = await verifyWithLibrary(v1, loader, now);
    expect(result.error).toBeUndefined();
    expect(result.verified).toBe(true);
  });

  it('uses the holder DID when the wallet proved with one, and no subject id without binding', async () => {
    const unsigned = buildUnsignedCredential(
      request({ holder: { jwk: holderJwk, did: 'did:key:z6MkExample' } }),
      'did:web:x',
    );
    expect((unsigned.credentialSubject as Record<string, unknown>).id).toBe('did:key:z6MkExample');
    const { holder: _ignored, ...rest } = request();
    const bare = buildUnsignedCredential(rest, 'did:web:x');
    expect((bare.credentialSubject as Record<string, unknown>).id).toBeUndefined();
  });

  it('does not mutate the request claims', async () => {
    const req = request();
    const before = structuredClone(req.claims);
    await createLdpVcFormat(deps).issue(req);
    expect(req.claims).toEqual(before);
  });

  it('refuses to sign a claim the contexts do not define (safe mode), on both paths', async () => {
    const req = request({ claims: { fullName: 'A', nationalIdNumber: '123' } });
    await expect(createLdpVcFormat(deps).issue(req)).rejects.toThrow();
    await expect(createLdpVcFormat(deps, { fastPath: false }).issue(req)).rejects.toThrow();
  });

  it('is reachable through the format registry', async () => {
    const issuerCa = await testIssuerCa(deps);
    const registry = createFormatRegistry({
      keys: deps.keys,
      publicUrl: deps.publicUrl,
      clock: deps.clock,
      issuerCa,
    });
    expect(registry.get('ldp_vc')?.id).toBe('ldp_vc');
  });
});

describe('ldp_vc fast path', () => {
  it('produces the same bytes as the library path and reuses one template per shape', async () => {
    const documentLoader = createDocumentLoader({ publicUrl: deps.publicUrl });
    const key = deps.keys.active('credential', 'EdDSA');
    const signer = keyObjectSigner(verificationMethodId(deps.publicUrl, key.kid), 'EdDSA', key.privateKey);
    const fast = createLdpVcFastPath({ documentLoader });
    for (const name of ['Ann', 'Bo', 'Céline']) {
      const unsigned = buildUnsignedCredential(
        request({ claims: { ...request().claims, fullName: name } }),
        didWebFromUrl(deps.publicUrl),
      );
      const result = await fast.sign(unsigned, {
        cryptosuite: 'eddsa-rdfc-2022',
        signer,
        created: validFrom,
      });
      const stock = await issueWithLibrary(unsigned, 'eddsa-rdfc-2022', signer, validFrom, documentLoader);
      expect(JSON.stringify(result?.credential)).toBe(JSON.stringify(stock));
      expect(result?.canonicalDocument).toBe(
        await eddsaRdfc2022.canonize(unsigned, { documentLoader, base: null, safe: true }),
      );
    }
    expect(fast.stats()).toMatchObject({ fast: 3, fallback: 0, shapes: 1, slowShapes: 0 });
  });

  it('dedupes values that JSON-LD collapses (duplicate array items)', async () => {
    const documentLoader = createDocumentLoader({ publicUrl: deps.publicUrl });
    const key = deps.keys.active('credential', 'EdDSA');
    const signer = keyObjectSigner('did:web:x#k', 'EdDSA', key.privateKey);
    const fast = createLdpVcFastPath({ documentLoader });
    const unsigned = buildUnsignedCredential(
      request({ claims: { nationality: ['SN', 'SN', 'FR'] } }),
      didWebFromUrl(deps.publicUrl),
    );
    const result = await fast.sign(unsigned, { cryptosuite: 'eddsa-rdfc-2022', signer, created: validFrom });
    expect(result?.canonicalDocument).toBe(
      await eddsaRdfc2022.canonize(unsigned, { documentLoader, base: null, safe: true }),
    );
  });

  it('falls back for values it cannot template (non-integer numbers)', async () => {
    const documentLoader = createDocumentLoader({ publicUrl: deps.publicUrl });
    const key = deps.keys.active('credential', 'EdDSA');
    const signer = keyObjectSigner('did:web:x#k', 'EdDSA', key.privateKey);
    const fast = createLdpVcFastPath({ documentLoader });
    const unsigned = buildUnsignedCredential(request({ claims: { birthYear: 1990.5 } }), 'did:web:x');
    expect(
      await fast.sign(unsigned, { cryptosuite: 'eddsa-rdfc-2022', signer, created: validFrom }),
    ).toBeUndefined();
    expect(fast.stats().fallback).toBe(1);
  });
});
