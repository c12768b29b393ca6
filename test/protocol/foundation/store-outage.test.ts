import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { type FaultProxy, startFaultProxy } from '../../helpers/fault-proxy.ts';
import { bearer, http } from '../../helpers/http.ts';
import { type Jongodb, startJongodb } from '../../helpers/jongodb.ts';

/**
 * SECURITY.md rows 31 and 32 at the foundation level: MongoDB goes away while the service runs
 * (through the fault proxy) and comes back. Requests that need the store fail closed with a 503
 * within seconds; liveness stays up; the service recovers without a restart.
 */
let mongo: Jongodb;
let proxy: FaultProxy;
let app: TestApp;

beforeAll(async () => {
  mongo = await startJongodb();
  proxy = await startFaultProxy(mongo.port);
  app = await startTestApp({
    env: { MONGODB_URL: `mongodb://127.0.0.1:${proxy.port}/?directConnection=true` },
    overrides: {
      store: {
        mongodbDatabase: `outage_${Date.now()}`,
        mongodbServerSelectionTimeoutMs: 1000,
        mongodbSocketTimeoutMs: 1000,
        mongodbConnectTimeoutMs: 1000,
      },
    },
  });
});

afterAll(async () => {
  await app?.stop();
  await proxy?.close();
  await mongo?.stop();
});

describe('database outage while running', () => {
  it('is ready on MongoDB', async () => {
    const ready = await http(`${app.url}/health/ready`);
    expect(ready.json).toEqual({ status: 'ok', store: 'mongo' });
  });

  it.each(['reset', 'blackhole'] as const)(
    'answers 503 within seconds when the database %s, keeps liveness, and recovers',
    async (mode) => {
      proxy.mode(mode);
      const started = Date.now();
      const ready = await http(`${app.url}/health/ready`);
      expect(ready.status).toBe(503);
      expect(ready.headers.get('retry-after')).toBe('5');
      const write = await http(`${app.url}/admin/keys/rotate?purpose=credential`, {
        method: 'POST',
        headers: bearer(app.adminToken),
      });
      expect(write.status).toBe(503);
      expect(write.json.error).toBe('temporarily_unavailable');
      expect(write.headers.get('retry-after')).toBe('5');
      expect(Date.now() - started).toBeLessThan(8_000);
      expect((await http(`${app.url}/health/live`)).status).toBe(200);

      proxy.mode('pass');
      const deadline = Date.now() + 10_000;
      let status = 0;
      while (Date.now() < deadline && status !== 200) {
        status = (await http(`${app.url}/health/ready`)).status;
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(status).toBe(200);
      const metrics = await http(`${app.url}/metrics`);
      expect(metrics.text).toMatch(/store_errors_total\{kind="unavailable"\} [1-9]/);
    },
  );
});
