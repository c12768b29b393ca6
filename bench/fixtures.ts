import { systemClock } from '../src/clock.ts';
import type { FormatBaseDeps } from '../src/credentials/formats/types.ts';
import { createKeyStore, type KeyVault } from '../src/keys/key-store.ts';
import { openStore } from '../src/store/index.ts';

export const PUBLIC_URL = 'https://issuer.example';

/** An embedded in-memory store and a key store over it (keys of the vault's purposes in the vault). */
export async function createBenchDeps(vault?: KeyVault): Promise<FormatBaseDeps> {
  const store = await openStore({ kind: 'embedded', file: ':memory:' }, systemClock, 0);
  const keys = createKeyStore({
    store,
    clock: systemClock,
    encryptionSecret: 'bench-secret-bench-secret-bench-secret-00',
    retiredKeyPublishSeconds: 3600,
    ...(vault ? { vault } : {}),
  });
  await keys.init();
  return { keys, publicUrl: PUBLIC_URL, clock: systemClock };
}

let shared: Promise<FormatBaseDeps> | undefined;
/** One embedded in-memory store and one key store for every credential case. */
export function benchDeps(): Promise<FormatBaseDeps> {
  shared ??= createBenchDeps();
  return shared;
}
