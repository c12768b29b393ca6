import { createServer, type Server } from 'node:http';
import { Router } from '@koa/router';
import Koa, { type Context, type Middleware } from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { routeOnce } from '../../src/http/route-once.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/**
 * A root router shaped like the app's: nested routers with and without prefixes, router-level
 * middleware under a prefix, several methods on one path, a named route, parameters, and a handler
 * that leaves the body to the next middleware. Every middleware appends to a trace.
 */
function buildRouter(): Router {
  const mark =
    (name: string): Middleware =>
    async (ctx, next) => {
      (ctx.state.trace as string[]).push(name);
      await next();
    };
  const answer = (name: string) => (ctx: Context) => {
    (ctx.state.trace as string[]).push(name);
    ctx.body = { name };
  };
  const vci = new Router();
  vci.options('/nonce', answer('nonce-options'));
  vci.post('/nonce', mark('cors'), answer('nonce'));
  vci.get('/status/:listId', answer('status'));
  vci.get('named', '/named', answer('named'));
  vci.get('/falls-through', mark('falls-through'));
  const admin = new Router({ prefix: '/admin' });
  admin.use(mark('admin-auth'));
  const keys = new Router();
  keys.get('/keys', answer('keys'));
  keys.post('/keys', answer('keys-post'));
  keys.get('/', answer('admin-root'));
  admin.use(keys.routes());
  const root = new Router();
  root.use(vci.routes(), admin.routes());
  return root;
}

/** Everything routing leaves on the context and in the answer, for comparison. */
async function serve(route: (router: Router) => Middleware): Promise<string> {
  const router = buildRouter();
  const koa = new Koa();
  koa.use(async (ctx, next) => {
    ctx.state.trace = [];
    await next();
    const c = ctx as Context & Record<string, unknown>;
    ctx.set(
      'X-Routing',
      JSON.stringify({
        trace: ctx.state.trace,
        matched: (c.matched as { path: string }[] | undefined)?.map((layer) => String(layer.path)),
        routeMatched: c.routeMatched,
        routerIsRoot: c.router === router,
        matchedRoute: c._matchedRoute,
        matchedRouteName: c._matchedRouteName,
        routerPath: c.routerPath,
        routerName: c.routerName,
        params: c.params,
        requestParams: (ctx.request as unknown as Record<string, unknown>).params,
        captures: c.captures,
      }),
    );
  });
  koa.use(route(router));
  koa.use(router.allowedMethods());
  const server = createServer(koa.callback());
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe('routeOnce', () => {
  it('answers every method on every path as the router does, with the same context fields', async () => {
    const plain = await serve((router) => router.routes() as unknown as Middleware);
    const once = await serve(routeOnce);
    const paths = [
      '/nonce',
      '/NONCE',
      '/nonce/',
      '/status/abc',
      '/status/def',
      '/status/a%20b',
      '/status/',
      '/named',
      '/falls-through',
      '/admin',
      '/admin/',
      '/admin/keys',
      '/admin/other',
      '/unknown',
    ];
    const methods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'];
    let compared = 0;
    // Twice: the second round answers from what the first remembered.
    for (let round = 0; round < 2; round++) {
      for (const path of paths) {
        for (const method of methods) {
          const [a, b] = await Promise.all(
            [plain, once].map(async (base) => {
              const res = await fetch(`${base}${path}`, { method });
              return {
                status: res.status,
                allow: res.headers.get('allow'),
                routing: res.headers.get('x-routing'),
                body: await res.text(),
              };
            }),
          );
          expect(b, `${method} ${path}`).toEqual(a);
          compared++;
        }
      }
    }
    expect(compared).toBe(2 * paths.length * methods.length);
  });

  it('answers a path with parameters as the router does after more distinct paths than it remembers', async () => {
    const plain = await serve((router) => router.routes() as unknown as Middleware);
    const once = await serve(routeOnce);
    const answer = async (base: string, path: string) => {
      const res = await fetch(`${base}${path}`);
      return { status: res.status, routing: res.headers.get('x-routing'), body: await res.text() };
    };
    const first = await answer(once, '/status/first');
    for (let i = 0; i < 1100; i++) await answer(once, `/status/id-${i}`);
    expect(await answer(once, '/status/first')).toEqual(first);
    expect(first).toEqual(await answer(plain, '/status/first'));
    expect(JSON.parse(first.routing ?? '{}').params).toEqual({ listId: 'first' });
  });

  it('runs a fixed route through its own and its routers’ middleware, in order', async () => {
    const once = await serve(routeOnce);
    const res = await fetch(`${once}/admin/keys`, { method: 'POST' });
    expect(res.status).toBe(200);
    const routing = JSON.parse(res.headers.get('x-routing') ?? '{}');
    expect(routing.trace).toEqual(['admin-auth', 'keys-post']);
    expect(routing.matchedRoute).toBe('/admin/keys');
  });
});
