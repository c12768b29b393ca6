import { createServer, type Server } from 'node:http';
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { keyRoutes } from '../../src/http/well-known.ts';
import { didWebFromUrl } from '../../src/keys/documents.ts';
import { createKeyStore } from '../../src/keys/key-store.ts';
import type { Services } from '../../src/services.ts';
import { TestClock } from '../helpers/clock.ts';
import { createMemoryStore } from '../helpers/memory-store.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** Only the key routes, on 127.0.0.1, with the public URL the listening port implies. */
async function serve(path = ''): Promise<string> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const publicUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}${path}`;
  const clock = new TestClock();
  const keys = createKeyStore({
    store: createMemoryStore(clock),
    clock,
    encryptionSecret: 'routes-test-secret-0123456789abcdefgh',
    retiredKeyPublishSeconds: 600,
  });
  await keys.init();
  const services = { config: { resolved: { publicUrl } }, keys, clock } as unknown as Services;
  const app = new Koa();
  app.use(keyRoutes(services).routes());
  server.on('request', app.callback());
  return publicUrl;
}

async function fetchJson(url: string): Promise<{ response: Response; body: any }> {
  const response = await fetch(url);
  return { response, body: await response.json() };
}

describe('key document routes', () => {
  it('serves did.json, jwt-vc-issuer metadata and the credential JWKS for a host-only issuer', async () => {
    const base = await serve();
    const origin = new URL(base).origin;
    const did = await fetchJson(`${origin}/.well-known/did.json`);
    expect(did.response.status).toBe(200);
    expect(did.response.headers.get('content-type')).toMatch(/^application\/did\+json/);
    expect(did.response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(did.body.id).toBe(didWebFromUrl(base));
    // Ed25519 and P-256 keys as Multikey and JsonWebKey2020, the Ed25519 one also as Ed25519VerificationKey2020.
    expect(did.body.verificationMethod).toHaveLength(5);
    expect(did.body.verificationMethod.map((m: { type: string }) => m.type).sort()).toEqual([
      'Ed25519VerificationKey2020',
      'JsonWebKey2020',
      'JsonWebKey2020',
      'Multikey',
      'Multikey',
    ]);

    const metadata = await fetchJson(`${origin}/.well-known/jwt-vc-issuer`);
    expect(metadata.response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(metadata.body.issuer).toBe(base);
    expect(metadata.body.jwks.keys).toHaveLength(2);

    const jwks = await fetchJson(`${origin}/jwks/credentials`);
    expect(jwks.response.headers.get('content-type')).toMatch(/^application\/jwk-set\+json/);
    expect(jwks.response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(jwks.body).toEqual(metadata.body.jwks);
  });

  it('serves the documents at the path-based locations for an issuer with a path', async () => {
    const base = await serve('/tenant/issuer');
    const origin = new URL(base).origin;
    const did = await fetchJson(`${base}/did.json`);
    expect(did.body.id).toMatch(/^did:web:127\.0\.0\.1%3A\d+:tenant:issuer$/);
    const metadata = await fetchJson(`${origin}/.well-known/jwt-vc-issuer/tenant/issuer`);
    expect(metadata.body.issuer).toBe(base);
    expect((await fetch(`${base}/jwks/credentials`)).status).toBe(200);
    expect((await fetch(`${origin}/.well-known/did.json`)).status).toBe(404);
  });
});
