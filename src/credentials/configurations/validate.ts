import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import jsonld from 'jsonld';
import type { FormatId } from '../formats/types.ts';
import { createDocumentLoader, type DocumentLoader, VC_V2_CONTEXT } from '../jsonld/document-loader.ts';
import { mapClaims, SAMPLE_IDENTITY } from './mapping.ts';
import { unsafeTextIn } from './text.ts';
import type { CredentialDefinition } from './types.ts';

/**
 * Validation of credential definitions, at load and on every admin change. Structure first (a JSON
 * Schema for the file format), then meaning: the subject schema compiles, the mapping of a sample
 * person produces data the schema accepts, the JSON-LD contexts define every claim term (safe-mode
 * expansion), and the formats and algorithms exist. Every problem names the definition, the field
 * and the reason.
 */

export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
  readonly problems: ConfigurationProblem[];
  constructor(problems: ConfigurationProblem[]) {
    super(`invalid credential configuration:\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`);
    this.problems = problems;
  }
}

/** A change to a retired definition: retiring is final (the admin API answers 409). */
export class ConfigurationRetired extends Error {
  override name = 'ConfigurationRetired';
  readonly configuration: string;
  constructor(configuration: string) {
    super(
      `credential configuration ${configuration} is retired: retiring is final; create a definition with a new id`,
    );
    this.configuration = configuration;
  }
}

export interface ConfigurationProblem {
  /** Definition id (or the file name when the id itself is missing). */
  configuration: string;
  /** JSON pointer of the offending field, e.g. `/formats/ldp_vc/cryptosuite`. */
  field: string;
  reason: string;
}

export const formatProblem = (p: ConfigurationProblem): string =>
  `${p.configuration}: ${p.field || '/'}: ${p.reason}`;

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/** Algorithms a proof JWT may use: asymmetric only (OpenID4VCI 1.0 Appendix F.1; RFC 8725 §3.1). */
export const PROOF_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'PS256', 'RS256'] as const;
export const BINDING_METHODS = ['did:key', 'did:jwk', 'jwk'] as const;
const CRYPTOSUITES = ['eddsa-rdfc-2022', 'ecdsa-rdfc-2019', 'Ed25519Signature2020'];
const FORMAT_ALGS = ['EdDSA', 'ES256'];

const display = {
  type: 'array',
  items: {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 200 },
      locale: { type: 'string', pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$' },
      logo: {
        type: 'object',
        required: ['uri'],
        additionalProperties: false,
        properties: { uri: { type: 'string', format: 'uri' }, alt_text: { type: 'string' } },
      },
      description: { type: 'string', maxLength: 1000 },
      background_color: { type: 'string', pattern: '^#[0-9A-Fa-f]{6}$' },
      background_image: {
        type: 'object',
        required: ['uri'],
        additionalProperties: false,
        properties: { uri: { type: 'string', format: 'uri' } },
      },
      text_color: { type: 'string', pattern: '^#[0-9A-Fa-f]{6}$' },
    },
  },
};

const SOURCE = '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)?(#[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*)?$';
const TERM = '^[A-Za-z][A-Za-z0-9_]*$';

const variant = (extra: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  required: ['configurationId', ...required],
  additionalProperties: false,
  properties: {
    configurationId: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,100}$' },
    scope: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,100}$' },
    ...extra,
  },
});

/** The file format of a credential definition (see credential-configurations/README.md). */
export const DEFINITION_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['id', 'types', 'contexts', 'schema', 'status', 'formats', 'display', 'claims'],
  additionalProperties: false,
  properties: {
    $comment: { type: 'string' },
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
    version: { type: 'integer', minimum: 1 },
    scope: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,100}$' },
    types: { type: 'array', minItems: 1, items: { type: 'string', pattern: TERM } },
    contexts: { type: 'array', items: { type: 'string', pattern: '^[a-z0-9-]+$' } },
    schema: { type: 'string', pattern: '^[a-z0-9-]+\\.schema\\.json$' },
    validitySeconds: { type: 'integer', minimum: 3600, maximum: 20 * 365 * 86400 },
    status: { type: 'boolean' },
    retired: { type: 'boolean' },
    binding: {
      type: 'object',
      required: ['methods', 'proofSigningAlgs'],
      additionalProperties: false,
      properties: {
        methods: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...BINDING_METHODS] } },
        proofSigningAlgs: {
          type: 'array',
          minItems: 1,
          uniqueItems: true,
          items: { enum: [...PROOF_ALGORITHMS] },
        },
        keyAttestationsRequired: {
          type: 'object',
          additionalProperties: false,
          properties: {
            key_storage: { type: 'array', items: { type: 'string', minLength: 1 } },
            user_authentication: { type: 'array', items: { type: 'string', minLength: 1 } },
          },
        },
      },
    },
    formats: {
      type: 'object',
      minProperties: 1,
      additionalProperties: false,
      properties: {
        ldp_vc: variant({ cryptosuite: { enum: CRYPTOSUITES } }),
        jwt_vc_json: variant({ alg: { enum: FORMAT_ALGS } }),
        'dc+sd-jwt': variant(
          {
            alg: { enum: FORMAT_ALGS },
            vct: { type: 'string', minLength: 1 },
            selectivelyDisclosable: { type: 'array', items: { type: 'string' } },
          },
          ['vct'],
        ),
        mso_mdoc: variant(
          { alg: { enum: FORMAT_ALGS }, doctype: { type: 'string' }, namespace: { type: 'string' } },
          ['doctype', 'namespace'],
        ),
      },
    },
    display: { ...display, minItems: 1 },
    claims: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['path'],
        additionalProperties: false,
        properties: {
          path: { type: 'array', minItems: 1, maxItems: 4, items: { type: 'string', pattern: TERM } },
          source: { type: 'string', pattern: SOURCE },
          mandatory: { type: 'boolean' },
          display: {
            type: 'array',
            items: {
              type: 'object',
              required: ['name'],
              additionalProperties: false,
              properties: { name: { type: 'string' }, locale: { type: 'string' } },
            },
          },
          transform: {
            type: 'object',
            required: ['type'],
            oneOf: [
              {
                properties: {
                  type: { const: 'date' },
                  format: { enum: ['YYYY-MM-DD', 'YYYY', 'DD/MM/YYYY', 'MM/DD/YYYY', 'YYYYMMDD'] },
                },
                required: ['format'],
                additionalProperties: false,
              },
              { properties: { type: { const: 'year' } }, additionalProperties: false },
              {
                properties: {
                  type: { const: 'ageOver' },
                  years: { type: 'integer', minimum: 1, maximum: 150 },
                },
                required: ['years'],
                additionalProperties: false,
              },
              {
                properties: {
                  type: { const: 'language' },
                  prefer: { type: 'array', items: { type: 'string' } },
                },
                additionalProperties: false,
              },
              {
                properties: {
                  type: { const: 'languageMap' },
                  languages: { type: 'array', minItems: 1, items: { type: 'string' } },
                },
                required: ['languages'],
                additionalProperties: false,
              },
              {
                properties: {
                  type: { const: 'map' },
                  values: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
                },
                required: ['values'],
                additionalProperties: false,
              },
              {
                properties: { type: { const: 'constant' }, value: { type: ['string', 'number', 'boolean'] } },
                required: ['value'],
                additionalProperties: false,
              },
            ],
          },
        },
      },
    },
    sample: { type: 'object' },
  },
} as const;

const ajv = addFormats(new Ajv2020({ allErrors: true, strict: false }));
const checkStructure = ajv.compile(DEFINITION_SCHEMA);
const schemaCache = new Map<string, ValidateFunction>();

const fromAjv = (
  configuration: string,
  errors: ErrorObject[] | null | undefined,
  prefix = '',
): ConfigurationProblem[] =>
  (errors ?? [])
    .filter((e) => e.keyword !== 'if' && !(e.keyword === 'const' && e.instancePath.endsWith('/transform')))
    .map((e) => ({
      configuration,
      field: `${prefix}${e.instancePath}`,
      reason:
        e.keyword === 'additionalProperties'
          ? `unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`
          : e.keyword === 'enum'
            ? `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`
            : (e.message ?? e.keyword),
    }));

export interface ValidationDeps {
  /** Formats available in this build (the format registry's keys). */
  availableFormats: ReadonlySet<FormatId>;
  /** Credential signing algorithms the key store has keys for. */
  signingAlgs: ReadonlySet<string>;
  schemasDir: string;
  publicUrl: string;
  documentLoader?: DocumentLoader;
}

/** Loads and compiles a subject schema from `schemasDir` (cached per file and content). */
export function loadSubjectSchema(schemasDir: string, file: string): ValidateFunction {
  const path = join(schemasDir, file);
  const text = readFileSync(path, 'utf8');
  const key = `${path}\n${text}`;
  let compiled = schemaCache.get(key);
  if (!compiled) {
    const schema = JSON.parse(text) as Record<string, unknown>;
    const { $id: _ignored, ...rest } = schema;
    compiled = ajv.compile(rest);
    schemaCache.set(key, compiled);
  }
  return compiled;
}

/** Checks one definition; returns every problem found (empty when valid). */
export async function validateDefinition(
  raw: unknown,
  deps: ValidationDeps,
  label = 'configuration',
): Promise<ConfigurationProblem[]> {
  const id = (raw as { id?: unknown })?.id;
  const name = typeof id === 'string' && id ? id : label;
  if (!checkStructure(raw)) return fromAjv(name, checkStructure.errors);
  const def = raw as unknown as CredentialDefinition;
  const problems: ConfigurationProblem[] = [];
  const add = (field: string, reason: string) => problems.push({ configuration: name, field, reason });
  // Display names and descriptions reach wallets and operators' screens: plain text only (text.ts).
  // Checked everywhere in the definition, since identifiers and mapping tables end up displayed too.
  const unsafe = unsafeTextIn(raw);
  if (unsafe.length > 0) return unsafe.map(([field, reason]) => ({ configuration: name, field, reason }));

  for (const [format, variantValue] of Object.entries(def.formats)) {
    const field = `/formats/${format.replace('/', '~1')}`;
    if (!deps.availableFormats.has(format as FormatId))
      add(field, `format "${format}" is not available in this build`);
    const alg = variantValue?.alg ?? (format === 'ldp_vc' ? undefined : 'ES256');
    if (alg && !deps.signingAlgs.has(alg))
      add(`${field}/alg`, `no credential signing key for algorithm ${alg}`);
    const suite = variantValue?.cryptosuite;
    if (format === 'ldp_vc') {
      const needed = suite === 'ecdsa-rdfc-2019' ? 'ES256' : 'EdDSA';
      if (!deps.signingAlgs.has(needed))
        add(`${field}/cryptosuite`, `no credential signing key for ${suite ?? 'eddsa-rdfc-2022'}`);
    }
  }
  if (def.formats.mso_mdoc && def.claims.some((c) => c.path.length > 1)) {
    // mdoc data elements are flat within a namespace; nested paths become one element holding a map.
    const roots = new Set(def.claims.map((c) => c.path[0]));
    if (roots.size === 0) add('/claims', 'mso_mdoc needs at least one data element');
  }
  def.claims.forEach((claim, i) => {
    if (!claim.source && claim.transform?.type !== 'constant')
      add(`/claims/${i}/source`, 'required unless the transform is "constant"');
  });
  const seen = new Set<string>();
  def.claims.forEach((claim, i) => {
    const key = claim.path.join('.');
    if (seen.has(key)) add(`/claims/${i}/path`, `duplicate path ${key}`);
    seen.add(key);
  });

  // The mapping must produce data the subject schema accepts.
  let subject: Record<string, unknown> | undefined;
  if (!existsSync(join(deps.schemasDir, def.schema))) {
    add('/schema', `schema file ${def.schema} not found in ${deps.schemasDir}`);
  } else {
    let validate: ValidateFunction | undefined;
    try {
      validate = loadSubjectSchema(deps.schemasDir, def.schema);
    } catch (error) {
      add('/schema', `schema ${def.schema} does not compile: ${(error as Error).message}`);
    }
    if (validate) {
      const mapped = mapClaims(
        def.claims,
        { ...SAMPLE_IDENTITY, ...def.sample },
        { locales: ['en'], now: Date.UTC(2026, 0, 1) },
      );
      for (const path of mapped.missing)
        add('/claims', `mandatory claim ${path} has no value for the sample person`);
      if (!validate(mapped.subject)) {
        for (const p of fromAjv(name, validate.errors, '/claims → schema'))
          add(p.field, `mapped sample rejected by ${def.schema}: ${p.reason}`);
      }
      subject = mapped.subject;
    }
  }

  // W3C formats: the contexts must define every claim term (JSON-LD expansion in safe mode).
  const w3c = def.formats.ldp_vc || def.formats.jwt_vc_json;
  if (w3c && subject) {
    if (def.contexts.length === 0)
      add('/contexts', 'W3C formats need a JSON-LD context defining the claim terms');
    const loader = deps.documentLoader ?? createDocumentLoader({ publicUrl: deps.publicUrl });
    const contexts = [VC_V2_CONTEXT, ...def.contexts.map((c) => `${deps.publicUrl}/contexts/${c}.jsonld`)];
    const sample = {
      '@context': contexts,
      type: ['VerifiableCredential', ...def.types],
      issuer: 'did:example:issuer',
      validFrom: '2026-01-01T00:00:00Z',
      credentialSubject: { id: 'did:example:holder', ...subject },
    };
    try {
      await jsonld.expand(sample, { documentLoader: loader, safe: true });
    } catch (error) {
      const details = (error as { details?: { event?: { details?: { property?: string } } } }).details;
      const term = details?.event?.details?.property;
      add(
        '/contexts',
        term
          ? `the contexts do not define the term "${term}"`
          : `JSON-LD expansion failed: ${(error as Error).message}`,
      );
    }
  }
  return problems;
}
