import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.ts';
import type { Store } from '../../store/spi.ts';
import type { FormatId, FormatProfile } from '../formats/types.ts';
import { identityClaimsOf } from './mapping.ts';
import type { CredentialConfigurationId, CredentialDefinition, ResolvedConfiguration } from './types.ts';
import {
  ConfigurationError,
  type ConfigurationProblem,
  ConfigurationRetired,
  loadSubjectSchema,
  type ValidationDeps,
  validateDefinition,
} from './validate.ts';

/**
 * The credential configuration registry: definitions loaded from files at start, overridden and
 * extended through the admin API (each update is a new version; retiring hides a definition from
 * metadata, offers and issuance). Admin changes are kept in the store so that every instance and
 * every restart sees them; `reload()` re-reads them.
 */
export interface ConfigurationRegistry {
  /** An active configuration by credential_configuration_id. */
  get(id: string): ResolvedConfiguration | undefined;
  has(id: string): boolean;
  /** Active configurations, in definition order. */
  list(): ResolvedConfiguration[];
  /** Every definition including retired ones, current version. */
  definitions(): CredentialDefinition[];
  definition(id: string): CredentialDefinition | undefined;
  /** Identity claim names (OIDC) that issuing this configuration reads: what consent must cover. */
  claimsFor(id: string): string[];
  /** credential_configuration_ids requested by an OAuth scope value. */
  forScope(scope: string): string[];
  scopes(): string[];
  /**
   * Each scope value → the configuration it requests (the last one defined wins), built once per
   * (re)index: token verification reads it on every credential request.
   */
  scopeMap(): ReadonlyMap<string, CredentialConfigurationId>;
  /** Draft 13 requests name a format and a type instead of an id (OpenID4VCI draft 13 §7.2, Appendix A). */
  findByFormat(
    format: string,
    match: { types?: string[]; vct?: string; doctype?: string },
  ): ResolvedConfiguration[];
  subjectSchema(id: string): ValidateFunction;
  /** Checks a definition as create and update do (ConfigurationError with every problem), saving nothing. */
  check(definition: unknown): Promise<CredentialDefinition>;
  create(definition: unknown): Promise<CredentialDefinition>;
  update(id: string, definition: unknown): Promise<CredentialDefinition>;
  retire(id: string): Promise<CredentialDefinition>;
  versions(id: string): Promise<CredentialDefinition[]>;
  reload(): Promise<void>;
}

export interface RegistryOptions extends Omit<ValidationDeps, 'schemasDir'> {
  configurationsDir: string;
  schemasDir: string;
  store: Store;
  clock: Clock;
  logger: Logger;
}

interface VersionDoc {
  _id: string;
  definitionId: string;
  version: number;
  definition: CredentialDefinition;
  createdAt: number;
  [key: string]: unknown;
}
interface HeadDoc {
  _id: string;
  version: number;
  [key: string]: unknown;
}

const fill = (value: string, publicUrl: string) => value.replaceAll('{{publicUrl}}', publicUrl);

/** Turns a definition into its per-format configurations. */
export function resolveDefinition(def: CredentialDefinition, publicUrl: string): ResolvedConfiguration[] {
  const contextUrls = def.contexts.map((name) => `${publicUrl}/contexts/${name}.jsonld`);
  const identityClaims = identityClaimsOf(def);
  return Object.entries(def.formats).map(([format, variant], i) => {
    const scope =
      variant!.scope ??
      (def.scope ? (i === 0 ? def.scope : `${def.scope}_${format.replace(/[^a-z0-9]+/g, '_')}`) : undefined);
    const profile: FormatProfile = {
      configurationId: variant!.configurationId,
      types: [...def.types],
      contexts: contextUrls,
      ...(variant!.cryptosuite ? { cryptosuite: variant!.cryptosuite } : {}),
      ...(variant!.alg ? { alg: variant!.alg } : {}),
      ...(variant!.vct ? { vct: fill(variant!.vct, publicUrl) } : {}),
      ...(variant!.doctype ? { doctype: variant!.doctype } : {}),
      ...(variant!.namespace ? { namespace: variant!.namespace } : {}),
      ...(variant!.selectivelyDisclosable ? { selectivelyDisclosable: variant!.selectivelyDisclosable } : {}),
    };
    return {
      id: variant!.configurationId,
      format: format as FormatId,
      ...(scope ? { scope } : {}),
      definition: def,
      profile,
      contextUrls,
      identityClaims,
    };
  });
}

function withPublicUrl(def: CredentialDefinition, publicUrl: string): CredentialDefinition {
  return JSON.parse(JSON.stringify(def).replaceAll('{{publicUrl}}', publicUrl)) as CredentialDefinition;
}

export async function createConfigurationRegistry(options: RegistryOptions): Promise<ConfigurationRegistry> {
  const { store, clock, logger, publicUrl } = options;
  const versionsCollection = store.collection<VersionDoc>({
    name: 'credential_definition_versions',
    indexes: ['definitionId'],
  });
  const heads = store.collection<HeadDoc>({ name: 'credential_definition_heads' });
  const validation: ValidationDeps = { ...options };

  // Definitions from files: a variant whose format this build lacks is left out with a warning, so
  // shipped files can list every format and the metadata only advertises what works.
  const fromFiles = new Map<string, CredentialDefinition>();
  const fileProblems: ConfigurationProblem[] = [];
  let files: string[] = [];
  try {
    files = readdirSync(options.configurationsDir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch {
    logger.warn({ dir: options.configurationsDir }, 'no credential configurations folder');
  }
  for (const file of files) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(join(options.configurationsDir, file), 'utf8'));
    } catch (error) {
      fileProblems.push({
        configuration: file,
        field: '',
        reason: `not valid JSON: ${(error as Error).message}`,
      });
      continue;
    }
    const def = raw as CredentialDefinition;
    if (def && typeof def === 'object' && def.formats && typeof def.formats === 'object') {
      for (const format of Object.keys(def.formats) as FormatId[]) {
        if (!options.availableFormats.has(format)) {
          logger.warn(
            { configuration: def.id, format },
            'credential format not available in this build: variant not published',
          );
          delete def.formats[format];
        }
      }
      if (Object.keys(def.formats).length === 0) continue;
    }
    const problems = await validateDefinition(raw, validation, file);
    if (problems.length > 0) {
      fileProblems.push(...problems);
      continue;
    }
    if (fromFiles.has(def.id)) {
      fileProblems.push({ configuration: def.id, field: '/id', reason: `defined twice (${file})` });
      continue;
    }
    fromFiles.set(def.id, { ...def, version: def.version ?? 1 });
  }
  if (fileProblems.length > 0) throw new ConfigurationError(fileProblems);

  let current = new Map<string, CredentialDefinition>();
  let byConfigurationId = new Map<CredentialConfigurationId, ResolvedConfiguration>();
  let scopeMap: ReadonlyMap<string, CredentialConfigurationId> = new Map();
  // Compiled subject schemas per configuration, dropped at every (re)index: a schema file edited on
  // disk is picked up at the next reload, like definition changes, instead of being re-read from
  // disk on every credential request (a readFileSync and a map key of the whole file each time).
  const schemas = new Map<CredentialConfigurationId, ValidateFunction>();

  function index(next: Map<string, CredentialDefinition>): void {
    const resolved = new Map<CredentialConfigurationId, ResolvedConfiguration>();
    for (const def of next.values()) {
      if (def.retired) continue;
      for (const config of resolveDefinition(withPublicUrl(def, publicUrl), publicUrl)) {
        if (options.availableFormats.has(config.format)) resolved.set(config.id, config);
      }
    }
    current = next;
    byConfigurationId = resolved;
    scopeMap = new Map([...resolved.values()].flatMap((c) => (c.scope ? [[c.scope, c.id] as const] : [])));
    schemas.clear();
  }

  async function reload(): Promise<void> {
    const next = new Map(fromFiles);
    const ids = new Set([...fromFiles.keys()]);
    for (const head of await heads.find({})) ids.add(head._id);
    for (const id of ids) {
      const head = await heads.get(id);
      if (!head) continue;
      const doc = await versionsCollection.get(`${id}@${head.version}`);
      if (doc) next.set(id, doc.definition);
    }
    index(next);
  }

  /** Configuration ids must be unique across definitions. */
  function clashes(def: CredentialDefinition): ConfigurationProblem[] {
    const problems: ConfigurationProblem[] = [];
    for (const [format, variant] of Object.entries(def.formats)) {
      const owner = byConfigurationId.get(variant!.configurationId)?.definition.id;
      if (owner && owner !== def.id) {
        problems.push({
          configuration: def.id,
          field: `/formats/${format}/configurationId`,
          reason: `already used by ${owner}`,
        });
      }
    }
    return problems;
  }

  async function save(
    def: CredentialDefinition,
    expectedVersion: number | undefined,
  ): Promise<CredentialDefinition> {
    const version = (expectedVersion ?? 0) + 1;
    const stored = { ...def, version };
    await versionsCollection.put({
      _id: `${def.id}@${version}`,
      definitionId: def.id,
      version,
      definition: stored,
      createdAt: clock.now(),
    });
    if (expectedVersion === undefined) {
      await heads.insert({ _id: def.id, version });
    } else if (!(await heads.update(def.id, { version: expectedVersion }, { version }))) {
      // The head may not exist yet for a definition that so far came only from a file.
      const head = await heads.get(def.id);
      if (head)
        throw new ConfigurationError([
          { configuration: def.id, field: '/version', reason: 'changed concurrently; retry' },
        ]);
      await heads.insert({ _id: def.id, version });
    }
    await reload();
    return stored;
  }

  async function check(raw: unknown): Promise<CredentialDefinition> {
    const problems = await validateDefinition(raw, validation);
    if (problems.length === 0) problems.push(...clashes(raw as CredentialDefinition));
    if (problems.length > 0) throw new ConfigurationError(problems);
    return raw as CredentialDefinition;
  }

  await reload();

  return {
    get: (id) => byConfigurationId.get(id),
    has: (id) => byConfigurationId.has(id),
    list: () => [...byConfigurationId.values()],
    definitions: () => [...current.values()],
    definition: (id) => current.get(id),
    claimsFor: (id) => byConfigurationId.get(id)?.identityClaims ?? [],
    forScope: (scope) => [...byConfigurationId.values()].filter((c) => c.scope === scope).map((c) => c.id),
    scopes: () => [...new Set([...byConfigurationId.values()].flatMap((c) => (c.scope ? [c.scope] : [])))],
    scopeMap: () => scopeMap,
    findByFormat(format, match) {
      const wanted = format === 'vc+sd-jwt' ? 'dc+sd-jwt' : format;
      return [...byConfigurationId.values()].filter((c) => {
        if (c.format !== wanted) return false;
        if (match.vct !== undefined) return c.profile.vct === match.vct;
        if (match.doctype !== undefined) return c.profile.doctype === match.doctype;
        if (match.types) {
          const types = match.types.filter((t) => t !== 'VerifiableCredential');
          return types.length === c.profile.types.length && types.every((t) => c.profile.types.includes(t));
        }
        return false;
      });
    },
    subjectSchema(id) {
      let validate = schemas.get(id);
      if (!validate) {
        validate = loadSubjectSchema(options.schemasDir, byConfigurationId.get(id)!.definition.schema);
        schemas.set(id, validate);
      }
      return validate;
    },
    check,
    async create(raw) {
      const def = await check(raw);
      if (current.get(def.id)?.retired) throw new ConfigurationRetired(def.id);
      if (current.has(def.id)) {
        throw new ConfigurationError([
          { configuration: def.id, field: '/id', reason: 'already exists; update it instead' },
        ]);
      }
      return save({ ...def, retired: false }, undefined);
    },
    async update(id, raw) {
      const existing = current.get(id);
      if (!existing)
        throw new ConfigurationError([{ configuration: id, field: '/id', reason: 'no such definition' }]);
      // Retiring is final: wallets and verifiers were told the configuration is gone, and offers
      // of it are refused. A successor is a new definition (its configuration ids may be reused).
      if (existing.retired) throw new ConfigurationRetired(id);
      const def = await check({ ...(raw as object), id });
      return save({ ...def, retired: false }, existing.version ?? 1);
    },
    async retire(id) {
      const existing = current.get(id);
      if (!existing)
        throw new ConfigurationError([{ configuration: id, field: '/id', reason: 'no such definition' }]);
      // Idempotent: retiring again answers the retired definition as it is, with no new version.
      if (existing.retired) return existing;
      return save({ ...existing, retired: true }, existing.version ?? 1);
    },
    async versions(id) {
      const docs = await versionsCollection.find({ definitionId: id });
      const file = fromFiles.get(id);
      return [...(file ? [file] : []), ...docs.map((d) => d.definition)].sort(
        (a, b) => (a.version ?? 1) - (b.version ?? 1),
      );
    },
    reload,
  };
}
