/** The one source of time. Tests inject a `ManualClock` and move it instead of sleeping. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export class ManualClock implements Clock {
  private current: number;
  constructor(start = Date.now()) {
    this.current = start;
  }
  now(): number {
    return this.current;
  }
  advanceSeconds(seconds: number): void {
    this.current += seconds * 1000;
  }
  set(epochMs: number): void {
    this.current = epochMs;
  }
}

/** Epoch seconds, as JWT `iat`/`exp` want them. */
export const epochSeconds = (clock: Clock): number => Math.floor(clock.now() / 1000);
