/**
 * The in-memory store the unit tests use (test/helpers/memory-store.ts) stands in for the real
 * adapters, so it must keep the same contract: a unit test that passes against a fake that is
 * looser than the adapters tests nothing.
 */
import { createMemoryStore } from '../helpers/memory-store.ts';
import { defineStoreContract } from './store.contract.ts';

defineStoreContract('in-memory test double', {
  open: async (clock) => ({ store: createMemoryStore(clock) }),
  siblings: false,
  serverDeletesExpired: false,
  allocationCount: 2000,
  allocationSize: 2048,
});
