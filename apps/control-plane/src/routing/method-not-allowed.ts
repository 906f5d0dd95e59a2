// 405 Method Not Allowed for a known path asked with a method it does not serve (RFC 9110 §15.5.6:
// with an Allow header listing the methods it does serve), and OPTIONS answered with that list.
// Express and Nest route on path and method together, so such a request falls through to Nest's
// "Cannot PUT /x" 404, indistinguishable from an unknown path. HttpErrorFilter asks this module
// only when it is about to answer 404, which keeps the check off every other request's path.
import { METHODS } from 'node:http';
import type { Request, Response } from 'express';

/** What this module reads of the `router` package's (Express 5) route layers. */
interface RouteLayer {
  route?: { methods?: Record<string, boolean> };
  matchers?: Array<(path: string) => unknown>;
}

interface RouteEntry {
  /** Upper-case methods the route serves. */
  methods: string[];
  matchers: Array<(path: string) => unknown>;
}

// Routes are all registered before the server listens and never change after: read them once.
const tables = new WeakMap<object, RouteEntry[]>();

function routeTable(app: Request['app']): RouteEntry[] {
  let table = tables.get(app);
  if (table) return table;
  const stack = (app as unknown as { router?: { stack?: RouteLayer[] } }).router?.stack ?? [];
  table = stack.flatMap((layer): RouteEntry[] => {
    if (!layer.route?.methods || !layer.matchers) return [];
    const methods = Object.keys(layer.route.methods)
      .filter((m) => layer.route?.methods?.[m])
      .map((m) => m.toUpperCase());
    // A route for every method is middleware (Nest mounts `forRoutes('*')` that way) or @All():
    // it says nothing about which methods a path serves, and an @All() path never 404s anyway.
    if (methods.includes('_ALL') || METHODS.every((m) => methods.includes(m))) return [];
    return [{ methods, matchers: layer.matchers }];
  });
  tables.set(app, table);
  return table;
}

/** Methods the path is served with (HEAD wherever GET is); [] for a path no route knows. */
export function servedMethods(req: Request): string[] {
  const served = new Set<string>();
  for (const entry of routeTable(req.app)) {
    if (!entry.matchers.some((match) => matches(match, req.path))) continue;
    for (const m of entry.methods) served.add(m);
  }
  if (served.has('GET')) served.add('HEAD');
  return [...served].sort();
}

function matches(match: (path: string) => unknown, path: string): boolean {
  try {
    return match(path) !== false;
  } catch {
    // A parameter that is not valid percent-encoding: Express refuses it before any handler.
    return false;
  }
}

/**
 * Answers a request that matched no route when its path is known: 405 (204 for OPTIONS) with
 * Allow. Returns false, having sent nothing, when the path is unknown (it stays a 404) or the
 * method is served (the 404 came from the handler: an unknown id).
 */
export function answerUnroutedMethod(req: Request, res: Response): boolean {
  const served = servedMethods(req);
  if (served.length === 0 || served.includes(req.method)) return false;
  const allow = [...served, 'OPTIONS'].join(', ');
  res.setHeader('Allow', allow);
  if (req.method === 'OPTIONS') {
    res.status(204).end();
    return true;
  }
  res.status(405).json({
    statusCode: 405,
    code: 'METHOD_NOT_ALLOWED',
    message: `${req.method} is not supported on ${req.path}; allowed: ${allow}`,
  });
  return true;
}
