/**
 * Every request no route matches (API Gateway's $default route): a 404, or a
 * 405 with `Allow` for a known path and another method, as problem+json like
 * every other error of this API.
 */
import { httpRoute } from '../lib/http/handler.js';
import { routeTable, unmatchedProblem } from '../lib/http/routes.js';

let table: ReturnType<typeof routeTable> | undefined;

export const handler = httpRoute(async (event) => {
  // serverless-per-function.cjs sets API_ROUTES from serverless.yml.
  table ??= routeTable(process.env.API_ROUTES ?? '');
  throw unmatchedProblem(table, event.requestContext.http.method, event.rawPath);
});
