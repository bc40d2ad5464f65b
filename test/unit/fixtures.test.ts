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

  it('tells which fixtures exist when one is missing', () => {
    expect(() => fixture('no-such-event')).toThrow(
      /no event fixture test\/events\/no-such-event\.json \(there are: .*get-cat/,
    );
  });
});
