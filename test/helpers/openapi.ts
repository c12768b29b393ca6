import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { type Document, OpenAPIBackend, type Operation } from 'openapi-backend';
import { parse } from 'yaml';

/**
 * Holds HTTP exchanges to the OpenAPI documents in docs/openapi/ with openapi-backend (its router
 * and its request and response validators), on JSON Schema 2020-12 as OpenAPI 3.1 says. A test
 * helper only: the service never validates against the documents at run time.
 */
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const ROOT = join(import.meta.dirname, '../..');

export type DocumentName = 'admin' | 'identity-registry';

export function readDocument(name: DocumentName): Document {
  return parse(readFileSync(join(ROOT, 'docs/openapi', `${name}.yaml`), 'utf8')) as Document;
}

/** One request and its answer, as seen on the wire. */
export interface WireExchange {
  method: string;
  /** Path and query, e.g. `/admin/ledger?limit=1` (no origin). */
  url: string;
  requestHeaders?: Record<string, string>;
  requestBody?: unknown;
  status: number;
  /** Parsed JSON, or the raw text when the answer is no JSON (undefined when empty). */
  responseBody?: unknown;
  responseContentType?: string | null;
}

export interface ContractChecker {
  readonly api: OpenAPIBackend;
  /** What in the exchange differs from the document; empty when it matches. */
  check(exchange: WireExchange): string[];
  /** What in the request alone differs from the document (a client's request, before any answer). */
  checkRequest(method: string, url: string, body: unknown): string[];
}

/** A checker over a document (a copy may be passed, e.g. a mutated one). */
export async function contractChecker(document: Document): Promise<ContractChecker> {
  const api = new OpenAPIBackend({
    definition: structuredClone(document),
    // quick: no 3.0-only definition check (test/contract validates the 3.1 document itself), lazy validators.
    quick: true,
    strict: true,
    apiRoot: '/',
    customizeAjv: (_ajv, options) => addFormats(new Ajv2020({ ...options, strict: false, allErrors: true })),
  });
  await api.init();
  return {
    api,
    check: (exchange) => checkExchange(api, exchange),
    checkRequest(method, url, body) {
      const request = toRequest({ method, url, requestBody: body, status: 0 });
      const operation = api.matchOperation(request);
      if (!operation) return [`${method} ${url}: no operation in the document for this route`];
      const result = api.validateRequest(request, operation);
      return result.valid ? [] : [`${method} ${url}: request: ${describe(result.errors)}`];
    },
  };
}

function toRequest(x: WireExchange) {
  const [path, query = ''] = x.url.split('?') as [string, string?];
  return {
    method: x.method.toLowerCase(),
    path,
    query,
    headers: { 'content-type': 'application/json', ...x.requestHeaders },
    ...(x.requestBody !== undefined ? { body: x.requestBody } : {}),
  };
}

function checkExchange(api: OpenAPIBackend, x: WireExchange): string[] {
  const where = `${x.method} ${x.url} -> ${x.status}`;
  const request = toRequest(x);
  const operation = api.matchOperation(request);
  if (!operation) {
    // An undocumented route may only ever answer "no such route".
    return x.status === 404 || x.status === 405
      ? []
      : [`${where}: no operation in the document for this route`];
  }
  const problems: string[] = [];
  const requestResult = api.validateRequest(request, operation);
  if (!requestResult.valid && x.status < 400) {
    problems.push(`${where}: accepted a request the document refuses: ${describe(requestResult.errors)}`);
  }
  const documented = documentedStatus(operation, x.status);
  if (!documented) {
    problems.push(`${where}: status ${x.status} is not documented for ${operation.operationId}`);
    return problems;
  }
  const json = !x.responseContentType || x.responseContentType.includes('json');
  if (json) {
    const body = x.responseBody === undefined || x.responseBody === '' ? null : x.responseBody;
    const content = operation.responses?.[documented] as { content?: Record<string, unknown> } | undefined;
    if (body !== null && !content?.content?.['application/json']) {
      problems.push(`${where}: a JSON body the document does not describe for ${documented}`);
    } else if (body === null && content?.content?.['application/json']) {
      problems.push(`${where}: no body, where the document describes one`);
    } else if (body !== null) {
      const result = api.validator.validateResponse(body, operation, x.status);
      if (!result.valid) problems.push(`${where}: response body: ${describe(result.errors)}`);
    }
  } else {
    const content = operation.responses?.[documented] as { content?: Record<string, unknown> } | undefined;
    const type = x.responseContentType?.split(';')[0]?.trim() ?? '';
    if (!content?.content?.[type]) problems.push(`${where}: content type ${type} is not documented`);
  }
  return problems;
}

function documentedStatus(operation: Operation, status: number): string | undefined {
  const responses = operation.responses ?? {};
  for (const key of [String(status), `${String(status)[0]}XX`, 'default']) if (key in responses) return key;
  return undefined;
}

function describe(errors: unknown): string {
  return JSON.stringify(
    ((errors ?? []) as { instancePath?: string; message?: string; params?: unknown }[]).map(
      (e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`,
    ),
  );
}

let admin: Promise<ContractChecker> | undefined;

/** Throws when an admin exchange differs from docs/openapi/admin.yaml (the test that made it fails). */
export async function assertAdminExchange(exchange: WireExchange): Promise<void> {
  admin ??= contractChecker(readDocument('admin'));
  const problems = (await admin).check(exchange);
  if (problems.length > 0) {
    throw new Error(`the admin API differs from docs/openapi/admin.yaml:\n${problems.join('\n')}`);
  }
}

/**
 * For suites that call the admin API with plain `fetch`: from here on in this test file, every
 * fetch to a 127.0.0.1 `/admin` path is checked against the admin document, and a call that differs
 * throws (the test making it fails).
 */
export function checkAdminFetches(): void {
  const original = globalThis.fetch;
  globalThis.fetch = async function checkedFetch(input, init) {
    const response = await original(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.hostname !== '127.0.0.1' || !/^\/admin(\/|$)/.test(url.pathname)) return response;
    const text = await response.clone().text();
    const contentType = response.headers.get('content-type');
    let requestBody: unknown;
    if (typeof init?.body === 'string') {
      try {
        requestBody = JSON.parse(init.body);
      } catch {
        requestBody = init.body;
      }
    }
    await assertAdminExchange({
      method: init?.method ?? (input instanceof Request ? input.method : 'GET'),
      url: url.pathname + url.search,
      ...(requestBody !== undefined ? { requestBody } : {}),
      status: response.status,
      responseBody: parseMaybe(text, contentType),
      responseContentType: text ? contentType : null,
    });
    return response;
  };
}

export function parseMaybe(text: string, contentType: string | null): unknown {
  if (!text) return undefined;
  if (!contentType?.includes('json')) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

let registryDocument: Promise<ContractChecker> | undefined;

/** The checker over docs/openapi/identity-registry.yaml (built once per test file). */
export function registryChecker(): Promise<ContractChecker> {
  registryDocument ??= contractChecker(readDocument('identity-registry'));
  return registryDocument;
}

/**
 * For fake registries (node:http servers): checks the service's request against the document at
 * once, and the fake's answer when it is sent. Problems go to `requests` and `answers`: a test
 * asserts the first is always empty (the client follows the contract), and the second is empty
 * unless it scripts an off-contract answer on purpose.
 */
export function watchRegistryExchange(
  checker: ContractChecker,
  path: string,
  requestBody: unknown,
  response: ServerResponse,
  problems: { requests: string[]; answers: string[] },
): void {
  problems.requests.push(...checker.checkRequest('POST', path, requestBody));
  // Headers given to writeHead are not readable through getHeader: keep them as they pass.
  let contentType = response.getHeader('content-type');
  const writeHead = response.writeHead.bind(response) as (...args: unknown[]) => ServerResponse;
  response.writeHead = ((...args: unknown[]) => {
    const headers = args.find((a): a is Record<string, unknown> => typeof a === 'object' && a !== null);
    const given = Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === 'content-type');
    if (given) contentType = String(given[1]);
    return writeHead(...args);
  }) as typeof response.writeHead;
  const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
  response.end = ((...args: unknown[]) => {
    const [chunk] = args;
    const text =
      typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString() : '';
    contentType ??= response.getHeader('content-type');
    problems.answers.push(
      ...checker.check({
        method: 'POST',
        url: path,
        requestBody,
        status: response.statusCode,
        responseBody: parseMaybe(text, typeof contentType === 'string' ? contentType : null),
        responseContentType: typeof contentType === 'string' ? contentType : text ? 'text/plain' : null,
      }),
    );
    return end(...args);
  }) as typeof response.end;
}
