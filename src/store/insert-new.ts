import { type Collection, type StoredDoc, UniqueViolation } from './spi.ts';

/**
 * Inserts a document unless its id (or one of the collection's unique field sets) is already
 * taken: the one conditional write that decides a single use or a race between instances. True
 * when this call inserted it.
 */
export async function insertNew<T extends StoredDoc>(collection: Collection<T>, doc: T): Promise<boolean> {
  try {
    await collection.insert(doc);
    return true;
  } catch (error) {
    if (error instanceof UniqueViolation) return false;
    throw error;
  }
}
