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
function line(p: Parts, label: (term: RdfTerm) => string): string {
  const q = p.quad;
  const s = isBlank(q.subject) ? label(q.subject) : p.subject;
  const o = isBlank(q.object) ? label(q.object) : p.object;
  const g = isBlank(q.graph) ? ` ${label(q.graph)}` : p.graph;
  return `${s} ${p.predicate} ${o}${g} .\n`;
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
  // §4.6: the first-degree hash of each blank node (itself `_:a`, every other blank node `_:z`).
  const byHash = new Map<string, string>();
  for (const [id, quads] of quadsOf) {
    // rdf-canonize keeps labels that already look canonical; such input goes to it.
    if (id.startsWith('c14n')) return undefined;
    const label = (term: RdfTerm) => (term.value === id ? '_:a' : '_:z');
    const lines = quads.map((p) => line(p, label)).sort();
    const digest = hash('sha256', lines.join(''), 'hex');
    // A tie needs the N-degree hashes (§4.8): not handled here.
    if (byHash.has(digest)) return undefined;
    byHash.set(digest, id);
  }
  // §4.4 step 5.4: canonical identifiers in the order of the hashes.
  const canonical = new Map<string, string>();
  for (const digest of [...byHash.keys()].sort())
    canonical.set(byHash.get(digest)!, `_:c14n${canonical.size}`);
  const label = (term: RdfTerm) => canonical.get(term.value)!;
  // §4.4 steps 7-8: relabel, serialize, sort.
  return parts
    .map((p) => line(p, label))
    .sort()
    .join('');
}
