import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Router } from '@koa/router';
import type { Context } from 'koa';
import { NotFound } from '../errors.ts';

/**
 * The page's policy: the service's own (no third party, no framing) plus what Swagger UI needs,
 * all from this origin: its script and stylesheet, data: images (its icons), fetch to this origin
 * (the documents, and "try it out" against the admin API). No 'unsafe-eval', no 'unsafe-inline'.
 */
const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const SWAGGER_UI = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const ASSETS: Record<string, { file: string; type: string }> = {
  'swagger-ui-bundle.js': { file: join(SWAGGER_UI, 'swagger-ui-bundle.js'), type: 'text/javascript' },
  'swagger-ui.css': { file: join(SWAGGER_UI, 'swagger-ui.css'), type: 'text/css' },
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API documents</title>
<link rel="stylesheet" href="swagger-ui.css">
<link rel="stylesheet" href="page.css">
</head>
<body>
<form id="load" class="load">
<label>Admin token <input id="token" type="password" autocomplete="off" required></label>
<label>Document <select id="document">
<option value="admin">Admin API</option>
<option value="identity-registry">Identity-registry contract</option>
</select></label>
<button type="submit">Show</button>
<span id="message" role="status"></span>
</form>
<div id="swagger-ui"></div>
<script src="swagger-ui-bundle.js"></script>
<script src="page.js"></script>
</body>
</html>
`;

/** Loads the chosen document with the admin token (kept in this page's memory only) into Swagger UI. */
const PAGE_JS = `'use strict';
(function () {
  var form = document.getElementById('load');
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var token = document.getElementById('token').value;
    var name = document.getElementById('document').value;
    var withToken = function (request) {
      if (new URL(request.url, location.href).origin === location.origin) {
        request.headers.Authorization = 'Bearer ' + token;
      }
      return request;
    };
    document.getElementById('message').textContent = '';
    window.SwaggerUIBundle({
      url: '/admin/openapi/' + name + '.json',
      dom_id: '#swagger-ui',
      validatorUrl: null,
      requestInterceptor: withToken,
      onComplete: function () { document.getElementById('message').textContent = 'Loaded.'; },
    });
  });
})();
`;

const PAGE_CSS = `.load { display: flex; gap: 1rem; align-items: center; padding: 1rem 20px; font-family: sans-serif; }
.load input, .load select, .load button { font: inherit; padding: .25rem .5rem; }`;

/**
 * `GET /api-docs/`: a browsable page for both documents (Swagger UI from swagger-ui-dist, served
 * from node_modules: no CDN). The page and its assets hold nothing secret; the documents it shows
 * are fetched with the admin token the operator types. Only where the admin API is enabled.
 */
export function apiDocsPage(adminEnabled: boolean): Router {
  const router = new Router({ prefix: '/api-docs' });
  const serve = (ctx: Context, type: string, body: string | Buffer) => {
    if (!adminEnabled) throw new NotFound('the admin API is disabled: no admin credential is configured');
    ctx.set('Content-Security-Policy', PAGE_CSP);
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = type;
    ctx.body = body;
  };
  router.get('/', (ctx) => {
    if (!ctx.path.endsWith('/')) {
      if (!adminEnabled) throw new NotFound('the admin API is disabled: no admin credential is configured');
      ctx.redirect(`${ctx.path}/`);
      return;
    }
    serve(ctx, 'text/html; charset=utf-8', PAGE);
  });
  router.get('/page.js', (ctx) => serve(ctx, 'text/javascript', PAGE_JS));
  router.get('/page.css', (ctx) => serve(ctx, 'text/css', PAGE_CSS));
  router.get('/:asset', (ctx) => {
    const asset = ASSETS[ctx.params.asset ?? ''];
    if (!asset) throw new NotFound(`no resource at ${ctx.path}`);
    serve(ctx, asset.type, readFileSync(asset.file));
  });
  return router;
}
