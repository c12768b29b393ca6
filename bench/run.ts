import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import type { BenchCase, BenchResult } from './case.ts';

/**
 * `npm run bench [-- <filter>] [--seconds=N] [--baseline=FILE]`: runs every case in bench/cases/*.ts
 * one after the other in this single thread, prints a table and writes bench/results/latest.json.
 * With `--baseline` (an earlier latest.json kept aside), a p99 latency more than 20% above the
 * baseline's for the same case is reported and the run exits with 1 (SECURITY.md row 33).
 *
 * Rates are reported per wall-clock second and per second of this thread's CPU time: on a shared
 * machine the second is what one core does, and it is the figure compared with the targets.
 */

const args = process.argv.slice(2);
const seconds = Number(args.find((a) => a.startsWith('--seconds='))?.split('=')[1] ?? 2);
const baselineFile = args.find((a) => a.startsWith('--baseline='))?.split('=')[1];
const filters = args.filter((a) => !a.startsWith('--'));
const casesDir = new URL('./cases/', import.meta.url);

async function loadCases(): Promise<BenchCase[]> {
  const all: BenchCase[] = [];
  for (const file of readdirSync(casesDir)
    .filter((f) => f.endsWith('.ts'))
    .sort()) {
    const mod = (await import(new URL(file, casesDir).href)) as {
      cases?: BenchCase[];
      default?: BenchCase[];
    };
    all.push(...(mod.cases ?? mod.default ?? []));
  }
  return filters.length === 0
    ? all
    : all.filter((c) => filters.some((f) => `${c.group} ${c.name}`.toLowerCase().includes(f.toLowerCase())));
}

const cpuMicros = () => {
  const u = process.threadCpuUsage();
  return u.user + u.system;
};

async function time(op: () => unknown, durationSeconds: number) {
  // Warm-up: let the JIT settle and caches (templates, keys, resolved contexts) fill. Slow
  // JSON-LD cases need a few hundred calls before their rate stabilises: 1 s and 300 calls, at most 5 s.
  const warmStart = performance.now();
  for (let calls = 0; ; calls++) {
    const elapsed = performance.now() - warmStart;
    if ((elapsed > 1000 && calls >= 300) || elapsed > 5000) break;
    await op();
  }
  let operations = 0;
  const cpu0 = cpuMicros();
  const t0 = performance.now();
  const end = t0 + durationSeconds * 1000;
  let batch = 10;
  while (performance.now() < end) {
    for (let i = 0; i < batch; i++) await op();
    operations += batch;
    batch = Math.min(batch * 2, 1000);
  }
  const wallMs = performance.now() - t0;
  const cpuUs = cpuMicros() - cpu0;
  return {
    operations,
    opsPerSecond: operations / (wallMs / 1000),
    opsPerCpuSecond: operations / (cpuUs / 1e6),
    meanMicros: (wallMs * 1000) / operations,
  };
}

const fmt = (n: number | undefined) => (n === undefined ? '' : Math.round(n).toLocaleString('en-US'));

async function main() {
  const list = await loadCases();
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverageAtStart: loadavg().map((l) => Number(l.toFixed(2))),
  };
  console.log(
    `${machine.cpu} × ${machine.cores}, Node ${machine.node}, load ${machine.loadAverageAtStart.join(' ')}`,
  );
  console.log(
    `${'group'.padEnd(12)} ${'case'.padEnd(58)} ${'ops/s cpu'.padStart(10)} ${'ops/s wall'.padStart(10)} ${'µs/op'.padStart(8)} ${'×'.padStart(6)}`,
  );
  const results: BenchResult[] = [];
  for (const c of list) {
    let row: BenchResult;
    try {
      if (c.measure) {
        row = { name: c.name, group: c.group, metrics: await c.measure(seconds) };
      } else {
        const op = await c.setup();
        row = { name: c.name, group: c.group, ...(await time(op, seconds)) };
      }
    } catch (error) {
      console.log(`${c.group.padEnd(12)} ${c.name.padEnd(58)} FAILED: ${(error as Error).message}`);
      continue;
    }
    const base = c.compareTo ? results.find((r) => r.name === c.compareTo) : undefined;
    if (base?.opsPerCpuSecond && row.opsPerCpuSecond) {
      row.compareTo = base.name;
      row.speedup = row.opsPerCpuSecond / base.opsPerCpuSecond;
    }
    results.push(row);
    const metrics = row.metrics
      ? Object.entries(row.metrics)
          .map(([k, v]) => `${k}=${Number(v.toFixed(2))}`)
          .join(' ')
      : '';
    console.log(
      `${c.group.padEnd(12)} ${c.name.padEnd(58)} ${fmt(row.opsPerCpuSecond).padStart(10)} ${fmt(row.opsPerSecond).padStart(10)} ${(row.meanMicros?.toFixed(1) ?? '').padStart(8)} ${(row.speedup ? `${row.speedup.toFixed(1)}×` : '').padStart(6)} ${metrics}`,
    );
  }
  const out = new URL('./results/', import.meta.url);
  mkdirSync(out, { recursive: true });
  const report = { date: new Date().toISOString(), seconds, machine, results };
  writeFileSync(new URL('latest.json', out), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote bench/results/latest.json (${results.length} cases)`);
  if (baselineFile) compareWithBaseline(results, JSON.parse(readFileSync(baselineFile, 'utf8')).results);
}

/** p99 regressions over 20% against a stored run (cases without a p99 or absent there are skipped). */
function compareWithBaseline(results: BenchResult[], baseline: BenchResult[]): void {
  for (const row of results) {
    const now = row.metrics?.p99Ms;
    const before = baseline.find((b) => b.name === row.name)?.metrics?.p99Ms;
    if (now === undefined || before === undefined) continue;
    const verdict = now > before * 1.2 ? 'REGRESSION' : 'ok';
    console.log(`p99 ${verdict}: ${row.name}: ${now.toFixed(1)} ms (baseline ${before.toFixed(1)} ms)`);
    if (verdict === 'REGRESSION') process.exitCode = 1;
  }
}

await main();
