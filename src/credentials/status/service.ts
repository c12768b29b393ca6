import type { Clock } from '../../clock.ts';
import type { KeyStore, ManagedKey } from '../../keys/spi.ts';
import type { Collection, Store } from '../../store/spi.ts';
import type { JwsAlgorithm } from '../formats/jws.ts';
import type { BitstringStatusEntry, FormatId, StatusEntry, TokenStatusEntry } from '../formats/types.ts';
import { createListAllocator } from './allocation.ts';
import { setBitMsb, setStatusLsb } from './encoding.ts';
import {
  type BitstringSecuring,
  LIST_ID,
  type ListKind,
  rawOf,
  readEntry,
  STATUS_LISTS_COLLECTION,
  type StatusListRecord,
  type StatusPurpose,
  statusListUrl,
  TOKEN_STATUS,
} from './list-record.ts';
import { createSignedLists, type ServedStatusList } from './signed-lists.ts';

/**
 * Status lists: W3C Bitstring Status List (https://www.w3.org/TR/vc-bitstring-status-list/) for
 * ldp_vc and jwt_vc_json, IETF Token Status List (draft-ietf-oauth-status-list) for SD-JWT VC and
 * mdoc. Indices come from `store.allocate` (random, unique per list, atomic under parallel issuance:
 * SECURITY.md rows 34 and 35). A list's bits live in one store document changed by compare-and-set
 * on its `version`; the signed list is cached per instance and re-signed only when the version, the
 * signing key or the validity window says so.
 */

/** What the ledger keeps of a credential: its status entries (no claims). */
export interface LedgerStatus {
  statusEntries?: StatusEntry[];
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

export function createStatusService(options: StatusServiceOptions): StatusService {
  const { store, keys, clock, publicUrl } = options;
  const listSize = options.listSize ?? 131_072;
  const fillRatio = options.fillRatio ?? 0.75;
  const ttlSeconds = options.ttlSeconds ?? 300;
  const validitySeconds = options.validitySeconds ?? 86_400;
  const alg = options.alg ?? 'ES256';
  const lists: Collection<StatusListRecord> = store.collection(STATUS_LISTS_COLLECTION);
  const allocateIn = createListAllocator({ store, clock, lists, listSize, fillRatio });
  const signed = createSignedLists({
    keys,
    clock,
    publicUrl,
    ttlSeconds,
    validitySeconds,
    alg,
    ...(options.signLdpCredential ? { signLdpCredential: options.signLdpCredential } : {}),
    ...(options.tokenX5c ? { tokenX5c: options.tokenX5c } : {}),
  });

  const listUrl = (kind: ListKind, listId: string) => statusListUrl(publicUrl, kind, listId);
  const listIdOf = (entry: StatusEntry): string => {
    const url = entry.kind === 'bitstring' ? entry.listCredentialUrl : entry.uri;
    const prefix = `${publicUrl}/status/${entry.kind}/`;
    const listId = url.startsWith(prefix) ? url.slice(prefix.length) : '';
    if (!LIST_ID.test(listId))
      throw new Error(`status entry points to a list this issuer does not serve: ${url}`);
    return listId;
  };

  // ---- allocation --------------------------------------------------------------------------

  async function allocateBitstring(purpose: StatusPurpose, securing: BitstringSecuring, ledgerId: string) {
    const { listId, index } = await allocateIn(`bitstring:${securing}:${purpose}`, ledgerId);
    return { kind: 'bitstring', purpose, listCredentialUrl: listUrl('bitstring', listId), index } as const;
  }

  async function allocateToken(ledgerId: string) {
    const { listId, index } = await allocateIn('token', ledgerId);
    return { kind: 'token', uri: listUrl('token', listId), idx: index } as const;
  }

  // ---- changes -----------------------------------------------------------------------------

  /** Applies `change` (old value → new value, or undefined for no change) with compare-and-set. */
  async function mutate(listId: string, index: number, change: (old: number) => number | undefined) {
    for (;;) {
      const record = await lists.get(listId);
      if (!record) throw new Error(`unknown status list ${listId}`);
      if (!Number.isInteger(index) || index < 0 || index >= record.size)
        throw new Error('status index out of range');
      const raw = rawOf(record);
      const next = change(readEntry(record, raw, index));
      if (next === undefined || next === readEntry(record, raw, index)) return false;
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
    return readEntry(record, rawOf(record), index);
  }

  async function serve(kind: ListKind, listId: string): Promise<ServedStatusList | undefined> {
    if (!LIST_ID.test(listId)) return undefined;
    const record = await lists.get(listId);
    if (!record || record.kind !== kind) return undefined;
    return signed(record);
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
