/**
 * What fails in a bundle fails in the tests run from the sources too: the
 * Kysely builders esbuild-plugins.cjs leaves out of every function throw the
 * same error here (test/support/kysely-resolver.cjs applies the stubs), so
 * code that calls one fails `npm test`, not first a deployed function.
 */
import { Kysely, PostgresDialect } from 'kysely';
import { leftOutCalls, probeBody } from '../support/kysely-probe.js';

const fromSources = new Function('Kysely', 'PostgresDialect', `${probeBody}\nreturn thrown;`)(
  Kysely,
  PostgresDialect,
) as Record<string, string>;

describe('Kysely builders left out of the bundles, run from the sources', () => {
  it('throw the error a bundle throws, naming esbuild-plugins.cjs and the method', () => {
    const leftOut =
      /^\w+ is left out of every function bundle \(esbuild-plugins\.cjs\): no function uses .+; take it off the list there to use it$/;
    for (const call of leftOutCalls) {
      expect({ call, thrown: fromSources[call] }).toEqual({ call, thrown: expect.stringMatching(leftOut) });
    }
  });

  it('leave queries, the schema module (the migrations need it) and plain function calls working', () => {
    expect(fromSources['db.selectFrom()']).toBe('nothing');
    expect(fromSources["db.fn('lower')"]).toBe('nothing');
    expect(fromSources['db.schema.createTable()']).toBe('nothing');
    expect(fromSources['db.introspection']).toBe('nothing');
  });
});
