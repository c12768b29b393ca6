/**
 * The contract against MongoDB: the server at MONGODB_URL when set, otherwise a spawned jongodb
 * (test/helpers/jongodb.ts). Each test gets its own database, which keeps jongodb fast (it slows
 * down as a collection grows).
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { openStore } from '../../src/store/index.ts';
import { StoreUnavailable } from '../../src/store/spi.ts';
import { type Jongodb, startJongodb } from '../helpers/jongodb.ts';
import { defineStoreContract } from './store.contract.ts';

const externalUrl = process.env.MONGODB_URL;
let server: Jongodb | undefined;
let url = externalUrl ?? '';

beforeAll(async () => {
  if (!externalUrl) {
    server = await startJongodb();
    url = server.url;
  }
});
afterAll(async () => {
  await server?.stop();
});

const mongoOptions = (database: string) => ({
  kind: 'mongo' as const,
  url,
  database,
  serverSelectionTimeoutMs: 2000,
  socketTimeoutMs: 5000,
  connectTimeoutMs: 2000,
});

defineStoreContract(externalUrl ? 'mongo (MONGODB_URL)' : 'mongo (jongodb)', {
  open: async (clock) => {
    const database = `contract_${randomBytes(6).toString('hex')}`;
    return {
      store: await openStore(mongoOptions(database), clock, 0),
      sibling: () => openStore(mongoOptions(database), clock, 0),
    };
  },
  siblings: true,
  // jongodb creates TTL indexes but never deletes anything through them; a real server does
  // (its TTL monitor runs every 60 s, so this test takes up to two minutes there).
  serverDeletesExpired: externalUrl !== undefined,
  // jongodb's inserts slow down as a collection grows; a real server takes the full count.
  allocationCount: externalUrl ? 2000 : 200,
  allocationSize: externalUrl ? 2048 : 256,
});

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

describe('mongo store availability', () => {
  it('fails to open within about the selection timeout with StoreUnavailable naming the host, not the password', async () => {
    const port = await closedPort();
    const started = Date.now();
    const error = await openStore(
      {
        kind: 'mongo',
        url: `mongodb://issuer:s3cr3t-p%40ss@127.0.0.1:${port}/issuer?authSource=admin`,
        database: 'issuer',
        serverSelectionTimeoutMs: 500,
        socketTimeoutMs: 500,
        connectTimeoutMs: 500,
      },
      new ManualClock(),
      0,
    ).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(StoreUnavailable);
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
    expect((error as Error).message).not.toMatch(/s3cr3t|p@ss|p%40ss/);
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(2500);
  });

  // Needs a server this test may kill, so only with a spawned jongodb.
  it.skipIf(externalUrl !== undefined)(
    'throws StoreUnavailable from ping and reads once the server goes away',
    async () => {
      const own = await startJongodb();
      const store = await openStore(
        {
          kind: 'mongo',
          url: own.url,
          database: 'gone',
          serverSelectionTimeoutMs: 500,
          socketTimeoutMs: 500,
          connectTimeoutMs: 500,
        },
        new ManualClock(),
        0,
      );
      try {
        const docs = store.collection({ name: 'docs' });
        await docs.insert({ _id: 'a' });
        await own.stop();
        const started = Date.now();
        await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailable);
        await expect(docs.get('a')).rejects.toBeInstanceOf(StoreUnavailable);
        await expect(docs.consume('a')).rejects.toBeInstanceOf(StoreUnavailable);
        expect(Date.now() - started).toBeLessThan(5000);
      } finally {
        await store.close();
        await own.stop();
      }
    },
  );
});
