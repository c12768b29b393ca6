import { readdirSync, readFileSync } from 'node:fs';
import { contexts as credentialsContexts } from '@digitalbazaar/credentials-context';
import { contexts as dataIntegrityContexts } from '@digitalbazaar/data-integrity-context';
import { contexts as multikeyContexts } from '@digitalbazaar/multikey-context';
import { contexts as securityContexts } from '@digitalbazaar/security-context';
import { contexts as statusListContexts } from '@digitalbazaar/vc-bitstring-status-list-context';
import { contexts as didContexts } from 'did-context';
import { contexts as ed25519Contexts } from 'ed25519-signature-2020-context';

/**
 * The offline JSON-LD document loader. Every context the service signs or verifies with comes from
 * an npm package or from `contexts/` in this repository; any other URL is an `unknown_context`
 * error, never a network fetch (determinism, speed, no SSRF: ARCHITECTURE.md, JSON-LD row).
 *
 * Our own contexts live in `contexts/<name>.jsonld` with `{{publicUrl}}` placeholders; they are
 * published at `${publicUrl}/contexts/<name>.jsonld` (see `listOwnContexts`, which the HTTP layer
 * serves) so that verifiers can resolve them, and this loader maps that URL to the file.
 */

export interface RemoteDocument {
  contextUrl: string | null;
  documentUrl: string;
  document: Record<string, unknown>;
}
export type DocumentLoader = (url: string) => Promise<RemoteDocument>;
export type JsonLdObject = Record<string, unknown>;

export class UnknownContext extends Error {
  override name = 'UnknownContext';
  readonly code = 'unknown_context';
  readonly url: string;
  constructor(url: string) {
    super(`JSON-LD document not available offline: ${url}`);
    this.url = url;
  }
}

export const VC_V1_CONTEXT = 'https://www.w3.org/2018/credentials/v1';
export const VC_V2_CONTEXT = 'https://www.w3.org/ns/credentials/v2';
export const DID_V1_CONTEXT = 'https://www.w3.org/ns/did/v1';
export const MULTIKEY_V1_CONTEXT = 'https://w3id.org/security/multikey/v1';
export const DATA_INTEGRITY_V2_CONTEXT = 'https://w3id.org/security/data-integrity/v2';
export const ED25519_2020_CONTEXT = 'https://w3id.org/security/suites/ed25519-2020/v1';
export const STATUS_LIST_V1_CONTEXT = 'https://www.w3.org/ns/credentials/status/v1';

/** Contexts shipped in npm packages, keyed by URL. */
const PACKAGED: ReadonlyMap<string, JsonLdObject> = new Map([
  ...credentialsContexts,
  ...dataIntegrityContexts,
  ...multikeyContexts,
  ...securityContexts,
  ...statusListContexts,
  ...didContexts,
  ...ed25519Contexts,
]);

/** Every packaged context URL (for tests and diagnostics). */
export const packagedContextUrls = (): string[] => [...PACKAGED.keys()];

const CONTEXTS_DIR = new URL('../../../contexts/', import.meta.url);

export interface OwnContext {
  /** File name without extension, e.g. `claims-v1`. */
  name: string;
  /** Path the HTTP layer serves it at, e.g. `/contexts/claims-v1.jsonld`. */
  path: string;
  /** Absolute URL, `${publicUrl}${path}`: what credentials put in `@context`. */
  url: string;
  /** The context with `{{publicUrl}}` filled in. Serve as `application/ld+json`. */
  document: JsonLdObject;
}

let ownTemplates: Map<string, string> | undefined;
function readOwnTemplates(): Map<string, string> {
  if (!ownTemplates) {
    ownTemplates = new Map();
    for (const file of readdirSync(CONTEXTS_DIR).sort()) {
      if (file.endsWith('.jsonld')) {
        ownTemplates.set(file.slice(0, -'.jsonld'.length), readFileSync(new URL(file, CONTEXTS_DIR), 'utf8'));
      }
    }
  }
  return ownTemplates;
}

/** Removes trailing slashes so `${base}/contexts/...` never has `//`. */
const normalizeBase = (publicUrl: string): string => publicUrl.replace(/\/+$/, '');

/** The URL a credential uses for one of our contexts, e.g. `ownContextUrl(url, 'claims-v1')`. */
export function ownContextUrl(publicUrl: string, name: string): string {
  if (!readOwnTemplates().has(name)) throw new UnknownContext(`contexts/${name}.jsonld`);
  return `${normalizeBase(publicUrl)}/contexts/${name}.jsonld`;
}

/** Our contexts as the HTTP layer serves them (GET `path` → `document`, `application/ld+json`). */
export function listOwnContexts(publicUrl: string): OwnContext[] {
  const base = normalizeBase(publicUrl);
  return [...readOwnTemplates()].map(([name, template]) => {
    const path = `/contexts/${name}.jsonld`;
    const document = JSON.parse(template.replaceAll('{{publicUrl}}', base)) as JsonLdObject;
    return { name, path, url: `${base}${path}`, document };
  });
}

export interface DocumentLoaderOptions {
  publicUrl: string;
  /**
   * Resolves a DID (without fragment) to its DID document, or undefined. Given our own did:web
   * (the current document from src/keys/documents.ts); tests may add others. The DID document must
   * have the DID v1 context first, or verifiers run `jsonld.frame` on it (KNOWN-TRAPS).
   */
  resolveDid?: (did: string) => JsonLdObject | undefined;
  /** Further documents by URL, e.g. the JsonWebKey 2020 context if did.json uses it. */
  extraDocuments?: Record<string, JsonLdObject>;
}

const remote = (documentUrl: string, document: JsonLdObject): RemoteDocument => ({
  contextUrl: null,
  documentUrl,
  document,
});

/**
 * Builds the loader. Static documents are wrapped once, so a lookup is one Map get; DID URLs
 * are resolved on every call (keys rotate).
 */
export function createDocumentLoader(options: DocumentLoaderOptions): DocumentLoader {
  const statics = new Map<string, RemoteDocument>();
  for (const [url, doc] of PACKAGED) statics.set(url, remote(url, doc));
  for (const own of listOwnContexts(options.publicUrl)) statics.set(own.url, remote(own.url, own.document));
  for (const [url, doc] of Object.entries(options.extraDocuments ?? {})) statics.set(url, remote(url, doc));
  const { resolveDid } = options;

  return async (url: string): Promise<RemoteDocument> => {
    const found = statics.get(url);
    if (found) return found;
    if (resolveDid && url.startsWith('did:')) {
      const document = resolveDidUrl(url, resolveDid);
      if (document) return remote(url, document);
    }
    throw new UnknownContext(url);
  };
}

/**
 * A bare DID returns its DID document. A DID URL with a fragment returns that verification method
 * as a standalone document with the context of its type (Multikey → multikey/v1), which is what
 * the Data Integrity verifiers read (`proof.verificationMethod` is dereferenced to it).
 */
function resolveDidUrl(
  url: string,
  resolveDid: (did: string) => JsonLdObject | undefined,
): JsonLdObject | undefined {
  const hash = url.indexOf('#');
  const did = hash === -1 ? url : url.slice(0, hash);
  const doc = resolveDid(did);
  if (!doc || hash === -1) return doc;
  const methods = Array.isArray(doc.verificationMethod) ? (doc.verificationMethod as JsonLdObject[]) : [];
  const fragment = url.slice(hash);
  const method = methods.find((m) => m.id === url || m.id === fragment);
  if (!method) return undefined;
  return {
    '@context': methodContext(method),
    ...method,
    id: url,
    controller: typeof method.controller === 'string' ? method.controller : did,
  };
}

function methodContext(method: JsonLdObject): string {
  if (method.type === 'Ed25519VerificationKey2020') return ED25519_2020_CONTEXT;
  if (method.type === 'JsonWebKey2020') return 'https://w3id.org/security/suites/jws-2020/v1';
  return MULTIKEY_V1_CONTEXT;
}
