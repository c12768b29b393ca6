import { afterEach, beforeEach } from 'vitest';
import { ManualClock } from '../../src/clock.ts';

/**
 * The injected clock for tests. Every `TestClock` is put back after each test where it stood before
 * the test began (the hooks below register in every test file that imports this module), so a test may set a
 * fixed instant or move time forward without that instant leaking into the next test. A clock is
 * never shared across tests in a moved state unless the file says so at the top and calls
 * `shareAcrossTests` on it (only forward moves belong there: the next test then starts later).
 *
 * A fixed instant must still never meet a party that reads the real clock (a verifier, jose, X.509
 * validity, cookies): hand such a party this clock's time (`new Date(clock.now())`) explicitly.
 */
export class TestClock extends ManualClock {
  constructor(start?: number) {
    super(start);
    live.add(this);
  }
}

const live = new Set<TestClock>();

/** Opts a clock out of the restore: its file's tests build on each other's forward moves. */
export function shareAcrossTests(clock: TestClock): void {
  live.delete(clock);
  before.delete(clock);
}
const before = new Map<TestClock, number>();

// `npm run bench` starts the test app outside vitest (bench/cases/login.ts): no test hooks there.
if (process.env.VITEST) {
  beforeEach(() => {
    before.clear();
    for (const clock of live) before.set(clock, clock.now());
  });

  afterEach(() => {
    for (const [clock, instant] of before) clock.set(instant);
  });
}

/**
 * The environment that gives a child process this process's clock: under `faketime` (CI's
 * `npm run test:future`) the library and its settings, otherwise nothing. A service or script a
 * test spawns checks proofs, assertions and tokens the test signs, so both must read one clock.
 */
export function sameClockEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined && (entry[0] === 'LD_PRELOAD' || entry[0].startsWith('FAKETIME')),
    ),
  );
}
