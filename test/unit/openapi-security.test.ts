/**
 * The OpenAPI document's security: the scheme, each operation's scope and
 * API Gateway's 401/403, following the stage's rules (API_AUTH). That the
 * deployed routes require the same is test/deploy/auth.test.ts.
 */
import { openApiDocument } from '../../lib/openapi/document.js';
import { apiAuthFrom } from '../../lib/openapi/operations.js';

type Operation = { security?: Record<string, string[]>[]; responses: Record<string, unknown> };

function operations(auth: Parameters<typeof openApiDocument>[0]): [string, Operation][] {
  return Object.entries(openApiDocument(auth).paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(
      ([method, op]) => [`${method.toUpperCase()} ${path}`, op as Operation] as [string, Operation],
    ),
  );
}

const isWrite = (route: string) => !route.startsWith('GET ');
const isDocs = (route: string) => /^GET \/(docs|openapi\.json)/.test(route);

it('declares security on every operation (Redocly security-defined), with a bearer JWT scheme', () => {
  const document = openApiDocument();
  expect(document.components.securitySchemes?.bearerAuth).toMatchObject({
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
  });
  for (const [route, operation] of operations('writes'))
    expect([route, Array.isArray(operation.security)]).toEqual([route, true]);
});

it.each([
  ['writes', (route: string) => (isWrite(route) ? 'cats/write' : undefined)],
  ['reads-and-writes', (route: string) => (isDocs(route) ? undefined : isWrite(route) ? 'cats/write' : 'cats/read')],
  ['open', () => undefined],
] as const)(
  'under %s, gives each operation its scope and documents 401 and 403 exactly where a token is needed',
  (auth, scope) => {
    for (const [route, operation] of operations(auth)) {
      const needed = scope(route);
      expect([route, operation.security]).toEqual([route, needed ? [{ bearerAuth: [needed] }] : []]);
      expect([route, '401' in operation.responses, '403' in operation.responses]).toEqual([route, !!needed, !!needed]);
    }
  },
);

it('reads the rules from API_AUTH, the default deploy when unset, and refuses anything else', () => {
  expect(apiAuthFrom(undefined)).toBe('writes');
  expect(apiAuthFrom('reads-and-writes')).toBe('reads-and-writes');
  expect(() => apiAuthFrom('none')).toThrow(/API_AUTH must be writes, reads-and-writes or open, got "none"/);
});
