import { randomBytes } from 'node:crypto';
import { cryptosuite as ecdsaRdfc2019 } from '@digitalbazaar/ecdsa-rdfc-2019-cryptosuite';
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as vc from '@digitalbazaar/vc';
import jsonld from 'jsonld';
import type { RdfQuad, RdfTerm } from 'rdf-canonize';
import * as rdfCanonize from 'rdf-canonize';
import { sha256, sha256Hex } from '../../crypto/hash.ts';
import { base58btcEncode } from '../../crypto/multibase.ts';
import {
  type DocumentLoader,
  ED25519_2020_CONTEXT,
  type JsonLdObject,
  VC_V1_CONTEXT,
  VC_V2_CONTEXT,
} from '../jsonld/document-loader.ts';
import {
  canonizeShape,
  canonizeWithUniqueHashes,
  compileShape,
  type DatasetShape,
  freezeTerm,
  literalSuffix,
  type ShapeQuad,
  type ShapeTerm,
  termText,
} from '../jsonld/rdfc10.ts';
import { xsdDateTime } from '../jsonld/xsd.ts';

/**
 * The ldp_vc fast path for Data Integrity RDFC suites (eddsa-rdfc-2022, ecdsa-rdfc-2019).
 *
 * Stock issuance spends most of its time in JSON-LD expansion (KNOWN-TRAPS: ~55% of ~2.1 ms). Only
 * the *values* of a credential change between credentials of one configuration, so per credential
 * *shape* (keys, array lengths, value kinds) we run the real JSON-LD → RDF conversion ONCE on a
 * copy whose leaf values are unique placeholders, and record where each placeholder lands in the
 * dataset (literal, typed literal, IRI). At issuance we substitute the values into that dataset and
 * run the REAL RDFC-1.0 canonicalization (rdf-canonize) on it: blank-node labels depend on hashes of
 * quads that include the values, so they are never precomputed. Then the Data Integrity hashing and
 * signing exactly as the suites do it (SHA-256 of canonical proof config ‖ SHA-256 of canonical
 * document, proofValue = base58btc multibase).
 *
 * Anything not proven safe falls back (returns undefined) to the full library path: a shape whose
 * template fails any check below is remembered as "slow". Each guard says why it exists.
 */

export type FastCryptosuite = 'eddsa-rdfc-2022' | 'ecdsa-rdfc-2019' | 'Ed25519Signature2020';

export interface FastSignInput {
  cryptosuite: FastCryptosuite;
  /** Signer over a ready key object; `id` is the verification method. */
  signer: LdSigner;
  /** Proof `created`. */
  created: Date;
}

export interface FastSignResult {
  credential: JsonLdObject;
  /** RDFC-1.0 N-Quads of the credential (without proof). */
  canonicalDocument: string;
  /** RDFC-1.0 N-Quads of the proof configuration. */
  canonicalProof: string;
  /** What was signed: hash(proof config) ‖ hash(document). */
  verifyData: Uint8Array;
}

export interface FastPathStats {
  fast: number;
  fallback: number;
  /** Of the fast ones: canonicalized on the precompiled shape, or on the dataset (duplicate values, ties). */
  onShape: number;
  onDataset: number;
  shapes: number;
  slowShapes: number;
}

export interface LdpVcFastPath {
  /** Signs `unsigned` (not mutated; the result shares its nested objects) or returns undefined when the caller must use the library path. */
  sign(unsigned: JsonLdObject, input: FastSignInput): Promise<FastSignResult | undefined>;
  stats(): FastPathStats;
}

const SUITES = { 'eddsa-rdfc-2022': eddsaRdfc2022, 'ecdsa-rdfc-2019': ecdsaRdfc2019 } as const;

/** Shapes cached per process; beyond this, new shapes simply use the library path (memory bound). */
const MAX_SHAPES = 2048;
/** Proof configurations kept per template (`created` moves hourly, the method on key rotation). */
const MAX_PROOF_CONFIGS = 16;

/**
 * Keys whose values are structure, not data: they select term definitions (`@context`), classes
 * (`type`), or are validated by JSON-LD as language tags/directions, so a different value can
 * change the RDF beyond one term. Their values go into the shape key verbatim.
 */
const STRUCTURAL_KEYS = new Set(['@context', 'type', '@type', '@language', '@direction']);

/** jsonld.js's absolute-IRI test, tightened to the characters that are legal unescaped in an IRI. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what IRIs may not contain.
const ABSOLUTE_IRI = /^([A-Za-z][A-Za-z0-9+.-]*):(\/\/)?[^\s<>"{}|\\^`\u0000-\u0020]*$/;

/** Cheap pre-check for ABSOLUTE_IRI: a scheme (`[A-Za-z][A-Za-z0-9+.-]*`) followed by `:`. */
function hasScheme(s: string): boolean {
  const first = s.charCodeAt(0);
  if (!((first >= 65 && first <= 90) || (first >= 97 && first <= 122))) return false;
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 58) return true;
    const schemeChar =
      (c >= 65 && c <= 90) ||
      (c >= 97 && c <= 122) ||
      (c >= 48 && c <= 57) ||
      c === 43 ||
      c === 45 ||
      c === 46;
    if (!schemeChar) return false;
  }
  return false;
}

/** Placeholders carry a per-process nonce so no real value can be mistaken for one. */
const NONCE = `q${randomBytes(8).toString('hex')}`;

type LeafKind = 'string' | 'iri' | 'integer';
interface Leaf {
  kind: LeafKind;
  value: string;
  /** IRI-looking strings: scheme, checked against term names at IRI positions. */
  scheme?: string;
}

/**
 * A structural value verbatim in the shape key: strings and lists of strings (contexts by URL,
 * types) length-prefixed, anything else as JSON, whose first character ('"', '[', '{', digit,
 * t/f/n) never collides with the 'S' and 'L' prefixes.
 */
function structureKey(value: unknown): string {
  if (typeof value === 'string') return `S${value.length}:${value}`;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
    let out = `L${value.length}`;
    for (const item of value) out += `|${item.length}:${item}`;
    return out;
  }
  return JSON.stringify(value);
}

/**
 * One pass over the credential: the shape key and the leaf values in document order, or undefined
 * when a value kind is not supported (the caller falls back).
 */
function analyse(unsigned: JsonLdObject): { key: string; leaves: Leaf[] } | undefined {
  // The key is built by appending to one string (V8 ropes; flattened once by the Map lookup).
  let key = '';
  const leaves: Leaf[] = [];
  const visit = (node: unknown): boolean => {
    if (typeof node === 'string') {
      const m = hasScheme(node) ? ABSOLUTE_IRI.exec(node) : null;
      if (m) {
        // Guard: whether a string looks like an absolute IRI (and whether it has `//`) decides how
        // JSON-LD expands it at an @id position (kept as is vs. compact-IRI/relative handling), so
        // it is part of the shape; the template's placeholder mirrors it.
        const scheme = m[1]!;
        key += m[2] ? `\u0001A${scheme}//` : `\u0001A${scheme}`;
        leaves.push({ kind: 'iri', value: node, scheme });
      } else {
        key += '\u0001S';
        leaves.push({ kind: 'string', value: node });
      }
      return true;
    }
    if (typeof node === 'number') {
      // Guard: JSON-LD turns integers into xsd:integer (`toFixed(0)`) but other numbers into
      // canonical xsd:double; only safe integers are substituted, anything else falls back.
      if (!Number.isSafeInteger(node) || Object.is(node, -0)) return false;
      key += '\u0001I';
      leaves.push({ kind: 'integer', value: String(node) });
      return true;
    }
    // Booleans have two values: part of the shape, no substitution needed.
    if (typeof node === 'boolean') {
      key += node ? '\u0001T' : '\u0001F';
      return true;
    }
    // JSON-LD drops nulls: structure.
    if (node === null) {
      key += '\u0001N';
      return true;
    }
    if (Array.isArray(node)) {
      // Guard: array length is structure (each element is its own quad or node).
      key += `\u0001[${node.length}`;
      for (let i = 0; i < node.length; i++) if (!visit(node[i])) return false;
      key += '\u0001]';
      return true;
    }
    if (typeof node === 'object') {
      key += '\u0001{';
      const record = node as Record<string, unknown>;
      for (const k of Object.keys(record)) {
        const v = record[k];
        // Guard: keys select terms (and language-map keys are language tags): always structure.
        // Length-prefixed: unambiguous for any key, cheaper than JSON.stringify.
        key += `\u0001${k.length}:${k}`;
        if (STRUCTURAL_KEYS.has(k)) {
          key += `\u0001${structureKey(v)}`;
        } else if (v === undefined || !visit(v)) {
          // undefined/functions/symbols: not JSON, let the library decide.
          return false;
        }
      }
      key += '\u0001}';
      return true;
    }
    return false;
  };
  if (!visit(unsigned)) return undefined;
  return { key, leaves };
}

/** A copy of `unsigned` whose leaves are placeholders (same walk order as `analyse`). */
function placeholderCopy(
  unsigned: JsonLdObject,
  leaves: Leaf[],
): { doc: JsonLdObject; placeholders: string[] } {
  const placeholders: string[] = [];
  const replace = (node: unknown): unknown => {
    if (typeof node === 'string' || typeof node === 'number') {
      const i = placeholders.length;
      const leaf = leaves[i]!;
      let ph: string;
      if (leaf.kind === 'integer') {
        // Distinct, safe, and still an integer (JSON-LD formats it as xsd:integer the same way).
        ph = String(9_007_000_000_000_000 + i);
      } else if (leaf.kind === 'iri') {
        const slashes = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(leaf.value) ? '//' : '';
        ph = `${leaf.scheme}:${slashes}${NONCE}x${i}`;
      } else {
        // No ':' so it stays a plain (relative-looking) string exactly like the value it stands for.
        ph = `${NONCE}x${i}`;
      }
      placeholders.push(ph);
      return leaf.kind === 'integer' ? Number(ph) : ph;
    }
    if (Array.isArray(node)) return node.map(replace);
    if (node && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
        out[k] = STRUCTURAL_KEYS.has(k) ? v : replace(v);
      }
      return out;
    }
    return node;
  };
  return { doc: replace(unsigned) as JsonLdObject, placeholders };
}

const XSD_INTEGER = 'http://www.w3.org/2001/XMLSchema#integer';

/** A quad position: a fixed term, or leaf `slot` rendered as an IRI or a literal. */
type TermTemplate =
  | { fixed: RdfTerm }
  | { slot: number; termType: 'NamedNode' }
  | { slot: number; termType: 'Literal'; datatype: RdfTerm['datatype']; language?: string };

interface QuadTemplate {
  subject: TermTemplate;
  predicate: RdfTerm;
  object: TermTemplate;
  graph: RdfTerm;
}

interface Template {
  quads: QuadTemplate[];
  /** Pairs of quads that could become identical after substitution (RDF datasets are sets). */
  collisionPairs: [number, number][];
  /** Slots rendered as IRIs, with their leaf: values there must pass the IRI guards. */
  iriSlots: number[];
  /** Term names defined by the contexts in use (compact-IRI / vocab-term guard). */
  termNames: ReadonlySet<string>;
  /** The quads precompiled for canonicalization (fixed terms escaped once); undefined: dataset path. */
  shape: DatasetShape | undefined;
  /** Canonical proof configurations for this template's contexts, by created|method|suite. */
  proofConfigs: Map<string, Promise<{ canonical: string; hash: Buffer }>>;
}

/**
 * The toRDF options each suite's canonize() uses: the Data Integrity suites' lib/canonize.js
 * (with `rdfDirection: 'i18n-datatype'`), and jsonld.canonize as jsonld-signatures calls it for
 * Ed25519Signature2020 (without).
 */
function toRdfOptions(documentLoader: DocumentLoader, legacy: boolean) {
  return {
    algorithm: 'RDFC-1.0',
    base: null,
    safe: true,
    documentLoader,
    ...(legacy ? {} : { rdfDirection: 'i18n-datatype' }),
    produceGeneralizedRdf: false,
  };
}

/** Ed25519Signature2020 (jsonld-signatures): a Linked Data Signature, not a Data Integrity proof. */
const isLegacy = (suite: FastCryptosuite) => suite === 'Ed25519Signature2020';

/** Builds and validates a template; undefined when this shape cannot be templated safely. */
async function buildTemplate(
  unsigned: JsonLdObject,
  leaves: Leaf[],
  documentLoader: DocumentLoader,
  legacy: boolean,
): Promise<Template | undefined> {
  const { doc, placeholders } = placeholderCopy(unsigned, leaves);
  let dataset: RdfQuad[];
  try {
    dataset = (await jsonld.toRDF(doc, toRdfOptions(documentLoader, legacy))) as RdfQuad[];
  } catch {
    // The placeholder document does not convert (e.g. a relative IRI in safe mode): let the library
    // path handle (and report) the real document.
    return undefined;
  }
  const bySlot = new Map(placeholders.map((p, i) => [p, i]));
  const seen = new Set<number>();
  const hasToken = (s: string | undefined) => s?.includes(NONCE) ?? false;

  const compile = (term: RdfTerm, position: 'subject' | 'object'): TermTemplate | undefined => {
    if (term.termType === 'Literal') {
      // Guard: a placeholder inside a datatype or language tag means the value is structure.
      if (hasToken(term.datatype?.value) || hasToken(term.language)) return undefined;
      const slot = bySlot.get(term.value);
      if (slot === undefined) {
        // Guard: a placeholder embedded in a longer literal (e.g. an @json literal) cannot be
        // substituted by replacing the whole value.
        return hasToken(term.value) || /^9007000000000\d{3}$/.test(term.value)
          ? undefined
          : { fixed: freezeTerm(term) };
      }
      const leaf = leaves[slot]!;
      // Guard: integers must come out as xsd:integer (a coercion to another datatype reformats them).
      if (leaf.kind === 'integer' && term.datatype?.value !== XSD_INTEGER) return undefined;
      seen.add(slot);
      return term.language !== undefined
        ? { slot, termType: 'Literal', datatype: term.datatype, language: term.language }
        : { slot, termType: 'Literal', datatype: term.datatype };
    }
    if (term.termType === 'NamedNode') {
      const slot = bySlot.get(term.value);
      if (slot === undefined) return hasToken(term.value) ? undefined : { fixed: freezeTerm(term) };
      // Guard: only IRI-looking values may land at IRI positions; a plain string there was expanded
      // against @vocab/@base and its IRI depends on the value.
      if (leaves[slot]!.kind !== 'iri') return undefined;
      seen.add(slot);
      return { slot, termType: 'NamedNode' };
    }
    if (position === 'subject' || term.termType === 'BlankNode')
      return hasToken(term.value) ? undefined : { fixed: freezeTerm(term) };
    return undefined;
  };

  const quads: QuadTemplate[] = [];
  for (const q of dataset) {
    // Guard: placeholders must never become predicates or graph names.
    if (hasToken(q.predicate.value) || hasToken(q.graph.value)) return undefined;
    const subject = compile(q.subject, 'subject');
    const object = compile(q.object, 'object');
    if (!subject || !object) return undefined;
    quads.push({ subject, predicate: freezeTerm(q.predicate), object, graph: freezeTerm(q.graph) });
  }
  // Guard: every leaf must appear as a whole term; a dropped value might not be dropped for
  // another value.
  if (seen.size !== placeholders.length) return undefined;

  const collisionPairs: [number, number][] = [];
  for (let a = 0; a < quads.length; a++) {
    for (let b = a + 1; b < quads.length; b++) {
      if (mayCollide(quads[a]!, quads[b]!)) collisionPairs.push([a, b]);
    }
  }
  const iriSlots = [
    ...new Set(
      quads
        .flatMap((q) => [q.subject, q.object])
        .flatMap((t) => ('slot' in t && t.termType === 'NamedNode' ? [t.slot] : [])),
    ),
  ];
  const termNames = await collectTermNames(unsigned['@context'], documentLoader);
  return { quads, collisionPairs, iriSlots, termNames, shape: shapeOf(quads), proofConfigs: new Map() };
}

/** The canonicalization shape of a template, or undefined for generalized RDF (not from JSON-LD here). */
function shapeOf(quads: QuadTemplate[]): DatasetShape | undefined {
  const term = (t: TermTemplate): ShapeTerm | undefined => {
    if (!('fixed' in t)) {
      return t.termType === 'NamedNode'
        ? { kind: 'iri', slot: t.slot }
        : { kind: 'literal', slot: t.slot, suffix: literalSuffix(t.datatype?.value, t.language) };
    }
    if (t.fixed.termType === 'BlankNode') return { kind: 'blank', label: t.fixed.value };
    return t.fixed.termType === 'DefaultGraph' ? undefined : { kind: 'fixed', text: termText(t.fixed) };
  };
  const compiled: ShapeQuad[] = [];
  for (const q of quads) {
    const subject = term(q.subject);
    const object = term(q.object);
    const graph = q.graph.termType === 'DefaultGraph' ? undefined : term({ fixed: q.graph });
    const generalized =
      q.predicate.termType !== 'NamedNode' ||
      !subject ||
      !object ||
      ('fixed' in q.subject && q.subject.fixed.termType === 'Literal') ||
      q.graph.termType === 'Literal';
    if (generalized) return undefined;
    compiled.push({ subject, predicate: termText(q.predicate), object, graph });
  }
  return compileShape(compiled);
}

function sameTerm(a: RdfTerm, b: RdfTerm): boolean {
  return (
    a.termType === b.termType &&
    a.value === b.value &&
    a.datatype?.value === b.datatype?.value &&
    a.language === b.language
  );
}

function mayCollideTerm(a: TermTemplate, b: TermTemplate): boolean {
  if ('fixed' in a && 'fixed' in b) return sameTerm(a.fixed, b.fixed);
  const typeOf = (t: TermTemplate) => ('fixed' in t ? t.fixed.termType : t.termType);
  return typeOf(a) === typeOf(b);
}

function mayCollide(a: QuadTemplate, b: QuadTemplate): boolean {
  return (
    sameTerm(a.predicate, b.predicate) &&
    sameTerm(a.graph, b.graph) &&
    mayCollideTerm(a.subject, b.subject) &&
    mayCollideTerm(a.object, b.object)
  );
}

/** Every term name defined anywhere in the contexts (including scoped contexts). */
async function collectTermNames(context: unknown, documentLoader: DocumentLoader): Promise<Set<string>> {
  const names = new Set<string>();
  const visitContext = async (ctx: unknown): Promise<void> => {
    if (typeof ctx === 'string') {
      const { document } = await documentLoader(ctx);
      await visitContext((document as JsonLdObject)['@context']);
    } else if (Array.isArray(ctx)) {
      for (const c of ctx) await visitContext(c);
    } else if (ctx && typeof ctx === 'object') {
      for (const [k, v] of Object.entries(ctx as JsonLdObject)) {
        if (!k.startsWith('@')) names.add(k);
        if (v && typeof v === 'object' && '@context' in v)
          await visitContext((v as JsonLdObject)['@context']);
      }
    }
  };
  await visitContext(context);
  return names;
}

function render(t: TermTemplate, leaves: Leaf[]): RdfTerm {
  if ('fixed' in t) return t.fixed;
  const value = leaves[t.slot]!.value;
  if (t.termType === 'NamedNode') return { termType: 'NamedNode', value };
  return t.language !== undefined
    ? { termType: 'Literal', value, datatype: t.datatype, language: t.language }
    : { termType: 'Literal', value, datatype: t.datatype };
}

/** Whether these values may fill the template's IRI positions. */
function passesIriGuards(template: Template, leaves: Leaf[]): boolean {
  for (const slot of template.iriSlots) {
    const leaf = leaves[slot]!;
    // Guard: at an IRI position JSON-LD expands `prefix:suffix` through a term named `prefix`, and a
    // value equal to a term name through that term; only values that touch no term pass.
    if (template.termNames.has(leaf.scheme!) || template.termNames.has(leaf.value)) return false;
  }
  return true;
}

/** Whether two quads of the template become identical with these values (see instantiate). */
function collides(template: Template, leaves: Leaf[]): boolean {
  for (const [a, b] of template.collisionPairs) {
    const qa = template.quads[a]!;
    const qb = template.quads[b]!;
    const same = (x: TermTemplate, y: TermTemplate) => sameTerm(render(x, leaves), render(y, leaves));
    if (same(qa.subject, qb.subject) && same(qa.object, qb.object)) return true;
  }
  return false;
}

/** The dataset for these values (IRI guards already passed). */
function instantiate(template: Template, leaves: Leaf[]): RdfQuad[] {
  const dataset: RdfQuad[] = template.quads.map((q) => ({
    subject: render(q.subject, leaves),
    predicate: q.predicate,
    object: render(q.object, leaves),
    graph: q.graph,
  }));
  if (template.collisionPairs.length === 0) return dataset;
  // Guard: JSON-LD's node map drops duplicate values (e.g. ["FR", "FR"]); RDFC-1.0 does not dedupe,
  // so two quads that became identical must become one.
  const drop = new Set<number>();
  for (const [a, b] of template.collisionPairs) {
    if (drop.has(b)) continue;
    const qa = dataset[a]!;
    const qb = dataset[b]!;
    if (sameTerm(qa.subject, qb.subject) && sameTerm(qa.object, qb.object)) drop.add(b);
  }
  return drop.size === 0 ? dataset : dataset.filter((_, i) => !drop.has(i));
}

/**
 * RDFC-1.0 hashes each blank node's quads with SHA-256 through a MessageDigest; rdf-canonize lets
 * the caller supply it (`createMessageDigest`). Same algorithm and bytes, one-shot `hash` instead
 * of a Hash object per blank node (~10% of canonicalization here).
 */
class OneShotSha256 {
  private input = '';
  update(message: string): void {
    this.input += message;
  }
  digest(): string {
    return sha256Hex(this.input);
  }
}
const RDFC_OPTIONS = { algorithm: 'RDFC-1.0', createMessageDigest: () => new OneShotSha256() };

/**
 * RDFC-1.0 of the filled template. Normally on its precompiled shape; when two of its quads
 * become one (a duplicate value) or two blank nodes tie on their first-degree hash, on the
 * dataset, through rdf-canonize if need be (see rdfc10.ts).
 */
function canonize(
  template: Template,
  leaves: Leaf[],
  counters: { onShape: number; onDataset: number },
): string {
  if (template.shape && !collides(template, leaves)) {
    const values = leaves.map((leaf) => leaf.value);
    const canonical = canonizeShape(template.shape, values);
    if (canonical !== undefined) {
      counters.onShape++;
      return canonical;
    }
  }
  counters.onDataset++;
  // rdf-canonize's synchronous RDFC-1.0 is the same algorithm as its async `canonize`, without the
  // yields to the event loop that matter for huge inputs (a template's dataset is small).
  const dataset = instantiate(template, leaves);
  return canonizeWithUniqueHashes(dataset) ?? rdfCanonize._canonizeSync(dataset, RDFC_OPTIONS);
}

export function createLdpVcFastPath(options: { documentLoader: DocumentLoader }): LdpVcFastPath {
  const { documentLoader } = options;
  const templates = new Map<string, Promise<Template | undefined>>();
  const counters = { fast: 0, fallback: 0, slowShapes: 0, onShape: 0, onDataset: 0 };

  const templateFor = (
    shapeKey: string,
    unsigned: JsonLdObject,
    leaves: Leaf[],
    legacy: boolean,
  ): Promise<Template | undefined> | undefined => {
    // The toRDF options differ between the two proof families: part of the key.
    const key = `${legacy ? 'L' : 'D'}${shapeKey}`;
    let t = templates.get(key);
    if (!t) {
      if (templates.size >= MAX_SHAPES) return undefined;
      t = buildTemplate(unsigned, leaves, documentLoader, legacy).then(
        (built) => {
          if (!built) counters.slowShapes++;
          return built;
        },
        () => {
          counters.slowShapes++;
          return undefined;
        },
      );
      templates.set(key, t);
    }
    return t;
  };

  // The canonical proof configuration depends only on (contexts, created, verification method,
  // suite): computed through the real library path once and reused (hour-rounded `created`). The
  // contexts are part of the template's shape, so each template keeps its own.
  const proofConfigFor = (
    template: Template,
    contexts: unknown,
    proof: JsonLdObject,
    suite: FastCryptosuite,
  ) => {
    const cache = template.proofConfigs;
    const key = `${proof.created}|${proof.verificationMethod}|${suite}`;
    let p = cache.get(key);
    if (!p) {
      if (cache.size >= MAX_PROOF_CONFIGS) cache.clear();
      // Same document as DataIntegrityProof.canonizeProof builds: the credential's @context first.
      const options = { documentLoader, base: null, safe: true };
      const document = { '@context': contexts, ...proof };
      // LinkedDataSignature.canonizeProof: the proof options under the document's @context,
      // through jsonld.canonize with the options LinkedDataSignature.canonize passes.
      p = (
        suite === 'Ed25519Signature2020'
          ? (jsonld.canonize(document, {
              ...options,
              algorithm: 'RDFC-1.0',
              format: 'application/n-quads',
            }) as Promise<string>)
          : SUITES[suite].canonize(document, options)
      ).then((canonical) => ({ canonical, hash: sha256(canonical) }));
      p.catch(() => cache.delete(key));
      cache.set(key, p);
    }
    return p;
  };

  return {
    stats: () => ({ ...counters, shapes: templates.size }),
    async sign(unsigned, input) {
      const legacy = isLegacy(input.cryptosuite);
      // Guard: DataIntegrityProof.ensureSuiteContext accepts the document only when its first
      // context (VCDM 2.0) defines the proof terms; Ed25519Signature2020 (VCDM 1.1) would add its
      // suite context when missing, changing the document. Anything else takes the library path.
      const contexts = unsigned['@context'];
      const suiteContextsOk = legacy
        ? Array.isArray(contexts) && contexts[0] === VC_V1_CONTEXT && contexts.includes(ED25519_2020_CONTEXT)
        : Array.isArray(contexts) && contexts[0] === VC_V2_CONTEXT;
      if (!suiteContextsOk) {
        counters.fallback++;
        return undefined;
      }
      // The same data-model checks vc.issue runs (subject makes a claim, dates, issuer…), so the
      // fast path refuses exactly what the library refuses.
      vc._checkCredential({ credential: unsigned, mode: 'issue' });
      const analysed = analyse(unsigned);
      const template = analysed && (await templateFor(analysed.key, unsigned, analysed.leaves, legacy));
      if (!template || !passesIriGuards(template, analysed.leaves)) {
        counters.fallback++;
        return undefined;
      }
      const { leaves } = analysed;
      // Proof as DataIntegrityProof / LinkedDataSignature createProof build it, in the same member order.
      const proof: JsonLdObject = legacy
        ? {
            type: 'Ed25519Signature2020',
            created: xsdDateTime(input.created),
            verificationMethod: input.signer.id,
            proofPurpose: 'assertionMethod',
          }
        : {
            type: 'DataIntegrityProof',
            created: xsdDateTime(input.created),
            verificationMethod: input.signer.id,
            cryptosuite: input.cryptosuite,
            proofPurpose: 'assertionMethod',
          };
      const proofConfig = await proofConfigFor(template, unsigned['@context'], proof, input.cryptosuite);
      const canonicalDocument = canonize(template, leaves, counters);
      // Every suite here hashes with SHA-256 (ecdsa-rdfc-2019 would use SHA-384 for P-384), proof
      // options first (LinkedDataSignature.createVerifyData does the same for Ed25519Signature2020).
      const verifyData = Buffer.concat([proofConfig.hash, sha256(canonicalDocument)]);
      const signature = await input.signer.sign({ data: verifyData });
      counters.fast++;
      // Shallow: the result shares nested objects with `unsigned` (built fresh per credential).
      const credential: JsonLdObject = {
        ...unsigned,
        proof: { ...proof, proofValue: `z${base58btcEncode(signature)}` },
      };
      return { credential, canonicalDocument, canonicalProof: proofConfig.canonical, verifyData };
    },
  };
}
