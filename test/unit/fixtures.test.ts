/**
 * The event fixtures in test/events (what `sls invoke local --path` takes and
 * the handler tests start from) stay true to serverless.yml: each is for a
 * route it declares, with a path that fits the route.
 */
import { fixture, fixtureNames } from '../support/lambda.js';
import { declaredFunctions } from '../support/serverless-config.js';

const routes = declaredFunctions().flatMap((fn) => fn.routes);

describe('event fixtures', () => {
  it('exist for the cats routes', () => {
    expect(fixtureNames()).toEqual(expect.arrayContaining(['get-cat', 'list-cats', 'create-cat', 'delete-cat']));
  });

  it.each(fixtureNames())('%s is for a declared route, with a path that fits it', (name) => {
    const event = fixture(name);
    expect(routes).toContain(event.routeKey);
    expect(event.requestContext.routeKey).toBe(event.routeKey);
    const [method, template = ''] = event.routeKey.split(' ');
    expect(event.requestContext.http.method).toBe(method);
    const pattern = new RegExp(`^${template.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}$`);
    const match = pattern.exec(event.rawPath);
    expect(match).not.toBeNull();
    expect({ ...match?.groups }).toEqual({ ...event.pathParameters });
  });

  it.each(fixtureNames())(
    '%s carries the claims of an accepted write token exactly when its route is a write',
    (name) => {
      const event = fixture(name) as {
        routeKey: string;
        requestContext: { authorizer?: { jwt?: { claims?: Record<string, unknown>; scopes?: string[] } } };
      };
      const write = !/^(GET|HEAD) /.test(event.routeKey);
      const jwt = event.requestContext.authorizer?.jwt;
      if (!write) {
        expect(jwt).toBeUndefined();
        return;
      }
      expect(jwt?.scopes).toContain('cats/write');
      // API Gateway passes every claim as a string.
      for (const value of Object.values(jwt?.claims ?? {})) expect(typeof value).toBe('string');
      expect(jwt?.claims).toMatchObject({ sub: expect.any(String), client_id: expect.any(String) });
    },
  );

  it('tells which fixtures exist when one is missing', () => {
    expect(() => fixture('no-such-event')).toThrow(
      /no event fixture test\/events\/no-such-event\.json \(there are: .*get-cat/,
    );
  });
});
