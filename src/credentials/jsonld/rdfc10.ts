import { hash } from 'node:crypto';
import type { RdfQuad, RdfTerm } from 'rdf-canonize';

/**
 * RDFC-1.0 (https://www.w3.org/TR/rdf-canon/) for the datasets credentials make: every blank node
 * is told apart by its first-degree hash (§4.6), so the canonical labels are those hashes in
 * order (§4.4 step 5) and the N-degree algorithm (§4.8), which only breaks ties, never runs.
 * When two blank nodes share a first-degree hash, or a label could be mistaken for a canonical
 * one, this returns undefined and the caller runs the complete implementation (rdf-canonize).
 *
 * Output is byte-for-byte rdf-canonize's: the same N-Quads serialization and escapes (its
 * NQuads.serializeQuadComponents), the same sorts (UTF-16 code unit order), SHA-256 in hex.
 * What makes it cheaper: the N-Quads text of a term object is computed once and remembered, so
 * the fixed terms of a credential template (predicates, types, contexts' IRIs) are escaped once
 * per process instead of twice per credential. test/unit/rdfc10.test.ts compares it with
 * rdf-canonize on generated datasets, and the ldp_vc equality property test on every credential.
 */

const RDF_LANGSTRING = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#langString';
const XSD_STRING = 'http://www.w3.org/2001/XMLSchema#string';

// biome-ignore lint/suspicious/noControlCharactersInRegex: N-Quads escapes exactly these.
const IRI_ESCAPE = /[\u0000-\u0020<>"{}|^`\\]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: N-Quads escapes exactly these.
const LITERAL_ESCAPE = /[\u0000-\u001F\u007F"\\]/g;
const ECHAR: Record<string, string> = {
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\f': '\\f',
  '\r': '\\r',
  '"': '\\"',
  '\\': '\\\\',
};
const uchar = (c: string) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
const iri = (value: string) => `<${value.replace(IRI_ESCAPE, uchar)}>`;
const literalText = (value: string) => value.replace(LITERAL_ESCAPE, (c) => ECHAR[c] ?? uchar(c));

/**
 * N-Quads text of frozen term objects (with a frozen datatype): immutable, so the text can never
 * go stale. The ldp_vc fast path freezes its templates' fixed terms; fresh terms are not kept.
 */
const serialized = new WeakMap<RdfTerm, string>();

function serialize(term: RdfTerm): string {
  const frozen = Object.isFrozen(term) && (term.datatype === undefined || Object.isFrozen(term.datatype));
  if (frozen) {
    const known = serialized.get(term);
    if (known !== undefined) return known;
  }
  let text: string;
  if (term.termType === 'NamedNode') {
    text = iri(term.value);
  } else {
    text = `"${literalText(term.value)}"`;
    const datatype = term.datatype?.value ?? XSD_STRING;
    if (datatype === RDF_LANGSTRING) {
      if (term.language) text += `@${term.language}`;
    } else if (datatype !== XSD_STRING) {
      text += `^^${iri(datatype)}`;
    }
  }
  if (frozen) serialized.set(term, text);
  return text;
}

/** N-Quads text of a named node or literal (remembered for frozen terms). */
export function termText(term: RdfTerm): string {
  return serialize(term);
}

/** Freezes a term (and its datatype) so serialize() may remember its text. */
export function freezeTerm<T extends RdfTerm>(term: T): Readonly<T> {
  if (term.datatype) Object.freeze(term.datatype);
  return Object.freeze(term);
}

/** A quad as text pieces; blank node positions hold the node's label, filled in per use. */
interface Parts {
  quad: RdfQuad;
  subject: string;
  predicate: string;
  object: string;
  graph: string;
}

function isBlank(term: RdfTerm): boolean {
  return term.termType === 'BlankNode';
}

/** Serializes with blank nodes named by `label` (the N-Quads text includes `_:`). */
function line(p: Parts, label: (blank: string) => string): string {
  const q = p.quad;
  const s = isBlank(q.subject) ? label(q.subject.value) : p.subject;
  const o = isBlank(q.object) ? label(q.object.value) : p.object;
  const g = isBlank(q.graph) ? ` ${label(q.graph.value)}` : p.graph;
  return `${s} ${p.predicate} ${o}${g} .\n`;
}

/**
 * §4.6 and §4.4 step 5.4: each blank node's first-degree hash (its quads serialized with itself as
 * `_:a` and every other blank node as `_:z`, sorted, SHA-256 in hex), then canonical labels in the
 * order of the hashes. Undefined when two hashes tie: that needs the N-degree hashes (§4.8).
 */
function labelsByFirstDegreeHash<Q>(
  blanks: Iterable<readonly [id: string, quads: readonly Q[]]>,
  lineOf: (quad: Q, label: (blank: string) => string) => string,
): Map<string, string> | undefined {
  const byHash = new Map<string, string>();
  for (const [id, quads] of blanks) {
    const label = (blank: string) => (blank === id ? '_:a' : '_:z');
    const lines = quads.map((q) => lineOf(q, label)).sort();
    const digest = hash('sha256', lines.join(''), 'hex');
    if (byHash.has(digest)) return undefined;
    byHash.set(digest, id);
  }
  const canonical = new Map<string, string>();
  for (const digest of [...byHash.keys()].sort())
    canonical.set(byHash.get(digest)!, `_:c14n${canonical.size}`);
  return canonical;
}

/** The canonical N-Quads of `dataset`, or undefined when the complete algorithm is needed. */
export function canonizeWithUniqueHashes(dataset: readonly RdfQuad[]): string | undefined {
  const parts: Parts[] = [];
  // §4.4 step 2: blank node → the quads it occurs in, in order of first occurrence.
  const quadsOf = new Map<string, Parts[]>();
  const note = (term: RdfTerm, p: Parts) => {
    if (!isBlank(term)) return;
    const list = quadsOf.get(term.value);
    if (list === undefined) quadsOf.set(term.value, [p]);
    else if (list[list.length - 1] !== p) list.push(p);
  };
  const distinct = new Set<RdfQuad>();
  for (const quad of dataset) {
    // rdf-canonize hashes a quad object listed twice once (a Set per blank node) but prints it
    // twice: not worth mirroring, its own implementation handles that input.
    if (distinct.has(quad)) return undefined;
    distinct.add(quad);
    const { subject, predicate, object, graph } = quad;
    // Generalized RDF (blank or literal predicates, literal subjects) is left to rdf-canonize.
    if (predicate.termType !== 'NamedNode' || subject.termType === 'Literal') return undefined;
    if (graph.termType === 'Literal') return undefined;
    const p: Parts = {
      quad,
      subject: isBlank(subject) ? '' : serialize(subject),
      predicate: serialize(predicate),
      object: isBlank(object) ? '' : serialize(object),
      graph: graph.termType === 'NamedNode' ? ` ${serialize(graph)}` : '',
    };
    parts.push(p);
    note(subject, p);
    note(object, p);
    note(graph, p);
  }
  // rdf-canonize keeps labels that already look canonical; such input goes to it.
  for (const id of quadsOf.keys()) if (id.startsWith('c14n')) return undefined;
  const canonical = labelsByFirstDegreeHash(quadsOf, line);
  if (!canonical) return undefined;
  const label = (blank: string) => canonical.get(blank)!;
  // §4.4 steps 7-8: relabel, serialize, sort.
  return parts
    .map((p) => line(p, label))
    .sort()
    .join('');
}

/**
 * A dataset with holes, for many datasets of one shape (the credentials of one template): each
 * term is fixed N-Quads text, a blank node, or a value slot filled at each use. Everything that
 * does not depend on the values is done once here: fixed terms escaped, the quads of each blank
 * node listed (§4.4 step 2), label checks. canonizeShape then runs the same algorithm as
 * canonizeWithUniqueHashes on the filled quads.
 */
export type ShapeTerm =
  | { kind: 'fixed'; text: string }
  | { kind: 'blank'; label: string }
  | { kind: 'iri'; slot: number }
  /** `suffix`: `@lang`, `^^<datatype>` or '' (xsd:string), as serialize() writes it. */
  | { kind: 'literal'; slot: number; suffix: string };

export interface ShapeQuad {
  subject: ShapeTerm;
  /** N-Quads text of the predicate. */
  predicate: string;
  object: ShapeTerm;
  /** Undefined for the default graph. */
  graph: ShapeTerm | undefined;
}

export interface DatasetShape {
  quads: readonly ShapeQuad[];
  /** Each blank node with the indexes of the quads it occurs in, in order of first occurrence. */
  blanks: readonly (readonly [label: string, quads: readonly number[]])[];
}

/** The literal suffix serialize() writes after the quoted value. */
export function literalSuffix(datatype: string | undefined, language: string | undefined): string {
  const type = datatype ?? XSD_STRING;
  if (type === RDF_LANGSTRING) return language ? `@${language}` : '';
  return type === XSD_STRING ? '' : `^^${iri(type)}`;
}

/** Lists the blank nodes of a shape; undefined for labels rdf-canonize would keep (`c14n…`). */
export function compileShape(quads: readonly ShapeQuad[]): DatasetShape | undefined {
  const blanks = new Map<string, number[]>();
  quads.forEach((q, index) => {
    for (const term of [q.subject, q.object, q.graph]) {
      if (term?.kind !== 'blank') continue;
      const list = blanks.get(term.label);
      if (list === undefined) blanks.set(term.label, [index]);
      else if (list[list.length - 1] !== index) list.push(index);
    }
  });
  for (const label of blanks.keys()) if (label.startsWith('c14n')) return undefined;
  return { quads, blanks: [...blanks] };
}

/**
 * The canonical N-Quads of the shape filled with `values` (slot i = values[i]), or undefined when
 * two blank nodes tie on their first-degree hash (the caller then runs rdf-canonize). The caller
 * guarantees the filled quads are distinct (RDF datasets are sets).
 */
export function canonizeShape(shape: DatasetShape, values: readonly string[]): string | undefined {
  // Escaped once per slot and kind, however many quads the value occurs in.
  const iris: (string | undefined)[] = [];
  const literals: (string | undefined)[] = [];
  const text = (term: ShapeTerm): string => {
    switch (term.kind) {
      case 'fixed':
        return term.text;
      case 'iri':
        iris[term.slot] ??= iri(values[term.slot]!);
        return iris[term.slot]!;
      case 'literal':
        literals[term.slot] ??= `"${literalText(values[term.slot]!)}"`;
        return literals[term.slot]! + term.suffix;
      default:
        return '';
    }
  };
  const { quads } = shape;
  // Per quad: subject, object and graph text, blank nodes left to the labelling below.
  const subjects: string[] = [];
  const objects: string[] = [];
  const graphs: string[] = [];
  for (const q of quads) {
    subjects.push(text(q.subject));
    objects.push(text(q.object));
    graphs.push(q.graph === undefined ? '' : q.graph.kind === 'blank' ? '' : ` ${text(q.graph)}`);
  }
  const lineOf = (i: number, label: (blank: string) => string): string => {
    const q = quads[i]!;
    const s = q.subject.kind === 'blank' ? label(q.subject.label) : subjects[i];
    const o = q.object.kind === 'blank' ? label(q.object.label) : objects[i];
    const g = q.graph?.kind === 'blank' ? ` ${label(q.graph.label)}` : graphs[i];
    return `${s} ${q.predicate} ${o}${g} .\n`;
  };
  const canonical = labelsByFirstDegreeHash(shape.blanks, lineOf);
  if (!canonical) return undefined;
  const label = (blank: string) => canonical.get(blank)!;
  const lines: string[] = [];
  for (let i = 0; i < quads.length; i++) lines.push(lineOf(i, label));
  return lines.sort().join('');
}
