import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOwnContexts } from '../../../src/credentials/jsonld/document-loader.ts';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { http } from '../../helpers/http.ts';

describe.each(['', '/issuer'])('JSON-LD contexts (path prefix "%s")', (pathPrefix) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ pathPrefix });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('serves every own context at the URL credentials reference, cacheable, with terms under the public URL', async () => {
    const contexts = listOwnContexts(app.url);
    expect(contexts.length).toBeGreaterThan(0);
    for (const context of contexts) {
      expect(context.url.startsWith(`${app.url}/contexts/`)).toBe(true);
      const res = await http(`http://127.0.0.1:${app.running.port}${new URL(context.url).pathname}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('application/ld+json');
      expect(res.headers.get('cache-control')).toBe('public, max-age=86400');
      expect(res.json).toEqual(context.document);
      expect(res.text).toContain(`${app.url}/vocab#`);
      expect(res.text).not.toContain('{{publicUrl}}');
    }
  });
});
