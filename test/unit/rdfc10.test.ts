import fc from 'fast-check';
import type { RdfQuad, RdfTerm } from 'rdf-canonize';
import * as rdfCanonize from 'rdf-canonize';
import { describe, expect, it } from 'vitest';
import { canonizeWithUniqueHashes, freezeTerm } from '../../src/credentials/jsonld/rdfc10.ts';

const RDFC = { algorithm: 'RDFC-1.0' };
const XSD = 'http://www.w3.org/2001/XMLSchema#';
const XSD_STRING = `${XSD}string`;
const RDF_TYPE = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type';
const RDF_LANGSTRING = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#langString';
const I18N_AR_RTL = 'https://www.w3.org/ns/i18n#ar_rtl';

const named = (value: string): RdfTerm => ({ termType: 'NamedNode', value });
// Blank node values as jsonld.toRDF makes them (jsonld 9 strips the `_:` of `_:b0`).
const blank = (value: string): RdfTerm => ({ termType: 'BlankNode', value });
const literal = (value: string, datatype = XSD_STRING, language?: string): RdfTerm =>
  language === undefined
    ? { termType: 'Literal', value, datatype: named(datatype) as RdfTerm['datatype'] }
    : { termType: 'Literal', value, datatype: named(datatype) as RdfTerm['datatype'], language };
const defaultGraph = (): RdfTerm => ({ termType: 'DefaultGraph', value: '' });
const quad = (subject: RdfTerm, predicate: RdfTerm, object: RdfTerm, graph = defaultGraph()): RdfQuad => ({
  subject,
  predicate,
  object,
  graph,
});

const oracle = (dataset: RdfQuad[]) => rdfCanonize._canonizeSync(dataset, RDFC);

// ---------------------------------------------------------------------------------------------
// Generators

/** IRIs, several with characters N-Quads must write as \uXXXX (space, <>"{}|^`\, controls). */
const IRIS = [
  'http://example.org/a',
  'https://example.com/vocab#p',
  'urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427',
  'did:example:123',
  'http://ex.org/with space',
  'http://ex.org/<angle>',
  'http://ex.org/"quoted"',
  'http://ex.org/{curly}|pipe^caret`tick',
  'http://ex.org/back\\slash',
  'http://ex.org/ctl\u0000\u0001\u0008\u0009\u000A\u000D\u001F',
  'http://ex.org/\u007F-del-is-not-escaped-in-iris',
  'http://ex.org/ünïcödé/دليل/日本/😀',
];
const PREDICATES = [
  'http://schema.org/name',
  'http://schema.org/address',
  'https://www.w3.org/2018/credentials#issuer',
  RDF_TYPE,
  'http://ex.org/pred with space',
  'http://ex.org/pred<"|>',
];
const DATATYPES = [
  `${XSD}dateTime`,
  `${XSD}integer`,
  'http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON',
  I18N_AR_RTL,
  'http://ex.org/dt with {weird} chars\u0002',
];
const LANGUAGES = ['en', 'ar', 'en-US', 'de-CH-1996', 'fr', 'zh-Hant-TW'];
const BLANKS = ['b0', 'b1', 'b2', 'b3', 'b4', 'b5'];

/** Characters that exercise every literal escape and some that must pass through untouched. */
const SPECIAL_CHARS = [
  '"',
  '\\',
  '\n',
  '\r',
  '\t',
  '\b',
  '\f',
  '\u007F',
  '\u0000',
  '\u0001',
  '\u000B',
  '\u001F',
  ' ',
  "'",
  '<',
  '>',
  '^',
  'é',
  'ع',
  'ربي',
  '\u200F',
  '😀',
  '𝄞',
  '\u{10FFFF}',
  'a',
  'Z',
  '0',
];
const text = fc.oneof(
  fc.string({ unit: fc.constantFrom(...SPECIAL_CHARS), maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('', 'x', 'Alice', 'مرحبا بالعالم', 'line1\nline2', 'tab\there', 'q"uote\\'),
);

/** Shared frozen terms: their text is memoized across runs, so stale memo text would show up. */
const FROZEN_NAMED = IRIS.map((iri) => freezeTerm(named(iri)));
const FROZEN_PREDICATES = PREDICATES.map((iri) => freezeTerm(named(iri)));

const maybeFrozen = (arb: fc.Arbitrary<RdfTerm>) =>
  fc.tuple(arb, fc.boolean()).map(([term, freeze]) => (freeze ? freezeTerm(term) : term));

const iriArb = fc.oneof(
  { arbitrary: fc.constantFrom(...IRIS), weight: 3 },
  { arbitrary: text.map((t) => `http://ex.org/gen/${t}`), weight: 1 },
);
const namedArb: fc.Arbitrary<RdfTerm> = fc.oneof(
  { arbitrary: maybeFrozen(iriArb.map(named)), weight: 3 },
  { arbitrary: fc.constantFrom(...FROZEN_NAMED), weight: 1 },
);
const predicateArb: fc.Arbitrary<RdfTerm> = fc.oneof(
  fc.constantFrom(...PREDICATES).map(named),
  fc.constantFrom(...FROZEN_PREDICATES),
);
const blankArb: fc.Arbitrary<RdfTerm> = fc.constantFrom(...BLANKS).map(blank);
const literalArb: fc.Arbitrary<RdfTerm> = maybeFrozen(
  fc.oneof(
    text.map((t) => literal(t)),
    fc.tuple(text, fc.constantFrom(...LANGUAGES)).map(([t, lang]) => literal(t, RDF_LANGSTRING, lang)),
    // rdf:langString without a language tag: written without `@`.
    text.map((t) => literal(t, RDF_LANGSTRING)),
    // A language on a non-langString literal is not written (rdf-canonize ignores it).
    fc.tuple(text, fc.constantFrom(...LANGUAGES)).map(([t, lang]) => literal(t, XSD_STRING, lang)),
    fc.tuple(text, fc.oneof(fc.constantFrom(...DATATYPES), iriArb)).map(([t, dt]) => literal(t, dt)),
  ),
);
const subjectArb = fc.oneof(blankArb, namedArb);
const objectArb = fc.oneof(blankArb, namedArb, literalArb);
const graphArb = fc.oneof(
  { arbitrary: fc.constant(null).map(defaultGraph), weight: 3 },
  { arbitrary: namedArb, weight: 1 },
  { arbitrary: blankArb, weight: 1 },
);
const quadArb = fc
  .tuple(subjectArb, predicateArb, objectArb, graphArb)
  .map(([s, p, o, g]) => quad(s, p, o, g));
const datasetArb = fc.array(quadArb, { minLength: 1, maxLength: 25 });

const blankIds = (dataset: RdfQuad[]) =>
  new Set(
    dataset.flatMap((q) =>
      [q.subject, q.object, q.graph].filter((t) => t.termType === 'BlankNode').map((t) => t.value),
    ),
  ).size;

// ---------------------------------------------------------------------------------------------

describe('canonizeWithUniqueHashes (RDFC-1.0 without the N-degree algorithm)', () => {
  it('equals rdf-canonize byte for byte whenever it answers (generated datasets)', () => {
    const RUNS = 600;
    let runs = 0;
    let defined = 0;
    let definedWithSeveralBlanks = 0;
    fc.assert(
      fc.property(datasetArb, (dataset) => {
        runs++;
        const fast = canonizeWithUniqueHashes(dataset);
        if (fast === undefined) return;
        defined++;
        if (blankIds(dataset) >= 2) definedWithSeveralBlanks++;
        expect(fast).toBe(oracle(dataset));
      }),
      { numRuns: RUNS },
    );
    expect(runs).toBe(RUNS);
    // Not vacuous: most generated datasets take the fast path, many with several blank nodes.
    expect(defined / runs).toBeGreaterThan(0.3);
    expect(definedWithSeveralBlanks / runs).toBeGreaterThan(0.1);
  });

  it('matches the asynchronous rdf-canonize API too', async () => {
    const samples = fc.sample(datasetArb, { numRuns: 40, seed: 20_240_601 });
    let compared = 0;
    for (const dataset of samples) {
      const fast = canonizeWithUniqueHashes(dataset);
      if (fast === undefined) continue;
      compared++;
      expect(fast).toBe(await rdfCanonize.canonize(dataset, RDFC));
    }
    expect(compared).toBeGreaterThan(10);
  });

  it('escapes IRIs and literals exactly as rdf-canonize does', () => {
    const dataset = [
      quad(
        named('http://ex.org/s p<>"{}|^`\\\u0000\u001F'),
        named('http://ex.org/p'),
        named('http://ex.org/ü😀'),
      ),
      quad(blank('b0'), named('http://ex.org/p'), literal('"\\\n\r\t\b\f\u007F\u0000\u000B\u001Fعربي😀')),
      quad(blank('b0'), named('http://ex.org/q'), literal('مرحبا', I18N_AR_RTL)),
      quad(blank('b0'), named('http://ex.org/q'), literal('hello', RDF_LANGSTRING, 'en-US')),
      quad(blank('b0'), named('http://ex.org/q'), literal('x', 'http://ex.org/d t')),
    ];
    const fast = canonizeWithUniqueHashes(dataset);
    expect(fast).toBe(oracle(dataset));
    expect(fast).toContain(
      '<http://ex.org/s\\u0020p\\u003C\\u003E\\u0022\\u007B\\u007D\\u007C\\u005E\\u0060',
    );
    expect(fast).toContain('"\\"\\\\\\n\\r\\t\\b\\f\\u007F\\u0000\\u000B\\u001Fعربي😀"');
    expect(fast).toContain(`"مرحبا"^^<${I18N_AR_RTL}>`);
    expect(fast).toContain('"hello"@en-US');
  });

  it('leaves symmetric blank nodes (equal first-degree hashes) to the complete algorithm', () => {
    const p = named('http://ex.org/p');
    const dataset = [quad(blank('b0'), p, literal('x')), quad(blank('b1'), p, literal('x'))];
    expect(canonizeWithUniqueHashes(dataset)).toBeUndefined();
    // The same shape with distinguishable nodes takes the fast path.
    const distinct = [quad(blank('b0'), p, literal('x')), quad(blank('b1'), p, literal('y'))];
    expect(canonizeWithUniqueHashes(distinct)).toBe(oracle(distinct));
    // Two objects of the same subject and predicate, nothing else: also a tie.
    const objects = [
      quad(named('http://ex.org/s'), p, blank('b0')),
      quad(named('http://ex.org/s'), p, blank('b1')),
    ];
    expect(canonizeWithUniqueHashes(objects)).toBeUndefined();
  });

  it('leaves blank node labels that look canonical (c14n…) to rdf-canonize', () => {
    const p = named('http://ex.org/p');
    const dataset = [quad(blank('c14n0'), p, literal('x')), quad(blank('b1'), p, literal('y'))];
    expect(canonizeWithUniqueHashes(dataset)).toBeUndefined();
    const inGraph = [quad(named('http://ex.org/s'), p, literal('x'), blank('c14nGraph'))];
    expect(canonizeWithUniqueHashes(inGraph)).toBeUndefined();
    // Control: the same datasets with other labels are handled.
    const renamed = [quad(blank('b9'), p, literal('x')), quad(blank('b1'), p, literal('y'))];
    expect(canonizeWithUniqueHashes(renamed)).toBe(oracle(renamed));
  });

  it('leaves generalized RDF (literal subjects or graphs, blank predicates) to rdf-canonize', () => {
    const p = named('http://ex.org/p');
    expect(canonizeWithUniqueHashes([quad(literal('s'), p, literal('o'))])).toBeUndefined();
    expect(canonizeWithUniqueHashes([quad(blank('b0'), blank('b1'), literal('o'))])).toBeUndefined();
    expect(canonizeWithUniqueHashes([quad(blank('b0'), p, literal('o'), literal('g'))])).toBeUndefined();
  });

  it('canonizes a credential-like dataset, and frozen terms reused with new values never give stale text', async () => {
    const CRED = 'https://www.w3.org/2018/credentials#';
    const SCHEMA = 'http://schema.org/';
    // Fixed terms of a "template", frozen once and shared by every credential built from it.
    const fixed = {
      type: freezeTerm(named(RDF_TYPE)),
      vcType: freezeTerm(named(`${CRED}VerifiableCredential`)),
      idType: freezeTerm(named('https://example.org/vocab#IdentityCredential')),
      issuer: freezeTerm(named(`${CRED}issuer`)),
      validFrom: freezeTerm(named(`${CRED}validFrom`)),
      validUntil: freezeTerm(named(`${CRED}validUntil`)),
      credentialSubject: freezeTerm(named(`${CRED}credentialSubject`)),
      name: freezeTerm(named(`${SCHEMA}name`)),
      givenName: freezeTerm(named(`${SCHEMA}givenName`)),
      address: freezeTerm(named(`${SCHEMA}address`)),
      postalAddress: freezeTerm(named(`${SCHEMA}PostalAddress`)),
      street: freezeTerm(named(`${SCHEMA}streetAddress`)),
      locality: freezeTerm(named(`${SCHEMA}addressLocality`)),
      country: freezeTerm(named(`${SCHEMA}addressCountry`)),
      issuerIri: freezeTerm(named('https://issuer.example/')),
      graph: freezeTerm(defaultGraph()),
    };
    type Values = {
      subject: string;
      validFrom: string;
      validUntil: string;
      name: string;
      nameAr: string;
      given: string;
      street: string;
      locality: string;
      country: string;
    };
    // Slot terms are fresh (unfrozen) objects, as the fast path builds them per credential.
    const build = (v: Values): RdfQuad[] => {
      const cred = blank('b0');
      const addr = blank('b1');
      const subject = named(v.subject);
      const g = fixed.graph;
      return [
        quad(cred, fixed.type, fixed.vcType, g),
        quad(cred, fixed.type, fixed.idType, g),
        quad(cred, fixed.issuer, fixed.issuerIri, g),
        quad(cred, fixed.validFrom, literal(v.validFrom, `${XSD}dateTime`), g),
        quad(cred, fixed.validUntil, literal(v.validUntil, `${XSD}dateTime`), g),
        quad(cred, fixed.credentialSubject, subject, g),
        quad(subject, fixed.name, literal(v.name, RDF_LANGSTRING, 'en'), g),
        quad(subject, fixed.name, literal(v.nameAr, I18N_AR_RTL), g),
        quad(subject, fixed.givenName, literal(v.given), g),
        quad(subject, fixed.address, addr, g),
        quad(addr, fixed.type, fixed.postalAddress, g),
        quad(addr, fixed.street, literal(v.street), g),
        quad(addr, fixed.locality, literal(v.locality, RDF_LANGSTRING, 'fr'), g),
        quad(addr, fixed.country, literal(v.country), g),
      ];
    };
    const first = build({
      subject: 'did:example:alice',
      validFrom: '2024-01-01T00:00:00Z',
      validUntil: '2025-01-01T00:00:00Z',
      name: 'Alice "Al" Example',
      nameAr: 'أليس',
      given: 'Alice',
      street: '1 Rue de la Paix\nBât. A',
      locality: 'Paris',
      country: 'FR',
    });
    const second = build({
      subject: 'did:example:bob',
      validFrom: '2030-06-15T12:34:56Z',
      validUntil: '2031-06-15T12:34:56Z',
      name: 'Bob \\ Builder',
      nameAr: 'بوب',
      given: 'Bob',
      street: '221B Baker Street',
      locality: 'Londres',
      country: 'GB',
    });

    const a = canonizeWithUniqueHashes(first);
    expect(a).toBeDefined();
    expect(a).toBe(await rdfCanonize.canonize(first, RDFC));
    expect(a).toContain('_:c14n0');
    expect(a).toContain('_:c14n1');

    // The frozen predicates/types are memoized now; new slot values must still show up.
    const b = canonizeWithUniqueHashes(second);
    expect(b).toBeDefined();
    expect(b).toBe(await rdfCanonize.canonize(second, RDFC));
    expect(b).not.toBe(a);
    expect(b).toContain('"Bob \\\\ Builder"@en');
    expect(b).not.toContain('Alice');

    // Frozen slot literals (memoized by object identity) must not leak into other objects either.
    const frozenSlots = first.map((q) =>
      quad(
        q.subject,
        q.predicate,
        Object.isFrozen(q.object) ? q.object : freezeTerm({ ...q.object }),
        q.graph,
      ),
    );
    expect(canonizeWithUniqueHashes(frozenSlots)).toBe(a);
    expect(canonizeWithUniqueHashes(second)).toBe(b);
    expect(canonizeWithUniqueHashes(first)).toBe(a);
  });

  it('does not memoize terms that can still change (unfrozen term, or frozen term with a mutable datatype)', () => {
    const p = freezeTerm(named('http://ex.org/p'));
    const mutable = literal('before');
    const datatype = { termType: 'NamedNode' as const, value: `${XSD}date` };
    const frozenWithMutableDatatype = Object.freeze({ termType: 'Literal' as const, value: 'v', datatype });
    const mutableIri = named('http://ex.org/before');
    const dataset = [
      quad(blank('b0'), p, mutable),
      quad(blank('b0'), p, frozenWithMutableDatatype),
      quad(blank('b1'), p, mutableIri),
    ];
    expect(canonizeWithUniqueHashes(dataset)).toBe(oracle(dataset));
    mutable.value = 'after';
    datatype.value = `${XSD}gYear`;
    mutableIri.value = 'http://ex.org/after';
    const after = canonizeWithUniqueHashes(dataset);
    expect(after).toBe(oracle(dataset));
    expect(after).toContain('"after"');
    expect(after).toContain(`"v"^^<${XSD}gYear>`);
    expect(after).toContain('<http://ex.org/after>');
  });
});
