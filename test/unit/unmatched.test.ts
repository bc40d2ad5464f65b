/**
 * The catch-all route ($default): a request no route takes is a problem+json
 * 404, or a 405 with Allow when its path has routes with other methods. Its
 * route list is what serverless-per-function.cjs makes of serverless.yml's
 * routes, so a route added there is known here without editing a list.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { expectProblem } from '../support/assertions.js';
import { call, fixture } from '../support/lambda.js';
import { declaredFunctions } from '../support/serverless-config.js';

const PerFunction = createRequire(import.meta.url)('../../plugins/serverless-per-function.cjs');

/** The environment serverless-per-function.cjs gives the catch-all function, from serverless.yml's routes. */
function catchAllEnvironment(): Record<string, string> {
  const functions: Record<string, { events: Array<{ httpApi: string }>; environment?: Record<string, string> }> = {};
  for (const fn of declaredFunctions()) functions[fn.name] = { events: fn.routes.map((httpApi) => ({ httpApi })) };
  functions.unmatched = { events: [{ httpApi: '*' }] };
  const serverless = {
    configSchemaHandler: { defineFunctionProperties: () => {} },
    service: { getAllFunctions: () => Object.keys(functions), getFunction: (name: string) => functions[name] },
  };
  const plugin = new PerFunction(serverless);
  plugin.describeRoutes();
  return functions.unmatched.environment ?? {};
}

let handler: typeof import('../../functions/unmatched.js')['handler'];
beforeAll(async () => {
  process.env.API_ROUTES = catchAllEnvironment().API_ROUTES;
  ({ handler } = await import('../../functions/unmatched.js'));
});

function defaultRouteEvent(method: string, path: string): APIGatewayProxyEventV2 {
  const event = fixture('get-cat');
  event.routeKey = '$default';
  event.rawPath = path;
  event.requestContext.http.method = method;
  event.requestContext.http.path = path;
  event.pathParameters = undefined;
  return event;
}

it('is declared in serverless.yml as the $default route of the HTTP API', () => {
  expect(readFileSync(new URL('../../serverless.yml', import.meta.url), 'utf8')).toMatch(
    /\n {2}unmatched:\n(?: {4}.*\n)*? {4}handler: functions\/unmatched\.handler\n(?: {4}.*\n)*? {6}- httpApi: "\*"\n/,
  );
});

it('learns every route of serverless.yml from the plugin', () => {
  const routes = catchAllEnvironment().API_ROUTES?.split(',') ?? [];
  expect(routes.sort()).toEqual(
    declaredFunctions()
      .flatMap((fn) => fn.routes)
      .sort(),
  );
  expect(routes).toContain('GET /cats/{id}');
});

it.each([
  ['GET', '/nope'],
  ['GET', '/cats/1/toys'],
  ['POST', '/cat'],
  ['GET', '/constructor'],
  ['GET', '/__proto__'],
  ['DELETE', '/'.repeat(3)],
])('answers %s %s, a path the API does not have, with a 404 problem', async (method, path) => {
  const reply = await call(handler, defaultRouteEvent(method, path), { contract: false });
  expectProblem(reply, 404);
  expect(reply.body.type).toBe('/problems/not-found');
  expect(reply.headers.allow).toBeUndefined();
});

it.each([
  ['PUT', '/cats', 'GET, POST'],
  ['DELETE', '/cats', 'GET, POST'],
  ['POST', '/cats/5', 'DELETE, GET, PATCH'],
  ['PUT', '/cats/anything', 'DELETE, GET, PATCH'],
  ['GET', '/edit/5', 'PATCH'],
  ['OPTIONS', '/openapi.json', 'GET'],
  ['HEAD', '/docs/swagger-ui.css', 'GET'],
  ['DELETE', '/', 'GET'],
])('answers %s %s, a known path with another method, with 405 and Allow: %s', async (method, path, allow) => {
  const reply = await call(handler, defaultRouteEvent(method, path), { contract: false });
  expectProblem(reply, 405);
  expect(reply.body.type).toBe('/problems/method-not-allowed');
  expect(reply.headers.allow).toBe(allow);
  expect(reply.body.detail).toContain(allow);
});
