import type { Router } from '@koa/router';
import type { Context, Middleware, Next } from 'koa';

/**
 * The root router's dispatch with the per-request work that depends only on the method and a
 * route's fixed path done once (issue 16). @koa/router keeps nested routers flattened in the root's
 * one stack, and for every request tests each layer's pattern, then builds and composes the chain
 * of the layers that matched. Here, for each route's own path without parameters, the match is
 * remembered per method and the chain built once, running the same layers in the same order and
 * setting the same context fields as @koa/router 15.7's `middleware()` and `_buildMiddlewareChain`
 * (the version is pinned; test/unit/http-routing.test.ts compares the two). Anything else (no route
 * for the method: 405/501/OPTIONS, paths with parameters, unknown or differently spelt paths) goes
 * through the router as before, whose match is remembered for the fixed paths too. Bounded by
 * the fixed paths times the methods Node's parser accepts.
 */
export function routeOnce(router: Router): Middleware {
  const fixedPaths = new Set(
    router.stack
      .filter((layer) => layer.methods.length > 0 && layer.paramNames.length === 0)
      .map((layer) => layer.path)
      .filter((path): path is string => typeof path === 'string'),
  );
  const scan = router.match.bind(router);
  const matches = new Map<string, ReturnType<Router['match']>>();
  const matchOnce = (path: string, method: string) => {
    const key = `${method} ${path}`;
    let found = matches.get(key);
    if (!found) {
      found = scan(path, method);
      matches.set(key, found);
    }
    return found;
  };
  router.match = (path, method) => {
    if (!fixedPaths.has(path)) return scan(path, method);
    const found = matchOnce(path, method);
    // Fresh arrays: the router keeps `path` as ctx.matched, which a nested dispatch would extend.
    return { path: [...found.path], pathAndMethod: [...found.pathAndMethod], route: found.route };
  };
  const general = router.routes() as unknown as Middleware;
  // Router options this app does not use take the general path.
  if (router.host !== undefined || router.exclusive || router.opts.routerPath) return general;

  const routes = new Map<string, FixedRoute | null>();
  const routeFor = (path: string, method: string): FixedRoute | null => {
    const key = `${method} ${path}`;
    let route = routes.get(key);
    if (route === undefined) {
      const found = matchOnce(path, method);
      route = found.route ? fixedRoute(found, path) : null;
      routes.set(key, route);
    }
    return route;
  };
  return function dispatchRoute(ctx, next) {
    const path = ctx.path;
    const context = ctx as RoutedContext;
    if (!fixedPaths.has(path) || context.newRouterPath) return general(ctx, next);
    const route = routeFor(path, ctx.method);
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

interface FixedRoute {
  readonly matched: RouteLayer[];
  readonly routePath: string | RegExp;
  readonly routeName: string | undefined;
  readonly chain: ChainStep[];
}

function fixedRoute(found: ReturnType<Router['match']>, path: string): FixedRoute {
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
