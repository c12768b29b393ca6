import { describe, expect, it } from 'vitest';
import { shareAcrossTests, TestClock } from '../helpers/clock.ts';

// These tests depend on their order on purpose: each checks what the previous one left behind.
describe('TestClock: a moved test clock does not outlive its test', () => {
  const restored = new TestClock();
  const shared = new TestClock();
  shareAcrossTests(shared);
  const start = restored.now();

  it('may be set to a fixed instant and moved within a test', () => {
    restored.set(Date.UTC(2026, 10, 25, 10, 7, 13));
    restored.advanceSeconds(60);
    shared.advanceSeconds(600);
    expect(restored.now()).toBe(Date.UTC(2026, 10, 25, 10, 8, 13));
  });

  it('stands where it stood before the previous test; a shared clock keeps the forward move', () => {
    expect(restored.now()).toBe(start);
    expect(shared.now()).toBeGreaterThanOrEqual(start + 600_000);
  });
});
