import { handler } from '../../functions/docs.js';
import { expectProblem } from '../support/assertions.js';
import { call, httpEvent } from '../support/lambda.js';

function docsEvent(asset?: string) {
  const event = httpEvent('list-cats');
  event.routeKey = asset === undefined ? 'GET /docs' : 'GET /docs/{asset}';
  event.rawPath = asset === undefined ? '/docs' : `/docs/${asset}`;
  event.queryStringParameters = undefined;
  event.pathParameters = asset === undefined ? undefined : { asset };
  return event;
}

it('serves the docs page with a policy that allows only its own scripts and the API itself', async () => {
  const reply = await call(handler, docsEvent());
  expect(reply.status).toBe(200);
  expect(reply.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(reply.body).toContain('<script src="/docs/swagger-ui-bundle.js"></script>');
  const csp = reply.headers['content-security-policy'] ?? '';
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("connect-src 'self'");
  expect(csp).not.toMatch(/unsafe-eval|https?:/);
});

it('serves Swagger UI from the package, not from a CDN, and the page loads nothing else', async () => {
  const script = await call(handler, docsEvent('swagger-ui-bundle.js'));
  expect(script.status).toBe(200);
  expect(script.headers['content-type']).toMatch(/^text\/javascript/);
  expect(String(script.body).length).toBeGreaterThan(100000);
  const css = await call(handler, docsEvent('swagger-ui.css'));
  expect(css.headers['content-type']).toMatch(/^text\/css/);
  const init = await call(handler, docsEvent('init.js'));
  expect(init.body).toContain("url: '/openapi.json'");
});

it.each([
  '../package.json',
  'index.html',
  'swagger-ui-bundle.js.map',
  // Names of Object.prototype's members: an asset table that is a plain object finds them.
  'constructor',
  '__proto__',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  '__defineGetter__',
])('answers 404 for %j, which it does not serve', async (asset) => {
  expectProblem(await call(handler, docsEvent(asset)), 404);
});
