import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { Document } from 'openapi-backend';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AUDIT_EVENT_TYPES } from '../../src/audit/audit.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { contractChecker, readDocument } from '../helpers/openapi.ts';
import { adminTour, type Exchange } from './admin-tour.ts';

const ROOT = join(import.meta.dirname, '../..');
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/** `METHOD /path/{param}` for every route of the running admin router (Koa router stack). */
function routerRoutes(app: TestApp): string[] {
  const routes = new Set<string>();
  for (const layer of app.running.parts.admin.stack) {
    if (typeof layer.path !== 'string') continue;
    const path = layer.path.replace(/:(\w+)/g, '{$1}').replace(/(.)\/$/, '$1');
    for (const method of layer.methods) if (method !== 'HEAD') routes.add(`${method} ${path}`);
  }
  return [...routes].sort();
}

function documentRoutes(document: Document): string[] {
  return Object.entries(document.paths ?? {})
    .flatMap(([path, item]) =>
      METHODS.filter((m) => (item as Record<string, unknown>)[m]).map((m) => `${m.toUpperCase()} ${path}`),
    )
    .sort();
}

/** Every way the exchanges differ from a document: unknown routes, statuses, fields. */
async function differences(document: Document, exchanges: readonly Exchange[]): Promise<string[]> {
  const checker = await contractChecker(document);
  return exchanges.flatMap((x) =>
    checker.check({
      method: x.method,
      url: `/admin${x.path}`,
      ...(x.requestBody !== undefined ? { requestBody: x.requestBody } : {}),
      status: x.status,
      responseBody: x.responseBody,
    }),
  );
}

describe('docs/openapi/admin.yaml holds the admin API', () => {
  let app: TestApp;
  let exchanges: Exchange[];
  const document = readDocument('admin');
  beforeAll(async () => {
    app = await startTestApp({ env: { DEMO: 'on' }, overrides: { kyc: { scryptCost: 1024 } } });
    exchanges = await adminTour(app.url, app.adminToken, app.dataDir);
  });
  afterAll(async () => {
    await own.close();
    await app.stop();
  });

  // Fresh connections of their own: the tour's pooled keep-alive sockets may be closed by the server
  // (keepAliveTimeout) while a loaded machine runs the CPU-heavy checks, and a reused one is then reset.
  const own = new Agent();
  const fetch = (url: string, init: { headers?: Record<string, string> } = {}) =>
    undiciFetch(url, { ...init, dispatcher: own });

  it('serves both documents behind the admin token, as YAML and JSON', async () => {
    const unauthenticated = await fetch(`${app.url}/admin/openapi/admin.yaml`);
    expect(unauthenticated.status).toBe(401);
    const headers = { Authorization: `Bearer ${app.adminToken}` };
    for (const name of ['admin', 'identity-registry']) {
      const file = readFileSync(join(ROOT, 'docs/openapi', `${name}.yaml`), 'utf8');
      const yaml = await fetch(`${app.url}/admin/openapi/${name}.yaml`, { headers });
      expect(yaml.headers.get('content-type')).toMatch(/^application\/yaml/);
      expect(await yaml.text()).toBe(file);
      const json = await fetch(`${app.url}/admin/openapi/${name}.json`, { headers });
      expect(await json.json()).toEqual(parse(file));
    }
    expect((await fetch(`${app.url}/admin/openapi/other.json`, { headers })).status).toBe(404);
  });

  it('serves the browsable page from node_modules under a CSP without unsafe-eval or unsafe-inline', async () => {
    const page = await fetch(`${app.url}/api-docs/`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-(eval|inline)|https?:/);
    const html = await page.text();
    expect(html).not.toMatch(/<script>|style=|https?:\/\//);
    const bundle = await fetch(`${app.url}/api-docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${app.url}/api-docs/nope.js`)).status).toBe(404);
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(document as unknown as Record<string, unknown>);
    expect(result.errors, JSON.stringify(result.errors, null, 1)).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe('3.1.0');
  });

  it('describes every route of the admin router, and no route that is not there', () => {
    expect(documentRoutes(document)).toEqual(routerRoutes(app));
  });

  it("lists exactly the code's audit event types (a new event type needs its line in the document)", () => {
    const documented = (document.components!.schemas!.AuditEventType as { enum: string[] }).enum;
    expect([...documented].sort()).toEqual([...AUDIT_EVENT_TYPES].sort());
  });

  it('matches every request and answer of the demo tour, and the tour calls every operation', async () => {
    expect(await differences(document, exchanges)).toEqual([]);
    const called = new Set(exchanges.map((x) => x.example));
    const operations = Object.values(document.paths ?? {}).flatMap((item) =>
      METHODS.map((m) => (item as Record<string, { operationId?: string }>)[m]?.operationId).filter(Boolean),
    );
    expect(operations.filter((id) => !called.has(id))).toEqual([]);
    // An offer with a tx_code says where it went (masked).
    expect(exchanges.some((x) => (x.responseBody as { tx_code_sent_to?: string })?.tx_code_sent_to)).toBe(
      true,
    );
    // Signer certificates: refused while the key signs, revoked once rotated out, unknown key.
    const signer = exchanges.filter((x) => x.example === 'revokeSignerCertificates').map((x) => x.status);
    expect(signer).toEqual([409, 200, 404]);
    expect(exchanges.find((x) => x.status === 401)).toMatchObject({ path: '/keys' });
    // The tour made a credential, read it in the ledger and revoked it.
    expect(exchanges.find((x) => x.path.endsWith('/revoke'))).toMatchObject({ status: 200 });
  });

  it('every example in the document is valid against its own schema', async () => {
    const checker = await contractChecker(document);
    let examples = 0;
    for (const [path, item] of Object.entries(document.paths ?? {})) {
      for (const method of METHODS) {
        const operation = (item as Record<string, any>)[method];
        for (const [status, response] of Object.entries<any>(operation?.responses ?? {})) {
          const example = response.content?.['application/json']?.example;
          if (example === undefined) continue;
          examples++;
          const result = checker.api.validator.validateResponse(
            example,
            checker.api.getOperation(operation.operationId)!,
            Number(status),
          );
          expect(result.errors, `${method} ${path} ${status}`).toBeNull();
        }
      }
    }
    expect(examples).toBeGreaterThanOrEqual(20);
  });

  it('fails when the document and the code differ: a route, a field, a status code (mutated copies)', async () => {
    const withoutRoute = structuredClone(document);
    delete withoutRoute.paths!['/admin/ledger/{id}'];
    expect(documentRoutes(withoutRoute)).not.toEqual(routerRoutes(app));
    expect((await differences(withoutRoute, exchanges)).join('\n')).toMatch(
      /GET \/admin\/ledger\/\S+ -> 200: no operation in the document/,
    );

    const withoutField = structuredClone(document) as any;
    delete withoutField.components.schemas.Identity.properties.has_pin;
    expect((await differences(withoutField, exchanges)).join('\n')).toMatch(
      /POST \/admin\/identities -> 201: response body: .*has_pin/,
    );

    const renamedField = structuredClone(document) as any;
    renamedField.components.schemas.LedgerRecord.required.push('revokedAt');
    expect((await differences(renamedField, exchanges)).join('\n')).toMatch(/revokedAt/);

    const withoutStatus = structuredClone(document) as any;
    delete withoutStatus.paths['/admin/credential-configurations/{id}'].get.responses['404'];
    expect((await differences(withoutStatus, exchanges)).join('\n')).toMatch(
      /GET \/admin\/credential-configurations\/nope -> 404: status 404 is not documented for getCredentialConfiguration/,
    );

    const narrowerRequest = structuredClone(document) as any;
    narrowerRequest.paths['/admin/identities'].post.requestBody.content['application/json'].schema = {
      type: 'object',
      additionalProperties: false,
      properties: { individual_id: { type: 'string' } },
    };
    expect((await differences(narrowerRequest, exchanges)).join('\n')).toMatch(
      /POST \/admin\/identities -> 201: accepted a request the document refuses/,
    );
  });
});
