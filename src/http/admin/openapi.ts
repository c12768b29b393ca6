import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Router } from '@koa/router';
import { parse } from 'yaml';
import { NotFound } from '../../errors.ts';

/** docs/openapi/ in the repository (and the image: the Dockerfile copies it). */
const DOCUMENTS_DIR = join(import.meta.dirname, '../../../docs/openapi');
const DOCUMENTS = ['admin', 'identity-registry'] as const;

const documents = new Map<string, { yaml: string; json: string }>();
function document(name: string): { yaml: string; json: string } {
  let loaded = documents.get(name);
  if (!loaded) {
    const yaml = readFileSync(join(DOCUMENTS_DIR, `${name}.yaml`), 'utf8');
    loaded = { yaml, json: JSON.stringify(parse(yaml)) };
    documents.set(name, loaded);
  }
  return loaded;
}

/**
 * `GET /admin/openapi/{admin,identity-registry}.{yaml,json}` (mounted under /admin, so behind the
 * admin token): the OpenAPI 3.1 documents of the admin API and of the identity-registry contract.
 */
export function openApiRoutes(): Router {
  const router = new Router();
  router.get('/openapi/:document', (ctx) => {
    const match = /^([a-z-]+)\.(yaml|json)$/.exec(ctx.params.document ?? '');
    const name = match?.[1];
    if (!match || !DOCUMENTS.includes(name as (typeof DOCUMENTS)[number])) {
      throw new NotFound(`no such document: ${DOCUMENTS.map((d) => `${d}.yaml, ${d}.json`).join(', ')}`);
    }
    const loaded = document(name!);
    ctx.type = match[2] === 'yaml' ? 'application/yaml' : 'application/json';
    ctx.body = match[2] === 'yaml' ? loaded.yaml : loaded.json;
  });
  return router;
}
