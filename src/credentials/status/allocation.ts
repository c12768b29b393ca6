import { randomBytes } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import {
  type Collection,
  SpaceExhausted,
  type Store,
  type StoredDoc,
  UniqueViolation,
} from '../../store/spi.ts';
import type { BitstringSecuring, ListKind, StatusListRecord, StatusPurpose } from './list-record.ts';

/**
 * Status index allocation: every slot (`token`, or `bitstring:<securing>:<purpose>`) has one
 * current list, named by a slot document; indices come from `store.allocate` (random, unique per
 * list, atomic under parallel issuance: SECURITY.md rows 34 and 35). A list that is full enough is
 * replaced by a fresh one with one compare-and-set on the slot.
 */

interface SlotRecord extends StoredDoc {
  listId: string;
}

export const STATUS_SLOTS_COLLECTION = { name: 'status_slots' };

export interface ListAllocatorOptions {
  store: Store;
  clock: Clock;
  lists: Collection<StatusListRecord>;
  /** Entries per list. */
  listSize: number;
  /** A list stops taking new credentials when this share of it is allocated. */
  fillRatio: number;
}

/** Returns `allocateIn(slot, ledgerId)`: a free index in the slot's current list. */
export function createListAllocator(options: ListAllocatorOptions) {
  const { store, clock, lists, listSize, fillRatio } = options;
  const slots: Collection<SlotRecord> = store.collection(STATUS_SLOTS_COLLECTION);

  /** In-process view of each slot's current list; the store's slot document is the truth. */
  const current = new Map<string, { listId: string; size: number }>();

  async function createList(slot: string): Promise<StatusListRecord> {
    const [kind, securing, purpose] = slot.split(':') as [ListKind, BitstringSecuring?, StatusPurpose?];
    const record: StatusListRecord = {
      // Random ids: list URLs reveal neither order nor issuance volume.
      _id: randomBytes(16).toString('base64url'),
      kind,
      ...(kind === 'bitstring' ? { purpose: purpose!, securing: securing! } : {}),
      size: listSize,
      bits: kind === 'token' ? 2 : 1,
      version: 0,
      createdAt: clock.now(),
      updatedAt: clock.now(),
    };
    await lists.insert(record);
    return record;
  }

  async function currentList(slot: string): Promise<{ listId: string; size: number }> {
    const known = current.get(slot);
    if (known) return known;
    for (;;) {
      const pointer = await slots.get(slot);
      if (pointer) {
        const record = await lists.get(pointer.listId);
        if (!record) throw new Error(`status slot ${slot} points to a missing list`);
        const entry = { listId: record._id, size: record.size };
        current.set(slot, entry);
        return entry;
      }
      const record = await createList(slot);
      try {
        await slots.insert({ _id: slot, listId: record._id });
      } catch (error) {
        // Another instance created the first list at the same time: use theirs.
        if (!(error instanceof UniqueViolation)) throw error;
        await lists.delete(record._id);
      }
    }
  }

  /** Replaces a full list with a fresh one; among racing callers one compare-and-set wins. */
  async function rotateList(slot: string, fullListId: string): Promise<void> {
    current.delete(slot);
    const record = await createList(slot);
    const moved = await slots.update(slot, { listId: fullListId }, { listId: record._id });
    if (!moved) await lists.delete(record._id);
  }

  return async function allocateIn(
    slot: string,
    ledgerId: string,
  ): Promise<{ listId: string; index: number }> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const { listId, size } = await currentList(slot);
      const capacity = Math.max(1, Math.floor(size * fillRatio));
      // The fill counter caps a list below its size, so random picks never hunt for the last free slots.
      if ((await store.increment(`status-fill:${listId}`, { limit: capacity })) > capacity) {
        await rotateList(slot, listId);
        continue;
      }
      try {
        return { listId, index: await store.allocate(`status:${listId}`, size, ledgerId) };
      } catch (error) {
        if (!(error instanceof SpaceExhausted)) throw error;
        await rotateList(slot, listId);
      }
    }
    throw new Error(`could not allocate a status index in ${slot}`);
  };
}
