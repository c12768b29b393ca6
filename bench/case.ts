/**
 * The benchmark case contract. Each `bench/cases/*.ts` exports `cases: BenchCase[]` (or a default
 * export of the same); `bench/run.ts` imports every file, runs each case single-threaded (warm-up,
 * then about `seconds` of back-to-back awaited calls) and prints one table row per case.
 */
export interface BenchCase {
  /** Row label, unique across files. */
  name: string;
  /** Table section, e.g. `floor`, `ldp_vc`, `jwt_vc_json`, `http`. */
  group: string;
  /** Prepares fixtures once and returns the operation to time (one call = one credential/signature). */
  setup(): Promise<() => unknown>;
  /** Name of another case this one is compared with (the table prints the speed-up ×). */
  compareTo?: string;
  /**
   * For cases that measure themselves (concurrent HTTP load, latency percentiles): returns metrics
   * that are printed and stored as they are; `setup` is then not used by the runner.
   */
  measure?(seconds: number): Promise<Record<string, number>>;
}

export interface BenchResult {
  name: string;
  group: string;
  /** Operations per wall-clock second, single-threaded. */
  opsPerSecond?: number;
  /** Operations per second of this thread's CPU time (what one core does when nothing else runs). */
  opsPerCpuSecond?: number;
  /** Mean wall-clock microseconds per operation. */
  meanMicros?: number;
  operations?: number;
  compareTo?: string;
  /** opsPerCpuSecond / the compared case's opsPerCpuSecond. */
  speedup?: number;
  metrics?: Record<string, number>;
}
