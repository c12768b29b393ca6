/**
 * Declaration shims for the JSON-LD / Data Integrity packages, which ship no TypeScript types.
 * Only what this project calls is declared; widen as needed.
 */

type JsonLdDocument = Record<string, unknown>;
type ContextMap = Map<string, JsonLdDocument>;

interface RemoteDocument {
  contextUrl: string | null;
  documentUrl: string;
  document: unknown;
}
type DocumentLoader = (url: string) => Promise<RemoteDocument>;

/** A signer as the Data Integrity libraries expect it. */
interface LdSigner {
  id: string;
  algorithm: string;
  sign(input: { data: Uint8Array }): Promise<Uint8Array>;
}
interface LdVerifier {
  id?: string;
  algorithm: string;
  verify(input: { data: Uint8Array; signature: Uint8Array }): Promise<boolean>;
}
/** What @digitalbazaar/ed25519-multikey and ecdsa-multikey key pairs have in common. */
interface MultikeyPair {
  id?: string;
  controller?: string;
  publicKeyMultibase: string;
  signer(): LdSigner;
  verifier(): LdVerifier;
  export(options?: {
    publicKey?: boolean;
    secretKey?: boolean;
    includeContext?: boolean;
  }): Promise<JsonLdDocument>;
}
interface MultikeyFromJwk {
  jwk: unknown;
  secretKey?: boolean;
  id?: string;
  controller?: string;
}

interface LdCryptosuite {
  name: string;
  requiredAlgorithm: string | string[];
  canonize(input: unknown, options?: Record<string, unknown>): Promise<string>;
  createVerifier(input: { verificationMethod: unknown }): Promise<LdVerifier>;
  createVerifyData?: (...args: unknown[]) => Promise<Uint8Array>;
}

declare module '@digitalbazaar/credentials-context' {
  export const contexts: ContextMap;
  export const named: Map<string, { id: string; context: JsonLdDocument }>;
}
declare module '@digitalbazaar/data-integrity-context' {
  export const contexts: ContextMap;
}
declare module '@digitalbazaar/multikey-context' {
  export const contexts: ContextMap;
}
declare module '@digitalbazaar/security-context' {
  export const contexts: ContextMap;
}
declare module '@digitalbazaar/vc-bitstring-status-list-context' {
  export const contexts: ContextMap;
}
declare module 'ed25519-signature-2020-context' {
  export const contexts: ContextMap;
}
declare module 'did-context' {
  export const contexts: ContextMap;
}

declare module '@digitalbazaar/eddsa-rdfc-2022-cryptosuite' {
  export const cryptosuite: LdCryptosuite;
}
declare module '@digitalbazaar/ecdsa-rdfc-2019-cryptosuite' {
  export const cryptosuite: LdCryptosuite;
}

declare module '@digitalbazaar/data-integrity' {
  export class DataIntegrityProof {
    constructor(options: {
      signer?: LdSigner;
      date?: Date | string | null;
      cryptosuite: LdCryptosuite;
      legacyContext?: boolean;
    });
  }
}

declare module '@digitalbazaar/ed25519-signature-2020' {
  export class Ed25519Signature2020 {
    constructor(options?: { key?: unknown; signer?: LdSigner; date?: Date | string | null });
  }
  export const suiteContext: { CONTEXT_URL: string; CONTEXT: JsonLdDocument };
}

declare module '@digitalbazaar/ed25519-verification-key-2020' {
  export class Ed25519VerificationKey2020 implements MultikeyPair {
    static from(key: unknown): Promise<Ed25519VerificationKey2020>;
    id?: string;
    controller?: string;
    publicKeyMultibase: string;
    signer(): LdSigner;
    verifier(): LdVerifier;
    export(options?: {
      publicKey?: boolean;
      secretKey?: boolean;
      includeContext?: boolean;
    }): Promise<JsonLdDocument>;
  }
}

declare module '@digitalbazaar/ed25519-multikey' {
  export type Ed25519MultikeyPair = MultikeyPair;
  export function from(key: unknown): Promise<Ed25519MultikeyPair>;
  export function fromJwk(options: MultikeyFromJwk): Promise<Ed25519MultikeyPair>;
  export function generate(options?: { id?: string; controller?: string }): Promise<Ed25519MultikeyPair>;
}

declare module '@digitalbazaar/ecdsa-multikey' {
  export type EcdsaMultikeyPair = MultikeyPair;
  export function from(key: unknown): Promise<EcdsaMultikeyPair>;
  export function fromJwk(options: MultikeyFromJwk): Promise<EcdsaMultikeyPair>;
  export function generate(options: {
    curve: string;
    id?: string;
    controller?: string;
  }): Promise<EcdsaMultikeyPair>;
}

declare module '@digitalbazaar/vc' {
  export function issue(options: {
    credential: JsonLdDocument;
    suite: unknown;
    documentLoader: DocumentLoader;
    purpose?: unknown;
    now?: Date | string;
  }): Promise<JsonLdDocument>;
  export function verifyCredential(options: {
    credential: JsonLdDocument;
    suite: unknown;
    documentLoader: DocumentLoader;
    purpose?: unknown;
    checkStatus?: (options: {
      credential: JsonLdDocument;
    }) => Promise<{ verified: boolean; error?: unknown }>;
    now?: Date | string;
  }): Promise<{ verified: boolean; error?: unknown; results?: unknown[]; log?: unknown[] }>;
  export const defaultDocumentLoader: DocumentLoader;
  /** The data-model checks `issue` runs before signing (throws on a malformed credential). */
  export function _checkCredential(options: {
    credential: JsonLdDocument;
    now?: Date | string;
    mode?: 'issue' | 'verify';
    maxClockSkew?: number;
  }): void;
}

declare module 'jsonld' {
  interface JsonLdOptions {
    documentLoader?: DocumentLoader;
    safe?: boolean;
    base?: string | null;
    algorithm?: string;
    format?: string;
    rdfDirection?: string;
    produceGeneralizedRdf?: boolean;
    [key: string]: unknown;
  }
  const jsonld: {
    toRDF(input: unknown, options?: JsonLdOptions): Promise<unknown>;
    canonize(input: unknown, options?: JsonLdOptions): Promise<string>;
    expand(input: unknown, options?: JsonLdOptions): Promise<unknown[]>;
    compact(input: unknown, ctx: unknown, options?: JsonLdOptions): Promise<JsonLdDocument>;
  };
  export default jsonld;
}

declare module 'rdf-canonize' {
  export interface RdfTerm {
    termType: 'NamedNode' | 'BlankNode' | 'Literal' | 'DefaultGraph';
    value: string;
    datatype?: { termType: 'NamedNode'; value: string };
    language?: string;
  }
  export interface RdfQuad {
    subject: RdfTerm;
    predicate: RdfTerm;
    object: RdfTerm;
    graph: RdfTerm;
  }
  export function canonize(
    input: RdfQuad[] | string,
    options: { algorithm: string; format?: string; inputFormat?: string; [key: string]: unknown },
  ): Promise<string>;
  /** The synchronous RDFC-1.0 implementation (RDFC10Sync), exported by rdf-canonize for tests. */
  export function _canonizeSync(
    input: RdfQuad[] | string,
    options: { algorithm: string; format?: string; inputFormat?: string; [key: string]: unknown },
  ): string;
  export const NQuads: {
    parse(input: string): RdfQuad[];
    serialize(dataset: RdfQuad[]): string;
    serializeQuad(quad: RdfQuad): string;
  };
}
