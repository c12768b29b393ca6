import type { Router } from '@koa/router';
import type { Context, Middleware, Next } from 'koa';

/**
 * The root router's dispatch with the per-request work that depends only on the method and the
 * path done once (issue 16). @koa/router keeps nested routers flattened in the root's one stack
 * (121 layers here), and for every request tests each layer's pattern, then builds and composes the
 * chain of the layers that matched. Here the match and, when a route answers the method, the chain
 * are remembered per method and path, running the same layers in the same order and setting the
 * same context fields as @koa/router 15.7's `middleware()` and `_buildMiddlewareChain` (the version
 * is pinned; test/unit/http-routing.test.ts compares the two). No route for the method (404, 405,
 * 501, OPTIONS) still goes through the router and `allowedMethods`, with the remembered match.
 * Routes' own paths without parameters are remembered for good; other paths (status lists, offer
 * ids, unknown paths) among the last `RECENT_PATHS`, up to `LONGEST_REMEMBERED_PATH` characters.
 */
export function routeOnce(router: Router): Middleware {
  const fixedPaths: ReadonlySet<string> = new Set(
    router.stack
      .filter((layer) => layer.methods.length > 0 && layer.paramNames.length === 0)
      .map((layer) => layer.path)
      .filter((path): path is string => typeof path === 'string'),
  );
  const scan = router.match.bind(router);
  const matches = new PathMemo<ReturnType<Router['match']>>(fixedPaths);
  const matchOnce = (path: string, method: string) => matches.get(path, method, () => scan(path, method));
  router.match = (path, method) => {
    const found = matchOnce(path, method);
    // Fresh arrays: the router keeps `path` as ctx.matched, which a nested dispatch would extend.
    return { path: [...found.path], pathAndMethod: [...found.pathAndMethod], route: found.route };
  };
  const general = router.routes() as unknown as Middleware;
  // Router options this app does not use take the general path.
  if (router.host !== undefined || router.exclusive || router.opts.routerPath) return general;

  const routes = new PathMemo<Route | null>(fixedPaths);
  const routeFor = (path: string, method: string): Route | null =>
    routes.get(path, method, () => {
      const found = matchOnce(path, method);
      return found.route ? routeOf(found, path) : null;
    });
  return function dispatchRoute(ctx, next) {
    const context = ctx as RoutedContext;
    if (context.newRouterPath) return general(ctx, next);
    const route = routeFor(ctx.path, ctx.method);
    if (!route) return general(ctx, next);
    if (context.matched) context.matched.push(...route.matched);
    else context.matched = [...route.matched];
    context.router = router;
    context.routeMatched = true;
    context._matchedRoute = route.routePath;
    if (route.routeName) context._matchedRouteName = route.routeName;
    return runChain(route.chain, 0, ctx, next);
  };
}

const RECENT_PATHS = 1024;
const LONGEST_REMEMBERED_PATH = 256;

/** Values by method and path: for good on the routes' fixed paths, else for the last `RECENT_PATHS`. */
class PathMemo<V> {
  readonly #fixedPaths: ReadonlySet<string>;
  readonly #fixed = new Map<string, V>();
  readonly #recent = new Map<string, V>();

  constructor(fixedPaths: ReadonlySet<string>) {
    this.#fixedPaths = fixedPaths;
  }

  get(path: string, method: string, work: () => V): V {
    const key = `${method} ${path}`;
    const fixed = this.#fixedPaths.has(path);
    const known = (fixed ? this.#fixed : this.#recent).get(key);
    if (known !== undefined) return known;
    const value = work();
    if (fixed) {
      this.#fixed.set(key, value);
    } else if (path.length <= LONGEST_REMEMBERED_PATH) {
      // Oldest out first: a stream of distinct paths (offer ids, probes) costs what it did before.
      if (this.#recent.size >= RECENT_PATHS) this.#recent.delete(this.#recent.keys().next().value as string);
      this.#recent.set(key, value);
    }
    return value;
  }
}

type RouteLayer = Router['stack'][number];
type RoutedContext = Context & {
  matched?: RouteLayer[];
  router?: Router;
  routeMatched?: boolean;
  newRouterPath?: string;
  _matchedRoute?: string | RegExp;
  _matchedRouteName?: string;
  captures?: string[];
  params?: Record<string, string>;
  routerPath?: string | RegExp;
  routerName?: string;
};
type ChainStep = (ctx: Context, next: Next) => unknown;

interface Route {
  readonly matched: RouteLayer[];
  readonly routePath: string | RegExp;
  readonly routeName: string | undefined;
  readonly chain: ChainStep[];
}

function routeOf(found: ReturnType<Router['match']>, path: string): Route {
  const route = found.pathAndMethod.toReversed().find((layer) => layer.methods.length > 0)!;
  return {
    matched: found.path,
    routePath: route.path,
    routeName: route.name,
    // Each matched layer: the step that sets the layer's captures, params and names, then its middleware.
    chain: found.pathAndMethod.flatMap((layer) => [enterLayer(layer, path), ...(layer.stack as ChainStep[])]),
  };
}

function enterLayer(layer: RouteLayer, path: string): ChainStep {
  return (ctx, next) => {
    const context = ctx as RoutedContext;
    const request = context.request as typeof context.request & { params?: Record<string, string> };
    context.captures = layer.captures(path);
    request.params = layer.params(path, context.captures ?? [], context.params);
    context.params = request.params;
    context.routerPath = layer.path;
    context.routerName = layer.name || undefined;
    context._matchedRoute = layer.path;
    if (layer.name) context._matchedRouteName = layer.name;
    return next();
  };
}

/** Runs `chain` from `index` as koa-compose does: each step's `next` runs the following one, at most once. */
function runChain(chain: ChainStep[], index: number, ctx: Context, next: Next): Promise<void> {
  const step = chain[index];
  if (!step) return next();
  let called = false;
  try {
    return Promise.resolve(
      step(ctx, () => {
        if (called) return Promise.reject(new Error('next() called multiple times'));
        called = true;
        return runChain(chain, index + 1, ctx, next);
      }),
    ) as Promise<void>;
  } catch (error) {
    return Promise.reject(error);
  }
}
