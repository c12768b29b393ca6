import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { Document } from 'openapi-backend';
import { afterEach, describe, expect, it } from 'vitest';
import type { IdentitySystem } from '../../src/kyc/spi.ts';
import {
  type ContractChecker,
  contractChecker,
  readDocument,
  watchRegistryExchange,
} from '../helpers/openapi.ts';
import { type KycHarness, kycHarness, tx } from '../protocol/kyc/harness.ts';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/**
 * A registry that answers every operation with the document's own examples (the answers the
 * contract promises) and checks what the service's client sends, and what it answers, against the
 * document.
 */
async function exampleRegistry(document: Document) {
  const checker = await contractChecker(document);
  const problems = { requests: [] as string[], answers: [] as string[] };
  const examples = new Map<string, unknown>();
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    const response = (item as any).post?.responses?.['200'];
    const content = response?.$ref
      ? (document.components!.responses as any)[response.$ref.split('/').pop()].content
      : response?.content;
    examples.set(path, content?.['application/json']?.example);
  }
  const server: Server = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk) => {
      raw += chunk;
    });
    request.on('end', () => {
      const path = request.url ?? '';
      const body = raw ? JSON.parse(raw) : undefined;
      watchRegistryExchange(checker, path, body, response, problems);
      const example = examples.get(path);
      response.writeHead(example ? 200 : 404, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify(example ?? { error: 'not_found' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    problems,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** Every operation of the contract, through the service's own client (src/kyc/http-system.ts). */
async function driveClient(system: IdentitySystem): Promise<void> {
  const t = tx('demo-rp');
  await system.sendOtp('5610384927', 'sms', t);
  const auth = await system.authenticate('5610384927', [{ factor: 'otp', value: '482913' }], t);
  await system.exchangeKyc(auth.kycToken, ['name', 'birthdate'], ['ar', 'en'], { clientId: 'demo-rp' });
  await system.accountFor('5610384927');
  await system.claimsForAccount!('acct-77', ['name'], []);
  await system.sendMessage!('acct-77', {
    subject: 'Your code',
    text: 'Your code is 4821',
    purpose: 'tx_code',
  });
}

describe('docs/openapi/identity-registry.yaml holds the registry contract and the service client', () => {
  const document = readDocument('identity-registry');
  let h: KycHarness | undefined;
  let registry: Awaited<ReturnType<typeof exampleRegistry>> | undefined;
  afterEach(async () => {
    registry?.close();
    await h?.close();
  });

  async function clientAgainst(doc: Document) {
    registry = await exampleRegistry(doc);
    h = await kycHarness({
      systems: {
        national: { type: 'http', baseUrl: registry.url, apiKey: 'registry-api-key', timeoutMs: 2000 },
      },
      defaultSystem: 'national',
    });
    await driveClient(h.registry.defaultSystem());
    return registry.problems;
  }

  it('is a valid OpenAPI 3.1 document whose examples match its schemas', async () => {
    const result = await new Validator().validate(document as unknown as Record<string, unknown>);
    expect(result.errors, JSON.stringify(result.errors, null, 1)).toBeUndefined();
    const checker: ContractChecker = await contractChecker(document);
    let examples = 0;
    for (const [path, item] of Object.entries(document.paths ?? {})) {
      for (const method of METHODS) {
        const operation = (item as Record<string, any>)[method];
        if (!operation) continue;
        const example = operation.requestBody?.content?.['application/json']?.example;
        expect(checker.checkRequest(method.toUpperCase(), path, example)).toEqual([]);
        examples++;
      }
    }
    expect(examples).toBe(6);
  });

  it("the service's client sends what the document says, and reads the document's example answers", async () => {
    const problems = await clientAgainst(document);
    expect(problems).toEqual({ requests: [], answers: [] });
  });

  it('fails when the document and the code differ: a route, a field, a status code (mutated copies)', async () => {
    const withoutRoute = structuredClone(document);
    delete withoutRoute.paths!['/kyc/account'];
    await expect(clientAgainst(withoutRoute)).resolves.toMatchObject({
      requests: [expect.stringMatching(/POST \/kyc\/account: no operation in the document/)],
    });
    registry!.close();
    await h!.close();

    const renamedField = structuredClone(document) as any;
    const exchange = renamedField.paths['/kyc/exchange'].post.requestBody.content['application/json'].schema;
    exchange.required = exchange.required.map((name: string) =>
      name === 'claimsLocales' ? 'locales' : name,
    );
    exchange.properties.locales = exchange.properties.claimsLocales;
    delete exchange.properties.claimsLocales;
    const fieldProblems = await clientAgainst(renamedField);
    expect(fieldProblems.requests.join('\n')).toMatch(/POST \/kyc\/exchange: request: .*locales/);
    registry!.close();
    await h!.close();

    const checker = await contractChecker(document);
    expect(
      checker.check({ method: 'POST', url: '/kyc/account', requestBody: { individualId: '1' }, status: 302 }),
    ).toEqual(['POST /kyc/account -> 302: status 302 is not documented for accountFor']);
    expect(
      checker.check({
        method: 'POST',
        url: '/otp/send',
        requestBody: { individualId: '1', channel: 'sms', transactionId: 't', clientId: 'c' },
        status: 200,
        responseBody: { masked: '+255 *** **34' },
      }),
    ).toEqual([expect.stringMatching(/response body: .*maskedTo/)]);
  });
});
