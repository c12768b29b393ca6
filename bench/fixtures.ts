import { systemClock } from '../src/clock.ts';
import type { FormatBaseDeps } from '../src/credentials/formats/types.ts';
import { createKeyStore } from '../src/keys/key-store.ts';
import { openStore } from '../src/store/index.ts';

export const PUBLIC_URL = 'https://issuer.example';

let shared: Promise<FormatBaseDeps> | undefined;
/** One embedded in-memory store and one key store for every credential case. */
export function benchDeps(): Promise<FormatBaseDeps> {
  shared ??= (async () => {
    const store = await openStore({ kind: 'embedded', file: ':memory:' }, systemClock, 0);
    const keys = createKeyStore({
      store,
      clock: systemClock,
      encryptionSecret: 'bench-secret-bench-secret-bench-secret-00',
      retiredKeyPublishSeconds: 3600,
    });
    await keys.init();
    return { keys, publicUrl: PUBLIC_URL, clock: systemClock };
  })();
  return shared;
}
