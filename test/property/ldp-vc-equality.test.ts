import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import { cryptosuite as ecdsaRdfc2019 } from '@digitalbazaar/ecdsa-rdfc-2019-cryptosuite';
import { Ed25519Signature2020 } from '@digitalbazaar/ed25519-signature-2020';
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as vc from '@digitalbazaar/vc';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUnsignedCredential, keyObjectSigner } from '../../src/credentials/formats/ldp-vc.ts';
import { createLdpVcFastPath, type FastCryptosuite } from '../../src/credentials/formats/ldp-vc-fast.ts';
import type { IssueRequest, StatusEntry } from '../../src/credentials/formats/types.ts';
import { createDocumentLoader, ownContextUrl } from '../../src/credentials/jsonld/document-loader.ts';
import { didWebFromUrl, verificationMethodId } from '../../src/keys/documents.ts';
import { type CredentialDeps, credentialDeps } from '../helpers/credential-deps.ts';
import { verifierLoader, verifyWithLibrary } from '../unit/ldp-vc-helpers.ts';

/**
 * Equality of the ldp_vc fast path with the full JSON-LD path (issue 5, "Proof of equality").
 * For RUNS varied credentials per configuration: the canonical N-Quads of the document and the
 * signature input (hash of canonical proof config ‖ hash of canonical document) are byte-identical
 * to what @digitalbazaar/vc computes, the credentials are identical (Ed25519 is deterministic; for
 * ECDSA everything but the randomized proofValue), and results verify with the stock verifier.
 * Suites: eddsa-rdfc-2022 and ecdsa-rdfc-2019 (VCDM 2.0), Ed25519Signature2020 (VCDM 1.1).
 *
 * Each run signs the generated credential and a same-shape sibling with other values, so template
 * reuse (the fast path's steady state) is covered as well as template building. Every result is
 * verified: stock verification measured 2–6 ms per credential here, ~35 s for the whole file.
 */
const RUNS = 500;
const VERIFY_EVERY = 1; // raise to verify a subset if CI gets slower

let deps: CredentialDeps;
beforeAll(async () => {
  deps = await credentialDeps();
});

const LANGS = ['en', 'fr', 'ar', 'zh-Hant', 'pt-BR', 'EN-gb', 'sw'];
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(
    '',
    ' ',
    'a:b',
    'https://x.example/a b',
    'did:example:123',
    '"quoted"\\\n\t',
    '_:b0',
    '@id',
  ),
  fc.string({ minLength: 500, maxLength: 3000 }),
);
const date = fc
  .date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));
const address = fc.record(
  {
    streetAddress: text,
    locality: text,
    region: text,
    postalCode: text,
    country: fc.constantFrom('SN', 'FR', 'KE'),
  },
  { requiredKeys: [] },
);
const nationalId = fc.record(
  {
    fullName: text,
    givenName: text,
    familyName: text,
    localizedName: fc.dictionary(fc.constantFrom(...LANGS), text, { maxKeys: 3 }),
    birthdate: date,
    gender: fc.constantFrom('female', 'male', 'other', ''),
    address,
    email: text,
    phone: text,
    nationality: fc.array(fc.constantFrom('SN', 'FR', 'KE', 'US'), { maxLength: 4 }),
    picture: fc.base64String({ maxLength: 400 }).map((b) => `data:image/png;base64,${b}`),
  },
  { requiredKeys: ['fullName'] },
);
const age = fc.record(
  { ageOver18: fc.boolean(), ageOver21: fc.boolean(), birthYear: fc.integer({ min: 1900, max: 2030 }) },
  { requiredKeys: [] },
);
const holder = fc.option(
  fc.oneof(
    fc
      .uint8Array({ minLength: 32, maxLength: 32 })
      .map((b) => Buffer.from(b).toString('base64url'))
      .map((x) => ({ jwk: { kty: 'OKP', crv: 'Ed25519', x } })),
    fc.stringMatching(/^z6Mk[1-9A-HJ-NP-Za-km-z]{20,44}$/).map((id) => ({
      jwk: { kty: 'OKP', crv: 'Ed25519', x: 'AA' },
      did: `did:key:${id}`,
    })),
  ),
  { nil: undefined },
);
const status = (publicUrl: string) =>
  fc
    .subarray(['revocation', 'suspension'] as const)
    .chain((purposes) =>
      fc.tuple(
        ...purposes.map((purpose) =>
          fc.record({
            kind: fc.constant('bitstring' as const),
            purpose: fc.constant(purpose),
            listCredentialUrl: fc.integer({ min: 1, max: 9 }).map((n) => `${publicUrl}/status/${n}`),
            index: fc.integer({ min: 0, max: 131_071 }),
          }),
        ),
      ),
    )
    .map((entries) => entries as StatusEntry[]);

function requests(configurationId: string, types: string[], claims: fc.Arbitrary<Record<string, unknown>>) {
  return fc
    .record({
      claims,
      holder,
      status: status(deps.publicUrl),
      validFrom: fc
        .integer({ min: 0, max: 24 * 365 })
        .map((h) => new Date(Date.UTC(2026, 0, 1) + h * 3_600_000)),
      validUntil: fc.option(fc.constant(new Date(Date.UTC(2031, 0, 1))), { nil: undefined }),
      credentialId: fc.option(
        fc.uuid().map((u) => `urn:uuid:${u}`),
        { nil: undefined },
      ),
    })
    .map(
      (r): IssueRequest => ({
        ...r,
        profile: { configurationId, types, contexts: [ownContextUrl(deps.publicUrl, 'claims-v1')] },
      }),
    );
}

/** Plain strings (never IRI-looking), so a sibling keeps its original's shape. */
const plainText = text.filter((t) => !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(t));

/**
 * A credential with the same shape as `req` but other values: exercises template reuse, which is
 * what the fast path does for every credential after the first of a shape.
 */
function sibling(req: IssueRequest, pool: string[], seed: number): IssueRequest {
  let i = 0;
  const revalue = (v: unknown): unknown => {
    if (typeof v === 'string') {
      if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(v)) return v;
      return pool[i++ % pool.length];
    }
    if (typeof v === 'number') return 1900 + ((v + seed) % 130);
    if (Array.isArray(v)) return v.map(revalue);
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revalue(x)]));
    return v;
  };
  const claims = revalue(req.claims) as Record<string, unknown>;
  // birthdate keeps its xsd:date form; it is data, not structure, so any valid date will do.
  if (typeof req.claims.birthdate === 'string')
    claims.birthdate = `19${String(seed % 100).padStart(2, '0')}-02-28`;
  return {
    ...req,
    claims,
    status: req.status?.map((s) =>
      s.kind === 'bitstring' ? { ...s, index: (s.index + seed) % 131_072 } : s,
    ),
    holder: req.holder?.did
      ? { ...req.holder, did: `${req.holder.did}x${seed}` }
      : req.holder && { jwk: { ...req.holder.jwk, x: Buffer.from(String(seed)).toString('base64url') } },
    validFrom: new Date(req.validFrom.getTime() + (seed % 48) * 3_600_000),
  };
}

/** The stock path, capturing what the library canonicalized and signed. */
const algOf = (suite: FastCryptosuite) => (suite === 'ecdsa-rdfc-2019' ? 'ES256' : 'EdDSA');

async function stockIssue(unsigned: Record<string, unknown>, suiteName: FastCryptosuite, created: Date) {
  const alg = algOf(suiteName);
  const key = deps.keys.active('credential', alg);
  const captured: { document?: string; verifyData?: Uint8Array } = {};
  const inner = keyObjectSigner(verificationMethodId(deps.publicUrl, key.kid), alg, key.privateKey);
  const signer = {
    ...inner,
    async sign({ data }: { data: Uint8Array }) {
      captured.verifyData = data;
      return inner.sign({ data });
    },
  };
  const documentLoader = createDocumentLoader({ publicUrl: deps.publicUrl });
  let suite: unknown;
  if (suiteName === 'Ed25519Signature2020') {
    // Captures what LinkedDataSignature.canonize produced for the document (not the proof options).
    const legacy = new Ed25519Signature2020({ signer, date: created }) as any;
    const canonize = legacy.canonize.bind(legacy);
    legacy.canonize = async (input: any, options: unknown) => {
      const c = await canonize(input, options);
      if (input?.type !== 'Ed25519Signature2020') captured.document = c;
      return c;
    };
    suite = legacy;
  } else {
    const base = suiteName === 'eddsa-rdfc-2022' ? eddsaRdfc2022 : ecdsaRdfc2019;
    const cryptosuite = {
      ...base,
      async canonize(input: any, options?: Record<string, unknown>) {
        const c = await base.canonize(input, options);
        if (input?.type !== 'DataIntegrityProof') captured.document = c;
        return c;
      },
    };
    suite = new DataIntegrityProof({ signer, date: created, cryptosuite });
  }
  const credential = await vc.issue({ credential: structuredClone(unsigned), suite, documentLoader });
  return { credential, ...captured, signer: inner };
}

const keyFor = (suite: FastCryptosuite) => {
  const alg = algOf(suite);
  const key = deps.keys.active('credential', alg);
  return keyObjectSigner(verificationMethodId(deps.publicUrl, key.kid), alg, key.privateKey);
};

const CONFIGS: [string, FastCryptosuite, string[], () => fc.Arbitrary<Record<string, unknown>>][] = [
  ['NationalId eddsa-rdfc-2022', 'eddsa-rdfc-2022', ['NationalIdCredential'], () => nationalId],
  ['Age eddsa-rdfc-2022', 'eddsa-rdfc-2022', ['AgeCredential'], () => age],
  ['NationalId ecdsa-rdfc-2019', 'ecdsa-rdfc-2019', ['NationalIdCredential'], () => nationalId],
  ['NationalId Ed25519Signature2020', 'Ed25519Signature2020', ['NationalIdCredential'], () => nationalId],
];

describe('ldp_vc fast path equals the full JSON-LD path', () => {
  // Summed over the configurations (not every one has arrays that can hold duplicate values).
  let onDatasetTotal = 0;
  afterAll(() => {
    expect(onDatasetTotal).toBeGreaterThan(0);
  });

  for (const [name, suite, types, claims] of CONFIGS) {
    it(`${name}: ${RUNS} credentials byte-identical and verifiable`, async () => {
      const fast = createLdpVcFastPath({
        documentLoader: createDocumentLoader({ publicUrl: deps.publicUrl }),
      });
      const loader = verifierLoader(deps.keys, deps.publicUrl);
      const issuerDid = didWebFromUrl(deps.publicUrl);
      let n = 0;
      let refused = 0;
      let verifyMs = 0;
      await fc.assert(
        fc.asyncProperty(
          requests(name, types, claims()),
          fc.array(plainText, { minLength: 64, maxLength: 64 }),
          fc.nat(),
          async (req, pool, seed) => {
            for (const r of [req, sibling(req, pool, seed)]) {
              const unsigned = buildUnsignedCredential(
                { ...r, profile: { ...r.profile, cryptosuite: suite } },
                issuerDid,
              );
              const stock = await stockIssue(unsigned, suite, r.validFrom).catch((error: Error) => error);
              if (stock instanceof Error) {
                // What the library refuses, the fast path refuses with the same error.
                const input = { cryptosuite: suite, signer: keyFor(suite), created: r.validFrom };
                await expect(fast.sign(unsigned, input)).rejects.toThrow(stock.message);
                refused++;
                continue;
              }
              const result = await fast.sign(unsigned, {
                cryptosuite: suite,
                signer: stock.signer,
                created: r.validFrom,
              });
              expect(result, 'fast path fell back').toBeDefined();
              expect(result!.canonicalDocument).toBe(stock.document);
              expect(Buffer.from(result!.verifyData).equals(Buffer.from(stock.verifyData!))).toBe(true);
              // Ed25519 signatures are deterministic: whole credentials compare; ECDSA ones are not.
              if (suite !== 'ecdsa-rdfc-2019') {
                expect(JSON.stringify(result!.credential)).toBe(JSON.stringify(stock.credential));
              } else {
                const strip = (c: Record<string, any>) => ({
                  ...c,
                  proof: { ...c.proof, proofValue: undefined },
                });
                expect(strip(result!.credential)).toEqual(strip(stock.credential));
              }
              if (n++ % VERIFY_EVERY === 0) {
                const t = performance.now();
                const verified = await verifyWithLibrary(
                  result!.credential,
                  loader,
                  new Date(Date.UTC(2028, 0, 1)),
                );
                verifyMs += performance.now() - t;
                expect(verified.error).toBeUndefined();
                expect(verified.verified).toBe(true);
              }
            }
          },
        ),
        { numRuns: RUNS },
      );
      const stats = fast.stats();
      expect(stats).toMatchObject({ fallback: 0, fast: 2 * RUNS - refused, slowShapes: 0 });
      // Every sibling reused its original's template.
      expect(stats.shapes).toBeLessThanOrEqual(RUNS);
      // Both canonicalization routes were exercised: the precompiled shape, and the dataset for
      // credentials whose duplicate values merge two quads (or whose blank nodes tie).
      expect(stats.onShape + stats.onDataset).toBe(stats.fast);
      expect(stats.onShape).toBeGreaterThan(stats.fast / 2);
      onDatasetTotal += stats.onDataset;
      console.info(
        `${name}: ${n} checked, ${stats.shapes} shapes, ${stats.onShape} on shape / ${stats.onDataset} on dataset, verify ${(verifyMs / Math.ceil(n / VERIFY_EVERY)).toFixed(1)} ms each`,
      );
    }, 120_000);
  }
});
