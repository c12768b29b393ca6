/**
 * `node scripts/openapi-examples.ts`: writes the examples of docs/openapi/admin.yaml from a real run.
 * It starts the service in demo mode on 127.0.0.1 (in-memory store, demo people, relying party and
 * credential configurations), makes every admin call of test/contract/admin-tour.ts (a wallet
 * redeems an offer so the ledger has a credential to read and revoke), and puts the first answer of
 * each operation and status, and the request body of its first success, into the document as
 * `example`s. The random local origin becomes https://issuer.example.org. test/contract/
 * openapi-admin.test.ts validates every example against its schema, and every answer of the same
 * tour against the document. It regenerates the client types (scripts/openapi-client.ts) too.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { adminTour } from '../test/contract/admin-tour.ts';
import { startTestApp } from '../test/helpers/app.ts';
import { GENERATED, generateAdminClientTypes } from './openapi-client.ts';

const FILE = join(import.meta.dirname, '../docs/openapi/admin.yaml');
const ORIGIN = 'https://issuer.example.org';

const app = await startTestApp({ env: { DEMO: 'on' }, overrides: { kyc: { scryptCost: 1024 } } });
try {
  const exchanges = await adminTour(app.url, app.adminToken, app.dataDir);
  const stable = (value: unknown) => JSON.parse(JSON.stringify(value).replaceAll(app.url, ORIGIN));
  const doc = parseDocument(readFileSync(FILE, 'utf8'));
  const plain = doc.toJS() as {
    paths: Record<string, Record<string, { operationId?: string; responses: Record<string, any> }>>;
    components: { responses: Record<string, any> };
  };
  const where = new Map<string, [string, string]>();
  for (const [path, item] of Object.entries(plain.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (operation?.operationId) where.set(operation.operationId, [path, method]);
    }
  }
  const done = new Set<string>();
  for (const x of exchanges) {
    if (!x.example || x.responseBody === undefined || x.example === 'getOpenApiDocument') continue;
    const [path, method] = where.get(x.example) ?? [];
    if (!path || !method) throw new Error(`no operation ${x.example} in the document`);
    const status = String(x.status);
    if (done.has(`${x.example} ${status}`)) continue;
    done.add(`${x.example} ${status}`);
    const responsePath = ['paths', path, method, 'responses', status];
    const response = plain.paths[path]![method]!.responses[status];
    if (!response) throw new Error(`${x.example} answered ${status}, which the document does not describe`);
    if (response.$ref) {
      // A reference allows no example beside it (OpenAPI 3.1 §4.8.23): the shared answer is copied here.
      const shared = plain.components.responses[String(response.$ref).split('/').pop()!];
      doc.setIn(responsePath, doc.createNode(shared));
    }
    doc.setIn(
      [...responsePath, 'content', 'application/json', 'example'],
      doc.createNode(stable(x.responseBody)),
    );
    if (x.requestBody !== undefined && x.status < 300) {
      const body = ['paths', path, method, 'requestBody', 'content', 'application/json'];
      if (doc.hasIn(body) && !doc.hasIn([...body, 'example'])) {
        doc.setIn([...body, 'example'], doc.createNode(stable(x.requestBody)));
      }
    }
  }
  writeFileSync(FILE, doc.toString({ lineWidth: 0 }));
  console.log(`${done.size} examples written to docs/openapi/admin.yaml`);
  // The generated client's types carry the examples too: regenerate them with the document.
  writeFileSync(GENERATED, await generateAdminClientTypes());
} finally {
  await app.stop();
}
