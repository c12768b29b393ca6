import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { AUDIT_COLLECTION } from '../../src/audit/audit.ts';
import { systemClock } from '../../src/clock.ts';
import { openStore } from '../../src/store/index.ts';
import type { Store } from '../../src/store/spi.ts';
import { LEDGER_COLLECTION } from '../../src/vci/ledger.ts';
import type { BenchCase } from '../case.ts';
import { percentile } from '../service.ts';

/**
 * Issue 16, "long runs stay flat": the embedded store's writes per credential as the file grows,
 * without HTTP, so that what the store does shows by itself. Each credential is one unit of work
 * with the documents the credential endpoint writes (a spent nonce under a random digest with an
 * expiry, a ledger record under a random id with its notificationId and configurationId indexes, an
 * audit record with its type and day indexes; not the status allocation), on a file store with the
 * service's checkpointer (a worker, PASSIVE every 200 ms; past 4,096 WAL frames the store's own
 * connection copies the remainder between two transactions, so the WAL starts over).
 *
 * Phases: open loop at `STORE_GROWTH_RATE` credentials/s (default 300) for `seconds` on the fresh
 * file; then `BENCH_STORE_GROWTH` credentials written as fast as the store takes them (the file
 * grows); then the same open loop again. Per phase: latency from each credential's scheduled start
 * to its durable commit (p50, p99, max), the event loop's largest stall and the largest WAL file
 * seen (sampled every 100 ms; it must stay near 16 MB, not grow with the run). Only with
 * BENCH_STORE_GROWTH set (e.g. 900000: minutes of writing and a file of gigabytes). With
 * STORE_GROWTH_NONCE_TTL_SECONDS=5 and --seconds=90, the grown phase includes the sweep.
 */
const growth = Number(process.env.BENCH_STORE_GROWTH ?? 0);
const rate = Number(process.env.STORE_GROWTH_RATE ?? 300);
/** The service's 200 ms; 0 leaves checkpoints to SQLite on the committing connection (no RESTART). */
const checkpointMs = Number(process.env.STORE_GROWTH_CHECKPOINT_MS ?? 200);
/**
 * How long the open-loop phases' nonces live (the service's c_nonce lifetime by default). A few
 * seconds makes the sweep (every 60 s, as in the service) delete a minute's worth of them during
 * the grown phase, as it does in a soak; the growth phase's nonces live 300 s.
 */
const nonceTtlMs = Number(process.env.STORE_GROWTH_NONCE_TTL_SECONDS ?? 300) * 1000;
/**
 * CPU the rest of a credential request costs in the service (`STORE_GROWTH_APP_CPU_MS`, spun on
 * the event loop before each open-loop credential; 0 by default). The soak's service spent ~1.4 ms
 * per credential: with it, work the store adds at once (a sweep) queues requests as it does there.
 */
const appCpuMs = Number(process.env.STORE_GROWTH_APP_CPU_MS ?? 0);
const id = () => randomBytes(16).toString('base64url');
const DAY = new Date().toISOString().slice(0, 10);

function collections(store: Store) {
  return {
    nonces: store.collection({ name: 'vci_nonces' }),
    ledger: store.collection(LEDGER_COLLECTION),
    audit: store.collection(AUDIT_COLLECTION),
  };
}

async function credential(store: Store, c: ReturnType<typeof collections>, ttlMs = 300_000): Promise<void> {
  const now = Date.now();
  await store.unit(async () => {
    await c.nonces.insert({ _id: id(), expiresAt: now + ttlMs });
    const ledgerId = id();
    await c.ledger.insert({
      _id: ledgerId,
      configurationId: 'NationalIdCredential_jwt_vc_json',
      format: 'jwt_vc_json',
      notificationId: id(),
      statusEntries: [{ kind: 'bitstring', list: id(), index: Math.floor(Math.random() * 131_072) }],
      validFrom: now,
      validUntil: now + 157_680_000_000,
      status: 'issued',
    });
    await c.audit.insert({
      _id: id(),
      type: 'credential.issued',
      at: now,
      day: DAY,
      subject: id(),
      details: { configurationId: 'NationalIdCredential_jwt_vc_json', ledgerId },
    });
  });
}

/** Samples the WAL file's size every 100 ms until stopped; returns the largest, in MiB. */
function watchWal(file: string): () => number {
  let max = 0;
  const sample = () => {
    try {
      max = Math.max(max, statSync(`${file}-wal`).size);
    } catch {
      // No WAL file at this instant (between a truncation and the next commit).
    }
  };
  const timer = setInterval(sample, 100);
  return () => {
    clearInterval(timer);
    sample();
    return max / 2 ** 20;
  };
}

async function openLoop(store: Store, c: ReturnType<typeof collections>, seconds: number, file: string) {
  const latencies: number[] = [];
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const wal = watchWal(file);
  const inFlight = new Set<Promise<void>>();
  const start = performance.now();
  const end = start + seconds * 1000;
  let launched = 0;
  while (performance.now() < end) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    for (; launched < due; launched++) {
      const scheduledAt = start + (launched * 1000) / rate;
      for (const spinUntil = performance.now() + appCpuMs; performance.now() < spinUntil; );
      const op = credential(store, c, nonceTtlMs).then(() => {
        latencies.push(performance.now() - scheduledAt);
      });
      inFlight.add(op);
      void op.finally(() => inFlight.delete(op));
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  lag.disable();
  const sorted = latencies.sort((a, b) => a - b);
  return {
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.at(-1) ?? Number.NaN,
    eventLoopStallMaxMs: lag.max / 1e6,
    walMaxMiB: wal(),
  };
}

async function measure(seconds: number): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'store-growth-'));
  const file = join(dir, 'issuer.db');
  const store = await openStore(
    { kind: 'embedded', file, checkpointIntervalMs: checkpointMs },
    systemClock,
    60,
  );
  try {
    const c = collections(store);
    const fresh = await openLoop(store, c, seconds, file);
    const t0 = performance.now();
    const growthWal = watchWal(file);
    // Growth: 256 credentials in flight at a time, as many group commits as the store makes.
    for (let written = 0; written < growth; written += 256) {
      await Promise.all(Array.from({ length: 256 }, () => credential(store, c)));
    }
    const growthSeconds = (performance.now() - t0) / 1000;
    const growthWalMaxMiB = growthWal();
    const grown = await openLoop(store, c, seconds, file);
    return {
      ratePerSecond: rate,
      checkpointIntervalMs: checkpointMs,
      nonceTtlSeconds: nonceTtlMs / 1000,
      appCpuMs,
      freshP50Ms: fresh.p50Ms,
      freshP99Ms: fresh.p99Ms,
      freshMaxMs: fresh.maxMs,
      freshStallMaxMs: fresh.eventLoopStallMaxMs,
      freshWalMaxMiB: fresh.walMaxMiB,
      grownCredentials: growth,
      growthCredentialsPerSecond: growth / growthSeconds,
      growthWalMaxMiB,
      fileMiB: statSync(file).size / 2 ** 20,
      grownP50Ms: grown.p50Ms,
      grownP99Ms: grown.p99Ms,
      grownMaxMs: grown.maxMs,
      grownStallMaxMs: grown.eventLoopStallMaxMs,
      grownWalMaxMiB: grown.walMaxMiB,
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const cases: BenchCase[] = growth
  ? [
      {
        name: `embedded store: a credential's writes at ${rate}/s, fresh file, then after ${growth.toLocaleString('en-US')} more`,
        group: 'store',
        setup: async () => () => undefined,
        measure,
      },
    ]
  : [];
