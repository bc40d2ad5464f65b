/**
 * The OpenAPI document's security: the scheme, each operation's scope and
 * API Gateway's 401/403, following the stage's rules (API_AUTH). That the
 * deployed routes require the same is test/deploy/auth.test.ts.
 */
import { openApiDocument } from '../../lib/openapi/document.js';
import { apiAuthFrom, authServerFrom } from '../../lib/openapi/operations.js';

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

it('declares security on every operation (Redocly security-defined), with an OAuth 2.0 client-credentials scheme', () => {
  const document = openApiDocument();
  expect(document.components.securitySchemes?.oauth2).toMatchObject({
    type: 'oauth2',
    flows: {
      clientCredentials: {
        tokenUrl: '/oauth2/token',
        scopes: { 'cats/read': expect.any(String), 'cats/write': expect.any(String) },
      },
    },
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
      expect([route, operation.security]).toEqual([route, needed ? [{ oauth2: [needed] }] : []]);
      expect([route, '401' in operation.responses, '403' in operation.responses]).toEqual([route, !!needed, !!needed]);
    }
  },
);

it('reads the rules from API_AUTH, the default deploy when unset, and refuses anything else', () => {
  expect(apiAuthFrom(undefined)).toBe('writes');
  expect(apiAuthFrom('reads-and-writes')).toBe('reads-and-writes');
  expect(() => apiAuthFrom('none')).toThrow(/API_AUTH must be writes, reads-and-writes or open, got "none"/);
});

it("names the stage's token URL, or its external issuer's discovery document, from API_AUTH_SERVER", () => {
  const cognito = 'https://cats-api-prod-123.auth.eu-west-1.amazoncognito.com/oauth2/token';
  expect(openApiDocument('writes', authServerFrom(cognito)).components.securitySchemes?.oauth2).toMatchObject({
    type: 'oauth2',
    flows: { clientCredentials: { tokenUrl: cognito } },
  });
  const discovery = 'https://login.example.com/.well-known/openid-configuration';
  expect(openApiDocument('writes', authServerFrom(discovery)).components.securitySchemes?.oauth2).toMatchObject({
    type: 'openIdConnect',
    openIdConnectUrl: discovery,
  });
  expect(authServerFrom(undefined)).toEqual({ tokenUrl: '/oauth2/token' });
});
