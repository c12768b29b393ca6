import { rmSync } from 'node:fs';
import { Pool } from 'undici';
import type { BenchCase } from '../case.ts';
import { processCpuMs, startService } from '../service.ts';

/**
 * What the HTTP layer costs per request (issue 16, "a cheaper request path"): `POST /nonce` (a few
 * µs of HMAC behind it) at 32 connections, answered by bare node:http (bench/raw-nonce.ts, the
 * floor), by the plain alternative (bench/plain-issuer.ts: oidc-provider's Koa stack) and by this
 * service. The figure is the server process's CPU per request (from /proc), which stays comparable
 * while other work shares the machine. The three processes run for the whole case, pinned to the
 * same core, and are loaded in alternating rounds (`BENCH_ROUNDS`, default 3, each `seconds` long
 * after 1 s of warm-up); each figure is the median over rounds. `BENCH_AB_ROOT=<another checkout>`
 * adds that checkout's service as a fourth target (before/after a change).
 */
const CONNECTIONS = 32;

interface Target {
  readonly label: string;
  readonly script: string;
  readonly root?: string;
}

async function cpuMicrosPerRequest(url: string, pid: number | undefined, seconds: number): Promise<number> {
  const pool = new Pool(url, { connections: CONNECTIONS, pipelining: 1 });
  let running = true;
  let answered = 0;
  const connection = async () => {
    while (running) {
      const res = await pool.request({ path: '/nonce', method: 'POST' });
      await res.body.text();
      if (res.statusCode !== 200) throw new Error(`POST /nonce: ${res.statusCode}`);
      answered++;
    }
  };
  const load = Array.from({ length: CONNECTIONS }, connection);
  try {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const answered0 = answered;
    const cpu0 = processCpuMs(pid);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    return ((processCpuMs(pid) - cpu0) * 1000) / (answered - answered0);
  } finally {
    running = false;
    await Promise.all(load);
    await pool.close();
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function measureOverhead(seconds: number): Promise<Record<string, number>> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const other = process.env.BENCH_AB_ROOT;
  const targets: Target[] = [
    { label: 'raw', script: 'bench/raw-nonce.ts' },
    { label: 'plain', script: 'bench/plain-issuer.ts' },
    { label: 'service', script: 'src/main.ts' },
    ...(other ? [{ label: 'otherCheckout', script: 'src/main.ts', root: other }] : []),
  ];
  const started: Awaited<ReturnType<typeof startService>>[] = [];
  try {
    for (const target of targets) started.push(await startService({}, target.script, target.root));
    const runs = targets.map((): number[] => []);
    for (let round = 0; round < rounds; round++) {
      for (const [i, service] of started.entries()) {
        runs[i]!.push(await cpuMicrosPerRequest(service.url, service.child.pid, seconds));
      }
    }
    const metrics: Record<string, number> = {};
    for (const [i, target] of targets.entries()) metrics[`${target.label}CpuUsPerRequest`] = median(runs[i]!);
    const ratios = (i: number) => median(runs[i]!.map((us, round) => us / runs[0]![round]!));
    metrics.serviceOverRaw = ratios(2);
    metrics.plainOverRaw = ratios(1);
    if (other) metrics.serviceOverOtherCheckout = median(runs[2]!.map((us, round) => us / runs[3]![round]!));
    return metrics;
  } finally {
    for (const service of started) {
      service.child.kill('SIGTERM');
      await new Promise((resolve) => service.child.once('exit', resolve));
      rmSync(service.dir, { recursive: true, force: true });
    }
  }
}

export const cases: BenchCase[] = [
  {
    name: 'POST /nonce CPU µs per request: raw node:http, plain alternative, this service',
    group: 'overhead',
    setup: async () => () => undefined,
    measure: measureOverhead,
  },
];
