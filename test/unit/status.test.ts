import type { AddressInfo } from 'node:net';
import { decodeList } from '@digitalbazaar/vc-bitstring-status-list';
import { getListFromStatusListJWT, StatusList } from '@sd-jwt/jwt-status-list';
import { decodeJwt, decodeProtectedHeader, importJWK, type JWK, jwtVerify } from 'jose';
import Koa from 'koa';
import { beforeEach, describe, expect, it } from 'vitest';
import type { BitstringStatusEntry, TokenStatusEntry } from '../../src/credentials/formats/types.ts';
import {
  decodeBitstring,
  decodeTokenList,
  encodeBitstring,
  encodeTokenList,
  getBitMsb,
  setBitMsb,
  setStatusLsb,
} from '../../src/credentials/status/encoding.ts';
import { createStatusService, type StatusService } from '../../src/credentials/status/service.ts';
import { errorHandler } from '../../src/http/error-handler.ts';
import { statusRoutes } from '../../src/http/status.ts';
import { openStore } from '../../src/store/index.ts';
import { type CredentialDeps, credentialDeps } from '../helpers/credential-deps.ts';

const SIZE = 131_072;

describe('status list encodings', () => {
  it('puts bitstring index 0 in the most significant bit, as the W3C reference decoder reads it', async () => {
    const raw = new Uint8Array(SIZE / 8);
    for (const index of [0, 9, 94_567, SIZE - 1]) setBitMsb(raw, index, 1);
    expect(raw[0]).toBe(0x80);
    expect(raw[1]).toBe(0x40);
    const decoded = await decodeList({ encodedList: encodeBitstring(raw) });
    expect(decoded.length).toBe(SIZE);
    const set = [0, 1, 8, 9, 10, 94_567, SIZE - 2, SIZE - 1].filter((index) => decoded.getStatus(index));
    expect(set).toEqual([0, 9, 94_567, SIZE - 1]);
    expect(decodeBitstring(encodeBitstring(raw))).toEqual(raw);
  });

  it('packs token status entries least significant bits first, as @sd-jwt/jwt-status-list reads them', () => {
    const raw = new Uint8Array(SIZE / 4);
    setStatusLsb(raw, 0, 2, 1);
    setStatusLsb(raw, 3, 2, 2);
    setStatusLsb(raw, 77_777, 2, 1);
    // draft-ietf-oauth-status-list §4.1 example: entry 0 in bits 0-1, entry 3 in bits 6-7.
    expect(raw[0]).toBe(0b1000_0001);
    const list = StatusList.decompressStatusList(encodeTokenList(raw), 2);
    expect(list.statusList.length).toBe(SIZE);
    expect([list.getStatus(0), list.getStatus(1), list.getStatus(3), list.getStatus(77_777)]).toEqual([
      1, 0, 2, 1,
    ]);
    expect(decodeTokenList(encodeTokenList(raw))).toEqual(raw);
  });
});

describe('status service', () => {
  let deps: CredentialDeps;
  let status: StatusService;
  beforeEach(async () => {
    deps = await credentialDeps('https://issuer.example');
    status = createStatusService({
      ...deps,
      signLdpCredential: async (vc) => ({ ...vc, proof: { type: 'test' } }),
    });
  });

  /** Decodes the served bitstring list JWT and returns the indices whose bit is set. */
  async function setBits(entry: BitstringStatusEntry): Promise<number[]> {
    const served = await status.serve('bitstring', status.listIdOf(entry));
    const payload = decodeJwt(served!.body as string) as { credentialSubject: { encodedList: string } };
    const raw = decodeBitstring(payload.credentialSubject.encodedList);
    const set: number[] = [];
    for (let index = 0; index < SIZE; index++) if (getBitMsb(raw, index)) set.push(index);
    return set;
  }

  it('allocates 50 parallel indices that are unique, random and in one list of 131,072 entries', async () => {
    const entries = await Promise.all(
      Array.from({ length: 50 }, (_, i) => status.allocateBitstring('revocation', 'jwt', `ledger-${i}`)),
    );
    const indices = entries.map((entry) => entry.index);
    expect(new Set(indices).size).toBe(50);
    expect(new Set(entries.map((entry) => entry.listCredentialUrl)).size).toBe(1);
    expect(indices.every((index) => index >= 0 && index < SIZE)).toBe(true);
    // Not an arithmetic progression, in allocation order or sorted (SECURITY.md row 35).
    for (const sequence of [indices, [...indices].sort((a, b) => a - b)]) {
      const steps = new Set(sequence.slice(1).map((value, i) => value - sequence[i]!));
      expect(steps.size).toBeGreaterThan(1);
    }
  });

  it('row 35: 1,000 credentials share one list, with indices spread uniformly and uncorrelated in issue order', async () => {
    const store = await openStore({ kind: 'embedded', file: ':memory:' }, deps.clock, 0);
    const onSqlite = createStatusService({ ...deps, store });
    const entries: BitstringStatusEntry[] = [];
    for (let i = 0; i < 1000; i++)
      entries.push(await onSqlite.allocateBitstring('revocation', 'ldp_vc', `l${i}`));
    // One list for all of them: the list URL says nothing about which credential is checked.
    expect(new Set(entries.map((entry) => entry.listCredentialUrl)).size).toBe(1);
    const indices = entries.map((entry) => entry.index);
    expect(new Set(indices).size).toBe(1000);
    // Uniform over the 131,072 entries: 16 buckets of ~62.5 each; chi-square with 15 degrees of
    // freedom stays under 50 except with probability ~1e-5 for a uniform source.
    const buckets = new Array<number>(16).fill(0);
    for (const index of indices) buckets[Math.floor(index / (SIZE / 16))]! += 1;
    const chiSquare = buckets.reduce((sum, n) => sum + (n - 62.5) ** 2 / 62.5, 0);
    expect(chiSquare).toBeLessThan(50);
    // Issue order does not show in the indices: consecutive ones are uncorrelated (|r| < 0.15,
    // ~4.7 standard errors for 1,000 pairs) and no step repeats often.
    const xs = indices.slice(0, -1);
    const ys = indices.slice(1);
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    const [mx, my] = [mean(xs), mean(ys)];
    const cov = xs.reduce((sum, x, i) => sum + (x - mx) * (ys[i]! - my), 0);
    const sd = (v: number[], m: number) => Math.sqrt(v.reduce((sum, x) => sum + (x - m) ** 2, 0));
    expect(Math.abs(cov / (sd(xs, mx) * sd(ys, my)))).toBeLessThan(0.15);
    const steps = new Map<number, number>();
    for (let i = 1; i < indices.length; i++) {
      const step = indices[i]! - indices[i - 1]!;
      steps.set(step, (steps.get(step) ?? 0) + 1);
    }
    expect(Math.max(...steps.values())).toBeLessThan(5);
    await store.close();
  });

  it('revoking one of many credentials sets exactly its bit in the signed list', async () => {
    const ledgers = [];
    for (let i = 0; i < 20; i++)
      ledgers.push({ statusEntries: await status.allocate('jwt_vc_json', `ledger-${i}`) });
    const target = ledgers[7]!;
    expect(await status.revoke(target)).toBe(1);
    const entry = target.statusEntries[0] as BitstringStatusEntry;
    expect(await setBits(entry)).toEqual([entry.index]);
    expect(await status.statusOf(target)).toBe('revoked');
    expect(await status.statusOf(ledgers[8]!)).toBe('valid');
    // Revocation is final: a second revoke and a reinstate change nothing.
    expect(await status.revoke(target)).toBe(0);
    expect(await status.reinstate(target)).toBe(0);
  });

  it('suspends and reinstates through the suspension list without touching the revocation list', async () => {
    const ledger = {
      statusEntries: await status.allocate('jwt_vc_json', 'ledger-s', ['revocation', 'suspension']),
    };
    const [revocation, suspension] = ledger.statusEntries as BitstringStatusEntry[];
    expect(await status.suspend(ledger)).toBe(1);
    expect(await setBits(suspension!)).toEqual([suspension!.index]);
    expect(await setBits(revocation!)).toEqual([]);
    expect(await status.statusOf(ledger)).toBe('suspended');
    expect(await status.reinstate(ledger)).toBe(1);
    expect(await setBits(suspension!)).toEqual([]);
    expect(await status.statusOf(ledger)).toBe('valid');
  });

  it('signs a token status list JWT that @sd-jwt/jwt-status-list decodes, with revoke and suspend values', async () => {
    const ledgers = [];
    for (let i = 0; i < 10; i++)
      ledgers.push({ statusEntries: await status.allocate('dc+sd-jwt', `ledger-${i}`) });
    await status.revoke(ledgers[2]!);
    await status.suspend(ledgers[5]!);
    const revoked = ledgers[2]!.statusEntries[0] as TokenStatusEntry;
    const suspended = ledgers[5]!.statusEntries[0] as TokenStatusEntry;
    const served = (await status.resolve(revoked.uri))!;
    expect(served.contentType).toBe('application/statuslist+jwt');
    const jwt = served.body as string;

    const key = deps.keys.active('credential', 'ES256');
    const { payload, protectedHeader } = await jwtVerify(
      jwt,
      await importJWK(key.publicJwk as JWK, 'ES256'),
      {
        typ: 'statuslist+jwt',
        currentDate: new Date(deps.clock.now()),
      },
    );
    expect(protectedHeader.kid).toBe(key.kid);
    expect(payload.sub).toBe(revoked.uri);
    expect(payload.iss).toBe('https://issuer.example');
    expect(payload.ttl).toBe(300);
    expect(payload.exp).toBe((payload.iat as number) + 86_400);
    const list = getListFromStatusListJWT(jwt);
    expect(list.getBitsPerStatus()).toBe(2);
    const nonZero = list.statusList.flatMap((value, index) => (value ? [[index, value]] : []));
    expect(nonZero).toEqual(
      [
        [revoked.idx, 1],
        [suspended.idx, 2],
      ].sort((a, b) => a[0]! - b[0]!),
    );
    // A revoked token cannot be suspended or reinstated back to valid.
    expect(await status.suspend(ledgers[2]!)).toBe(0);
    expect(await status.reinstate(ledgers[2]!)).toBe(0);
    expect(await status.reinstate(ledgers[5]!)).toBe(1);
  });

  it('re-signs a list only when a bit changes or the signing key rotates', async () => {
    const ledger = { statusEntries: await status.allocate('dc+sd-jwt', 'ledger-a') };
    const entry = ledger.statusEntries[0] as TokenStatusEntry;
    const first = await status.resolve(entry.uri);
    deps.clock.advanceSeconds(60);
    expect((await status.resolve(entry.uri))!.body).toBe(first!.body);
    await status.suspend(ledger);
    const second = await status.resolve(entry.uri);
    expect(second!.body).not.toBe(first!.body);
    expect(second!.etag).not.toBe(first!.etag);
    await deps.keys.rotate('credential', 'ES256');
    const third = await status.resolve(entry.uri);
    expect(decodeProtectedHeader(third!.body as string).kid).toBe(
      deps.keys.active('credential', 'ES256').kid,
    );
  });

  it('signs ldp_vc lists through the injected ldp_vc signer as a BitstringStatusListCredential', async () => {
    const [entry] = (await status.allocate('ldp_vc', 'ledger-l')) as BitstringStatusEntry[];
    const served = (await status.resolve(entry!.listCredentialUrl))!;
    const vc = served.body as Record<string, any>;
    expect(vc['type']).toEqual(['VerifiableCredential', 'BitstringStatusListCredential']);
    expect(vc['issuer']).toBe('did:web:issuer.example');
    expect(vc['credentialSubject']).toMatchObject({
      type: 'BitstringStatusList',
      statusPurpose: 'revocation',
    });
    expect(vc['proof']).toEqual({ type: 'test' });
  });

  it('allocates 50 parallel unique indices on the embedded (node:sqlite) store too', async () => {
    const store = await openStore({ kind: 'embedded', file: ':memory:' }, deps.clock, 0);
    const onSqlite = createStatusService({ ...deps, store });
    const entries = await Promise.all(
      Array.from({ length: 50 }, (_, i) => onSqlite.allocateToken(`ledger-${i}`)),
    );
    expect(new Set(entries.map((entry) => entry.idx)).size).toBe(50);
    expect(new Set(entries.map((entry) => entry.uri)).size).toBe(1);
    await onSqlite.revoke({ statusEntries: [entries[3]!] });
    const list = getListFromStatusListJWT((await onSqlite.resolve(entries[3]!.uri))!.body as string);
    expect(list.statusList.flatMap((value, index) => (value ? [index] : []))).toEqual([entries[3]!.idx]);
    await store.close();
  });

  it('starts a new list when one fills, and never hands out an index twice', async () => {
    const small = createStatusService({ ...deps, listSize: 16, fillRatio: 0.75 });
    const entries = await Promise.all(
      Array.from({ length: 40 }, (_, i) => small.allocateBitstring('revocation', 'jwt', `l-${i}`)),
    );
    const byList = new Map<string, Set<number>>();
    for (const entry of entries) {
      const set = byList.get(entry.listCredentialUrl) ?? new Set();
      expect(set.has(entry.index)).toBe(false);
      set.add(entry.index);
      byList.set(entry.listCredentialUrl, set);
    }
    expect(byList.size).toBeGreaterThanOrEqual(4);
    for (const set of byList.values()) expect(set.size).toBeLessThanOrEqual(12);
  });

  it('serves lists with public cache headers and an ETag, 304 on a match and 404 for unknown lists', async () => {
    const ledger = { statusEntries: await status.allocate('mso_mdoc', 'ledger-h') };
    const entry = ledger.statusEntries[0] as TokenStatusEntry;
    const app = new Koa();
    app.use(errorHandler());
    app.use(statusRoutes({ status }).routes());
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const path = new URL(entry.uri).pathname;
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/statuslist+jwt');
      expect(response.headers.get('cache-control')).toBe('public, max-age=300');
      const etag = response.headers.get('etag')!;
      expect(decodeJwt(await response.text()).sub).toBe(entry.uri);
      expect((await fetch(`${base}${path}`, { headers: { 'If-None-Match': etag } })).status).toBe(304);
      expect((await fetch(`${base}/status/token/AAAAAAAAAAAAAAAAAAAAAA`)).status).toBe(404);
      expect((await fetch(`${base}/status/bitstring/${path.split('/').pop()}`)).status).toBe(404);
    } finally {
      server.close();
    }
  });
});
