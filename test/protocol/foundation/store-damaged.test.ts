import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { bearer, http } from '../../helpers/http.ts';

/**
 * A damaged embedded database file (here overwritten with garbage while the service runs): the
 * service is not ready, answers 503 rather than serving from what SQLite still has cached, and the
 * logged error says the file is damaged and names it.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ overrides: { store: { embeddedFile: 'issuer.db' } } });
});
afterAll(async () => {
  await app?.stop();
});

describe('a damaged database file', () => {
  it('makes readiness false, requests 503, and the log says which file is damaged', async () => {
    expect((await http(`${app.url}/health/ready`)).status).toBe(200);
    const file = join(app.dataDir, 'issuer.db');
    writeFileSync(file, randomBytes(256 * 1024));

    const ready = await http(`${app.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(ready.json).toMatchObject({ status: 'damaged', error: 'the database file is damaged' });
    const readiness = app.logs.find((line) => line.msg === 'readiness: store damaged');
    expect(JSON.stringify(readiness)).toContain(`the database file ${file} is damaged`);
    expect((await http(`${app.url}/health/live`)).status).toBe(200);

    const clients = await http(`${app.url}/admin/clients`, { headers: bearer(app.adminToken) });
    expect(clients.status).toBe(503);
    expect(clients.json).toMatchObject({ error: 'temporarily_unavailable' });
    const logged = app.logs.find((line) => line.msg === 'store unavailable');
    expect(JSON.stringify(logged)).toContain(`the database file ${file} is damaged`);
  });
});
