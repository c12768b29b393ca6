import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { Agent, request } from 'undici';
import { sameClockEnv } from './clock.ts';

/**
 * SECURITY.md harness piece "crash driver": the real service (`node src/main.ts`, what `npm start`
 * runs) as a child process on a persistent embedded store in its own DATA_DIR, killed with SIGKILL
 * and started again on the same folder and port (the port is part of the issuer identifier).
 * Plus the pieces a crash test needs to drive flows over HTTP and remember what was acknowledged.
 */

const ROOT = join(import.meta.dirname, '../..');

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** utime + stime of a process from /proc/<pid>/stat (clock ticks of 10 ms on Linux). */
function cpuMsOf(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

export class CrashableService {
  readonly dataDir: string;
  readonly port: number;
  readonly url: string;
  readonly adminToken = randomBytes(24).toString('base64url');
  readonly #secret = randomBytes(32).toString('base64url');
  readonly #extraEnv: Record<string, string>;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #output = '';
  /** One connection pool per process generation: no socket of a killed process is ever reused. */
  #agent = new Agent({ connections: 64, headersTimeout: 15_000, bodyTimeout: 15_000 });
  generation = 0;
  /** CPU time (user + system, ms) the last start took until ready; Linux /proc, else undefined. */
  lastStartCpuMs: number | undefined;

  constructor(port: number, env: Record<string, string> = {}) {
    this.dataDir = mkdtempSync(join(tmpdir(), 'issuer-crash-'));
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.#extraEnv = env;
  }

  get dispatcher(): Agent {
    return this.#agent;
  }

  /** Spawns the service and waits for /health/ready; returns the milliseconds that took. */
  async start(timeoutMs = 20_000): Promise<number> {
    if (this.#child) throw new Error('the service is already running');
    const started = performance.now();
    this.generation++;
    this.#output = '';
    const child = spawn(process.execPath, [join(ROOT, 'src/main.ts')], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        // The driver signs proofs and assertions the service checks: one clock (faketime too).
        ...sameClockEnv(),
        DATA_DIR: this.dataDir,
        PORT: String(this.port),
        DEMO: 'off',
        KEY_ENCRYPTION_SECRET: this.#secret,
        ADMIN_TOKEN: this.adminToken,
        KEYS_INIT: 'true',
        LOG_LEVEL: 'warn',
        ISSUER__store__embeddedFile: 'issuer.db',
        ISSUER__kyc__notify__outboxEnabled: 'true',
        ISSUER__kyc__scryptCost: '1024',
        ...this.#extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    const keep = (chunk: Buffer) => {
      this.#output = (this.#output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let exitCode: number | null | undefined;
    this.#exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        exitCode = code;
        if (this.#child === child) this.#child = undefined;
        resolve();
      }),
    );
    const probe = new Agent({ connections: 1 });
    try {
      for (;;) {
        if (exitCode !== undefined)
          throw new Error(`the service exited (${exitCode}) before it was ready:\n${this.#output}`);
        if (performance.now() - started > timeoutMs)
          throw new Error(`the service was not ready within ${timeoutMs} ms:\n${this.#output}`);
        try {
          const res = await request(`${this.url}/health/ready`, { dispatcher: probe });
          await res.body.dump();
          if (res.statusCode === 200) {
            this.lastStartCpuMs = cpuMsOf(child.pid);
            return performance.now() - started;
          }
        } catch {}
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await probe.destroy();
    }
  }

  /** kill -9, then a fresh connection pool for the next generation. */
  async kill(): Promise<void> {
    this.#child?.kill('SIGKILL');
    await this.#exited;
    const old = this.#agent;
    this.#agent = new Agent({ connections: 64, headersTimeout: 15_000, bodyTimeout: 15_000 });
    await old.destroy().catch(() => {});
  }

  async stop(): Promise<void> {
    this.#child?.kill('SIGTERM');
    await this.#exited;
    await this.#agent.close().catch(() => {});
  }

  /** The tail of the service's stdout and stderr (for failure messages). */
  output(): string {
    return this.#output;
  }

  async dispose(): Promise<void> {
    this.#child?.kill('SIGKILL');
    await this.#exited;
    await this.#agent.destroy().catch(() => {});
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export interface Reply {
  status: number;
  body: any;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

/** Thrown when no complete HTTP answer arrived (refused, reset, killed mid-response): not acknowledged. */
export class NoAnswer extends Error {}

/** Paces requests to a total rate across every caller (a shared schedule of send slots). */
export class Pacer {
  readonly #intervalMs: number;
  #next = 0;
  constructor(ratePerSecond: number) {
    this.#intervalMs = 1000 / ratePerSecond;
  }
  async take(): Promise<void> {
    const now = performance.now();
    const slot = Math.max(now, this.#next);
    this.#next = slot + this.#intervalMs;
    if (slot > now) await new Promise((resolve) => setTimeout(resolve, slot - now));
  }
}

/** An HTTP client for one CrashableService; a complete answer or NoAnswer, nothing in between. */
export class Client {
  readonly service: CrashableService;
  readonly pacer: Pacer | undefined;
  constructor(service: CrashableService, pacer?: Pacer) {
    this.service = service;
    this.pacer = pacer;
  }

  async call(
    method: string,
    path: string,
    options: { json?: unknown; form?: Record<string, string>; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    await this.pacer?.take();
    const headers: Record<string, string> = { ...options.headers };
    let body: string | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] = 'application/json';
    } else if (options.form) {
      body = new URLSearchParams(options.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    let status: number;
    let text: string;
    let responseHeaders: Reply['headers'];
    try {
      const res = await request(`${this.service.url}${path}`, {
        method: method as 'GET',
        headers,
        body,
        dispatcher: this.service.dispatcher,
      });
      status = res.statusCode;
      responseHeaders = res.headers;
      text = await res.body.text();
    } catch (error) {
      throw new NoAnswer(`${method} ${path}: ${(error as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status, body: parsed, text, headers: responseHeaders };
  }

  admin(method: string, path: string, json?: unknown): Promise<Reply> {
    return this.call(method, `/admin${path}`, {
      ...(json === undefined ? {} : { json }),
      headers: { authorization: `Bearer ${this.service.adminToken}` },
    });
  }
}

// ---- OpenID4VCI pieces -------------------------------------------------------------------------

export interface Holder {
  jwk: JWK;
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
}

export async function newHolder(): Promise<Holder> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { jwk: await exportJWK(publicKey), privateKey };
}

/** An OpenID4VCI 1.0 Appendix F.1 key proof. */
export function proofJwt(holder: Holder, issuer: string, nonce: string): Promise<string> {
  return new SignJWT({ aud: issuer, nonce })
    .setProtectedHeader({ alg: 'ES256', typ: 'openid4vci-proof+jwt', jwk: holder.jwk })
    .setIssuedAt()
    .sign(holder.privateKey);
}

/** Where a credential's status lives: the list URL and the index in it. */
export interface StatusRef {
  list: string;
  index: number;
}

/** The status entries a credential carries, read from the credential itself (not from the ledger). */
export function statusRefsOf(format: string, credential: unknown): StatusRef[] {
  const fromW3c = (vc: Record<string, any> | undefined): StatusRef[] =>
    [vc?.credentialStatus ?? []].flat().map((s: any) => ({
      list: String(s.statusListCredential),
      index: Number(s.statusListIndex),
    }));
  if (format === 'dc+sd-jwt') {
    const payload = decodeJwt(String(credential).split('~')[0]!) as Record<string, any>;
    const entry = payload.status?.status_list;
    return entry ? [{ list: String(entry.uri), index: Number(entry.idx) }] : [];
  }
  if (format === 'jwt_vc_json') {
    const payload = decodeJwt(String(credential)) as Record<string, any>;
    return fromW3c(payload.vc ?? payload);
  }
  if (format === 'ldp_vc') return fromW3c(credential as Record<string, any>);
  throw new Error(`no status reader for format ${format}`);
}

/** What the admin ledger API answers per record (src/admin/ledger.ts; no claims). */
export interface LedgerRow {
  _id: string;
  notificationId: string;
  configurationId: string;
  statusEntries?: any[];
}

/** The same references as the ledger keeps them (`statusEntries`). */
export function statusRefsOfLedger(record: Pick<LedgerRow, 'statusEntries'>): StatusRef[] {
  return (record.statusEntries ?? []).map((e) =>
    e.kind === 'token'
      ? { list: String(e.uri), index: Number(e.idx) }
      : { list: String(e.listCredentialUrl), index: Number(e.index) },
  );
}

export const refKey = (ref: StatusRef): string => `${ref.list}#${ref.index}`;

/** Runs `task` over `items` with at most `width` at a time. */
export async function inParallel<T, R>(
  items: readonly T[],
  width: number,
  task: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await task(items[i]!, i);
      }
    }),
  );
  return results;
}

/** Counts how many bits differ between two byte arrays. */
export function bitsChanged(before: Uint8Array, after: Uint8Array): number[] {
  const changed: number[] = [];
  const length = Math.max(before.length, after.length);
  for (let byte = 0; byte < length; byte++) {
    const diff = (before[byte] ?? 0) ^ (after[byte] ?? 0);
    for (let bit = 0; bit < 8; bit++) if (diff & (1 << bit)) changed.push(byte * 8 + bit);
  }
  return changed;
}
