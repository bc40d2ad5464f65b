/**
 * What the catch-all route ($default) answers: a path no route has is a 404;
 * a path some route has, with another method, is a 405 whose `Allow` lists
 * the methods it has (RFC 9110 §15.5.6). The routes are the deployment's own
 * (`METHOD /path` pairs in API_ROUTES, written by serverless-per-function.cjs
 * from serverless.yml), not a second list kept by hand.
 */
import { HttpProblem, problemTypes } from './problem.js';

export interface RouteTable {
  /** The methods a request path has routes for, empty when it matches none. */
  methodsFor(path: string): string[];
}

/** The paths a route's path template matches: a {parameter} is one path segment, as in API Gateway; the rest is literal. */
export function routePattern(template: string): RegExp {
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => (/^\{[^}]+\}$/.test(part) ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}

/** A route table from `GET /cats,GET /cats/{id},...`. */
export function routeTable(routes: string): RouteTable {
  const byPath = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  for (const route of routes.split(',')) {
    const [method, path] = route.trim().split(' ');
    if (!method || !path) continue;
    let entry = byPath.get(path);
    if (!entry) {
      entry = { pattern: routePattern(path), methods: new Set() };
      byPath.set(path, entry);
    }
    entry.methods.add(method.toUpperCase());
  }
  const entries = [...byPath.values()];
  return {
    methodsFor(path) {
      const methods = new Set<string>();
      for (const entry of entries) if (entry.pattern.test(path)) for (const m of entry.methods) methods.add(m);
      return [...methods].sort();
    },
  };
}

/** The problem for a request no route took. */
export function unmatchedProblem(table: RouteTable, method: string, path: string): HttpProblem {
  const allowed = table.methodsFor(path);
  if (allowed.length === 0) {
    return new HttpProblem(404, problemTypes.notFound, 'Not found', 'no resource of this API is at this path');
  }
  return new HttpProblem(
    405,
    problemTypes.methodNotAllowed,
    'Method not allowed',
    `${method} is not a method of this path; it allows ${allowed.join(', ')}`,
    undefined,
    { allow: allowed.join(', ') },
  );
}
