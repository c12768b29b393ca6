import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import { didWebFromUrl, verificationMethodId } from '../../keys/documents.ts';
import type { KeyStore, ManagedKey } from '../../keys/spi.ts';
import {
  type Collection,
  SpaceExhausted,
  type Store,
  type StoredDoc,
  UniqueViolation,
} from '../../store/spi.ts';
import { encodedHeader, type JwsAlgorithm, signCompact } from '../formats/jws.ts';
import type { BitstringStatusEntry, FormatId, StatusEntry, TokenStatusEntry } from '../formats/types.ts';
import {
  byteLength,
  encodeBitstring,
  encodeTokenList,
  getBitMsb,
  getStatusLsb,
  setBitMsb,
  setStatusLsb,
} from './encoding.ts';

/**
 * Status lists: W3C Bitstring Status List (https://www.w3.org/TR/vc-bitstring-status-list/) for
 * ldp_vc and jwt_vc_json, IETF Token Status List (draft-ietf-oauth-status-list) for SD-JWT VC and
 * mdoc. Indices come from `store.allocate` (random, unique per list, atomic under parallel issuance:
 * SECURITY.md rows 34 and 35). A list's bits live in one store document changed by compare-and-set
 * on its `version`; the signed list is cached per instance and re-signed only when the version, the
 * signing key or the validity window says so.
 */

export type StatusPurpose = 'revocation' | 'suspension';
/** How a bitstring list credential is secured: as an ldp_vc (for ldp_vc credentials) or a JWT. */
export type BitstringSecuring = 'ldp_vc' | 'jwt';
export type ListKind = 'bitstring' | 'token';

/** draft-ietf-oauth-status-list §7.1 status types. */
export const TOKEN_STATUS = { valid: 0, invalid: 1, suspended: 2 } as const;

export interface StatusListRecord extends StoredDoc {
  kind: ListKind;
  /** Bitstring lists: one purpose per list. Token lists carry both in two-bit entries. */
  purpose?: StatusPurpose;
  securing?: BitstringSecuring;
  size: number;
  bits: 1 | 2;
  /** base64url of the raw (uncompressed) list; absent while every entry is 0. */
  data?: string;
  /** Incremented by every change; the compare-and-set guard and the cache key. */
  version: number;
  createdAt: number;
  updatedAt: number;
}

interface SlotRecord extends StoredDoc {
  listId: string;
}

/** What the ledger keeps of a credential: its status entries (no claims). */
export interface LedgerStatus {
  statusEntries?: StatusEntry[];
}

export interface ServedStatusList {
  /** A compact JWT, or the ldp_vc status list credential. */
  body: string | Record<string, unknown>;
  contentType: string;
  etag: string;
  maxAgeSeconds: number;
  lastModified: Date;
}

export interface StatusServiceOptions {
  store: Store;
  keys: KeyStore;
  clock: Clock;
  publicUrl: string;
  /** Entries per list. Default 131,072 (Bitstring Status List §6.1 minimum for herd privacy). */
  listSize?: number;
  /** A list stops taking new credentials when this share of it is allocated (random picks stay cheap). */
  fillRatio?: number;
  /** Cache lifetime: `ttl` of a status list token, `Cache-Control: max-age`, bitstring `ttl` (ms). */
  ttlSeconds?: number;
  /** How long a signed list stays valid (`exp`, `validUntil`); re-signed at half of it. */
  validitySeconds?: number;
  /** Algorithm of the JWT-secured lists (token lists and jwt bitstring lists). */
  alg?: JwsAlgorithm;
  /** Signs a bitstring list credential as an ldp_vc (the ldp_vc format owns Data Integrity). */
  signLdpCredential?: (credential: Record<string, unknown>) => Promise<Record<string, unknown>>;
  /** x5c chain (base64 DER, leaf first) for a token list signed by `key`, so mdoc verifiers trust it via the IACA. */
  tokenX5c?: (key: ManagedKey) => Promise<string[] | undefined>;
}

export interface StatusService {
  /** Status entries for a credential of this format: bitstring lists per purpose, or one token list entry. */
  allocate(format: FormatId, ledgerId: string, purposes?: StatusPurpose[]): Promise<StatusEntry[]>;
  allocateBitstring(
    purpose: StatusPurpose,
    securing: BitstringSecuring,
    ledgerId: string,
  ): Promise<BitstringStatusEntry>;
  allocateToken(ledgerId: string): Promise<TokenStatusEntry>;
  /** Sets one entry; true when the stored value changed. */
  setStatus(listId: string, index: number, value: number): Promise<boolean>;
  getStatus(listId: string, index: number): Promise<number>;
  /** Final: sets the revocation bit (bitstring) or INVALID (token). Returns how many entries changed. */
  revoke(ledger: LedgerStatus): Promise<number>;
  /** Sets the suspension bit (bitstring) or SUSPENDED (token, unless revoked). */
  suspend(ledger: LedgerStatus): Promise<number>;
  /** Clears a suspension; never undoes a revocation. */
  reinstate(ledger: LedgerStatus): Promise<number>;
  statusOf(ledger: LedgerStatus): Promise<'valid' | 'suspended' | 'revoked'>;
  /** The signed list for the HTTP layer; undefined for an unknown list. */
  serve(kind: ListKind, listId: string): Promise<ServedStatusList | undefined>;
  /** The signed list behind a status URL this service issued (for in-process verifiers and loaders). */
  resolve(url: string): Promise<ServedStatusList | undefined>;
  /** `<publicUrl>/status/<kind>/<listId>`. */
  listUrl(kind: ListKind, listId: string): string;
  /** Which list an entry points into. */
  listIdOf(entry: StatusEntry): string;
}

export const STATUS_LISTS_COLLECTION = { name: 'status_lists', indexes: ['kind'] };
export const STATUS_SLOTS_COLLECTION = { name: 'status_slots' };

const LIST_ID = /^[A-Za-z0-9_-]{16,64}$/;

export function createStatusService(options: StatusServiceOptions): StatusService {
  const { store, keys, clock, publicUrl } = options;
  const listSize = options.listSize ?? 131_072;
  const fillRatio = options.fillRatio ?? 0.75;
  const ttlSeconds = options.ttlSeconds ?? 300;
  const validitySeconds = options.validitySeconds ?? 86_400;
  const alg = options.alg ?? 'ES256';
  const did = didWebFromUrl(publicUrl);
  const lists: Collection<StatusListRecord> = store.collection(STATUS_LISTS_COLLECTION);
  const slots: Collection<SlotRecord> = store.collection(STATUS_SLOTS_COLLECTION);

  const listUrl = (kind: ListKind, listId: string) => `${publicUrl}/status/${kind}/${listId}`;
  const listIdOf = (entry: StatusEntry): string => {
    const url = entry.kind === 'bitstring' ? entry.listCredentialUrl : entry.uri;
    const prefix = `${publicUrl}/status/${entry.kind}/`;
    const listId = url.startsWith(prefix) ? url.slice(prefix.length) : '';
    if (!LIST_ID.test(listId))
      throw new Error(`status entry points to a list this issuer does not serve: ${url}`);
    return listId;
  };

  // ---- allocation --------------------------------------------------------------------------

  /** In-process view of each slot's current list; the store's slot document is the truth. */
  const current = new Map<string, { listId: string; size: number }>();

  async function createList(slot: string): Promise<StatusListRecord> {
    const [kind, securing, purpose] = slot.split(':') as [ListKind, BitstringSecuring?, StatusPurpose?];
    const record: StatusListRecord = {
      // Random ids: list URLs reveal neither order nor issuance volume.
      _id: randomBytes(16).toString('base64url'),
      kind,
      ...(kind === 'bitstring' ? { purpose: purpose!, securing: securing! } : {}),
      size: listSize,
      bits: kind === 'token' ? 2 : 1,
      version: 0,
      createdAt: clock.now(),
      updatedAt: clock.now(),
    };
    await lists.insert(record);
    return record;
  }

  async function currentList(slot: string): Promise<{ listId: string; size: number }> {
    const known = current.get(slot);
    if (known) return known;
    for (;;) {
      const pointer = await slots.get(slot);
      if (pointer) {
        const record = await lists.get(pointer.listId);
        if (!record) throw new Error(`status slot ${slot} points to a missing list`);
        const entry = { listId: record._id, size: record.size };
        current.set(slot, entry);
        return entry;
      }
      const record = await createList(slot);
      try {
        await slots.insert({ _id: slot, listId: record._id });
      } catch (error) {
        // Another instance created the first list at the same time: use theirs.
        if (!(error instanceof UniqueViolation)) throw error;
        await lists.delete(record._id);
      }
    }
  }

  /** Replaces a full list with a fresh one; among racing callers one compare-and-set wins. */
  async function rotateList(slot: string, fullListId: string): Promise<void> {
    current.delete(slot);
    const record = await createList(slot);
    const moved = await slots.update(slot, { listId: fullListId }, { listId: record._id });
    if (!moved) await lists.delete(record._id);
  }

  async function allocateIn(slot: string, ledgerId: string): Promise<{ listId: string; index: number }> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const { listId, size } = await currentList(slot);
      const capacity = Math.max(1, Math.floor(size * fillRatio));
      // The fill counter caps a list below its size, so random picks never hunt for the last free slots.
      if ((await store.increment(`status-fill:${listId}`, { limit: capacity })) > capacity) {
        await rotateList(slot, listId);
        continue;
      }
      try {
        return { listId, index: await store.allocate(`status:${listId}`, size, ledgerId) };
      } catch (error) {
        if (!(error instanceof SpaceExhausted)) throw error;
        await rotateList(slot, listId);
      }
    }
    throw new Error(`could not allocate a status index in ${slot}`);
  }

  async function allocateBitstring(purpose: StatusPurpose, securing: BitstringSecuring, ledgerId: string) {
    const { listId, index } = await allocateIn(`bitstring:${securing}:${purpose}`, ledgerId);
    return { kind: 'bitstring', purpose, listCredentialUrl: listUrl('bitstring', listId), index } as const;
  }

  async function allocateToken(ledgerId: string) {
    const { listId, index } = await allocateIn('token', ledgerId);
    return { kind: 'token', uri: listUrl('token', listId), idx: index } as const;
  }

  // ---- changes -----------------------------------------------------------------------------

  const rawOf = (record: StatusListRecord): Uint8Array =>
    record.data
      ? new Uint8Array(Buffer.from(record.data, 'base64url'))
      : new Uint8Array(byteLength(record.size, record.bits));
  const read = (record: StatusListRecord, raw: Uint8Array, index: number) =>
    record.kind === 'bitstring' ? getBitMsb(raw, index) : getStatusLsb(raw, index, record.bits);

  /** Applies `change` (old value → new value, or undefined for no change) with compare-and-set. */
  async function mutate(listId: string, index: number, change: (old: number) => number | undefined) {
    for (;;) {
      const record = await lists.get(listId);
      if (!record) throw new Error(`unknown status list ${listId}`);
      if (!Number.isInteger(index) || index < 0 || index >= record.size)
        throw new Error('status index out of range');
      const raw = rawOf(record);
      const next = change(read(record, raw, index));
      if (next === undefined || next === read(record, raw, index)) return false;
      if (next < 0 || next >= 1 << record.bits)
        throw new Error(`status value ${next} does not fit ${record.bits} bit(s)`);
      if (record.kind === 'bitstring') setBitMsb(raw, index, next);
      else setStatusLsb(raw, index, record.bits, next);
      const updated = await lists.update(
        listId,
        { version: record.version },
        { data: Buffer.from(raw).toString('base64url'), version: record.version + 1, updatedAt: clock.now() },
      );
      if (updated) return true;
    }
  }

  async function apply(
    ledger: LedgerStatus,
    bitstring: { purpose: StatusPurpose; value: number } | undefined,
    token: (old: number) => number | undefined,
  ): Promise<number> {
    let changed = 0;
    for (const entry of ledger.statusEntries ?? []) {
      const listId = listIdOf(entry);
      if (entry.kind === 'token') changed += Number(await mutate(listId, entry.idx, token));
      else if (bitstring && entry.purpose === bitstring.purpose) {
        changed += Number(await mutate(listId, entry.index, () => bitstring.value));
      }
    }
    return changed;
  }

  async function getStatus(listId: string, index: number): Promise<number> {
    const record = await lists.get(listId);
    if (!record) throw new Error(`unknown status list ${listId}`);
    return read(record, rawOf(record), index);
  }

  // ---- signed lists ------------------------------------------------------------------------

  const signingKey = () => keys.active('credential', alg);
  const cache = new Map<string, { mark: string; refreshAt: number; served: Promise<ServedStatusList> }>();

  async function sign(record: StatusListRecord): Promise<ServedStatusList> {
    const nowMs = clock.now();
    const iat = Math.floor(nowMs / 1000);
    const url = listUrl(record.kind, record._id);
    const raw = rawOf(record);
    let body: ServedStatusList['body'];
    let contentType: string;
    if (record.kind === 'token') {
      const key = signingKey();
      const x5c = (await options.tokenX5c?.(key)) ?? undefined;
      // draft-ietf-oauth-status-list §5.1: typ statuslist+jwt; sub = the list's URI; ttl; exp.
      const header = encodedHeader(key, `statuslist+jwt ${x5c?.[0] ?? ''}`, () => ({
        typ: 'statuslist+jwt',
        kid: key.kid,
        ...(x5c ? { x5c } : {}),
      }));
      body = signCompact(key, header, {
        iss: publicUrl,
        sub: url,
        iat,
        exp: iat + validitySeconds,
        ttl: ttlSeconds,
        status_list: { bits: record.bits, lst: encodeTokenList(raw) },
      });
      contentType = 'application/statuslist+jwt';
    } else {
      // Bitstring Status List §2.2 (BitstringStatusListCredential), VC Data Model 2.0.
      const credential: Record<string, unknown> = {
        '@context': ['https://www.w3.org/ns/credentials/v2'],
        id: url,
        type: ['VerifiableCredential', 'BitstringStatusListCredential'],
        issuer: did,
        validFrom: new Date(iat * 1000).toISOString().replace('.000Z', 'Z'),
        validUntil: new Date((iat + validitySeconds) * 1000).toISOString().replace('.000Z', 'Z'),
        credentialSubject: {
          id: `${url}#list`,
          type: 'BitstringStatusList',
          statusPurpose: record.purpose,
          encodedList: encodeBitstring(raw),
          ttl: ttlSeconds * 1000,
        },
      };
      if (record.securing === 'ldp_vc') {
        if (!options.signLdpCredential)
          throw new Error('no ldp_vc signer configured for bitstring status lists');
        body = await options.signLdpCredential(structuredClone(credential));
        contentType = 'application/vc+ld+json';
      } else {
        // VC-JOSE-COSE §3.1 (https://www.w3.org/TR/vc-jose-cose/): the JWT payload is the credential.
        const key = signingKey();
        const header = encodedHeader(key, `vc+jwt ${did}`, () => ({
          typ: 'vc+jwt',
          kid: verificationMethodId(publicUrl, key.kid),
        }));
        body = signCompact(key, header, { ...credential, iss: did, iat, exp: iat + validitySeconds });
        contentType = 'application/vc+jwt';
      }
    }
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    return {
      body,
      contentType,
      etag: `"${createHash('sha256').update(text).digest('base64url').slice(0, 27)}"`,
      maxAgeSeconds: ttlSeconds,
      lastModified: new Date(record.updatedAt),
    };
  }

  /** Marks what a cached signature depends on: the list version and the key(s) that sign it. */
  function markOf(record: StatusListRecord): string {
    const signer =
      record.securing === 'ldp_vc'
        ? `${keys.active('credential', 'EdDSA').kid}:${keys.active('credential', 'ES256').kid}`
        : signingKey().kid;
    return `${record.version}:${signer}`;
  }

  async function serve(kind: ListKind, listId: string): Promise<ServedStatusList | undefined> {
    if (!LIST_ID.test(listId)) return undefined;
    const record = await lists.get(listId);
    if (!record || record.kind !== kind) return undefined;
    const mark = markOf(record);
    const cached = cache.get(listId);
    if (cached && cached.mark === mark && cached.refreshAt > clock.now()) return cached.served;
    const served = sign(record);
    // Re-sign at half the validity so a cached copy downstream never outlives its `exp`.
    cache.set(listId, { mark, refreshAt: clock.now() + (validitySeconds * 1000) / 2, served });
    served.catch(() => cache.delete(listId));
    return served;
  }

  return {
    async allocate(format, ledgerId, purposes = ['revocation']) {
      if (format === 'dc+sd-jwt' || format === 'mso_mdoc') return [await allocateToken(ledgerId)];
      const securing: BitstringSecuring = format === 'ldp_vc' ? 'ldp_vc' : 'jwt';
      const entries: StatusEntry[] = [];
      for (const purpose of purposes) entries.push(await allocateBitstring(purpose, securing, ledgerId));
      return entries;
    },
    allocateBitstring,
    allocateToken,
    setStatus: (listId, index, value) => mutate(listId, index, () => value),
    getStatus,
    revoke: (ledger) => apply(ledger, { purpose: 'revocation', value: 1 }, () => TOKEN_STATUS.invalid),
    suspend: (ledger) =>
      apply(ledger, { purpose: 'suspension', value: 1 }, (old) =>
        old === TOKEN_STATUS.valid ? TOKEN_STATUS.suspended : undefined,
      ),
    reinstate: (ledger) =>
      apply(ledger, { purpose: 'suspension', value: 0 }, (old) =>
        old === TOKEN_STATUS.suspended ? TOKEN_STATUS.valid : undefined,
      ),
    async statusOf(ledger) {
      let suspended = false;
      for (const entry of ledger.statusEntries ?? []) {
        const listId = listIdOf(entry);
        if (entry.kind === 'token') {
          const value = await getStatus(listId, entry.idx);
          if (value === TOKEN_STATUS.invalid) return 'revoked';
          if (value === TOKEN_STATUS.suspended) suspended = true;
        } else if (await getStatus(listId, entry.index)) {
          if (entry.purpose === 'revocation') return 'revoked';
          suspended = true;
        }
      }
      return suspended ? 'suspended' : 'valid';
    },
    serve,
    async resolve(url) {
      for (const kind of ['bitstring', 'token'] as const) {
        const prefix = `${publicUrl}/status/${kind}/`;
        if (url.startsWith(prefix)) return serve(kind, url.slice(prefix.length).split('#')[0]!);
      }
      return undefined;
    },
    listUrl,
    listIdOf,
  };
}
