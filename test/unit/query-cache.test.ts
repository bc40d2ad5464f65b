/**
 * Queries from the cache send exactly what building them anew sends: the same
 * SQL text and the same parameters in the same order, for every shape and on
 * every call, not only the first one of a shape. No database: a driver that
 * records each compiled query and answers one row.
 */
import fc from 'fast-check';
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  sql,
} from 'kysely';
import {
  deleteCat,
  findCat,
  insertCat,
  type ListOptions,
  listCats,
  listCatsQuery,
  updateCat,
} from '../../lib/cats/repository.js';
import { type CatPatch, sortKeys } from '../../lib/cats/schema.js';
import { cachedQuery } from '../../lib/db/query-cache.js';
import type { Database } from '../../lib/db/schema.js';
import { booleanParameter, date, integerParameter, text as textField } from '../../lib/fields.js';
import { keysetListing, type ListingSpec, listingShapes } from '../../lib/listing.js';
import { resources } from '../../lib/openapi/document.js';
import { useFuzzSeed } from '../support/fuzz-seed.js';

useFuzzSeed(import.meta.url);

const sent: Array<{ sql: string; parameters: readonly unknown[] }> = [];

const connection: DatabaseConnection = {
  async executeQuery<R>(query: CompiledQuery) {
    sent.push({ sql: query.sql, parameters: [...query.parameters] });
    return { rows: [{ id: 1, cursor_key: '1' } as R] };
  },
  // biome-ignore lint/correctness/useYield: never called
  async *streamQuery() {
    throw new Error('not used');
  },
};

const driver: Driver = {
  init: async () => {},
  acquireConnection: async () => connection,
  beginTransaction: async () => {},
  commitTransaction: async () => {},
  rollbackTransaction: async () => {},
  releaseConnection: async () => {},
  destroy: async () => {},
};

const db = new Kysely<Database>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => driver,
    createIntrospector: (kysely) => new PostgresIntrospector(kysely),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

async function lastSent(run: () => Promise<unknown>) {
  sent.length = 0;
  await run();
  expect(sent).toHaveLength(1);
  return sent[0];
}

const expected = (query: { compile(): CompiledQuery }) => {
  const { sql, parameters } = query.compile();
  return { sql, parameters: [...parameters] };
};

const text = fc.string({ minLength: 1, maxLength: 8 });
const int = fc.integer({ min: 0, max: 2147483647 });
const versions = fc.option(fc.array(fc.integer({ min: 1, max: 2147483647 }), { minLength: 1, maxLength: 8 }), {
  nil: undefined,
});

describe('cached queries', () => {
  it('list: every sort, order, cursor and filter combination', async () => {
    const options = fc.record(
      {
        limit: fc.integer({ min: 1, max: 100 }),
        sort: fc.constantFrom(...sortKeys),
        order: fc.constantFrom('asc' as const, 'desc' as const),
        after: fc.record({ key: text, id: fc.integer({ min: 1, max: 2147483647 }) }),
        breed: text,
        minPrice: int,
        maxPrice: int,
        name: fc.string({ maxLength: 8 }).map((s) => `${s}%_\\x`),
      },
      { requiredKeys: ['limit', 'sort', 'order'] },
    );
    await fc.assert(
      fc.asyncProperty(options, async (o: ListOptions) => {
        expect(await lastSent(() => listCats(db, o))).toEqual(expected(listCatsQuery(db, o)));
      }),
      { numRuns: 1000 },
    );
  });

  it('get, create and delete', async () => {
    await fc.assert(
      fc.asyncProperty(int, text, int, text, versions, async (id, name, price, breed, ifMatch) => {
        expect(await lastSent(() => findCat(db, id))).toEqual(
          expected(db.selectFrom('cats').selectAll().where('id', '=', id)),
        );
        expect(await lastSent(() => insertCat(db, { name, price, breed }))).toEqual(
          expected(db.insertInto('cats').values({ name, price, breed }).returningAll()),
        );
        let remove = db.deleteFrom('cats').where('id', '=', id);
        if (ifMatch) remove = remove.where('version', 'in', ifMatch);
        expect(await lastSent(() => deleteCat(db, id, ifMatch))).toEqual(expected(remove.returning('id')));
      }),
      { numRuns: 300 },
    );
  });

  it('patch: any fields, in any order, with or without If-Match versions', async () => {
    const field = fc.constantFrom('name', 'price', 'breed');
    const patch = fc
      .uniqueArray(fc.tuple(field, text, int), { minLength: 1, maxLength: 3, selector: ([f]) => f })
      .map((fields) => Object.fromEntries(fields.map(([f, s, n]) => [f, f === 'price' ? n : s])) as CatPatch);
    await fc.assert(
      fc.asyncProperty(int, patch, versions, async (id, p, ifMatch) => {
        let update = db
          .updateTable('cats')
          .set({ ...p, updated_at: sql<Date>`now()`, version: sql<number>`version + 1` })
          .where('id', '=', id);
        if (ifMatch) update = update.where('version', 'in', ifMatch);
        expect(await lastSent(() => updateCat(db, id, p, ifMatch))).toEqual(expected(update.returningAll()));
      }),
      { numRuns: 1000 },
    );
  });

  // Besides the API's listings, one with a filter of each kind lib/fields.ts
  // offers for a query, so a kind the sampler below cannot fill fails here,
  // not first when a resource uses it.
  const everyFilterKind: ListingSpec = {
    table: 'cats',
    sorts: { id: { column: 'id', type: 'integer' } },
    filters: {
      count: { column: 'price', operator: 'equals', schema: integerParameter(0, 9), description: 'An integer.' },
      word: { column: 'breed', operator: 'startsWith', schema: textField(10), description: 'A text.' },
      flag: { column: 'flag', operator: 'equals', schema: booleanParameter(), description: 'A flag.' },
      day: { column: 'day', operator: 'atLeast', schema: date(), description: 'A day.' },
    },
    defaultPageSize: 20,
    maxPageSize: 100,
  };
  it.each([
    ...resources.map(({ resource }) => [resource.listing.table, resource.listing] as const),
    ['every filter kind', everyFilterKind] as const,
  ])('keeps every shape of the %s listing: each sort, order, cursor and set of filters', async (_table, spec) => {
    const listing = keysetListing(spec, (row) => row);
    const filters = Object.keys(spec.filters);
    // A value each filter's schema accepts: an integer, a text, a flag or a day.
    const sample = (name: string) =>
      ['1', 'x', 'true', '2026-01-01'].map((v) => spec.filters[name]?.schema.safeParse(v)).find((r) => r?.success)
        ?.data;
    for (const sort of Object.keys(spec.sorts)) {
      for (const order of ['asc', 'desc'] as const) {
        for (let set = 0; set < 2 ** filters.length; set++) {
          const chosen = filters.filter((_, i) => set & (2 ** i));
          for (const limit of [1, 100]) {
            const query = { limit, sort, order, ...Object.fromEntries(chosen.map((f) => [f, sample(f)])) };
            await listing.rows(db, query);
            await listing.rows(db, query, { key: '1', id: 1 });
          }
        }
      }
    }
    expect(listing.shapes()).toEqual({ kept: listingShapes(spec), refused: 0 });
    expect(listingShapes(spec)).toBe(Object.keys(spec.sorts).length * 2 * 2 * 2 ** filters.length);
  });

  it('compiles a shape past its bound on every call, and counts it', async () => {
    const query = cachedQuery(
      (kysely, { id }: { id: number; name?: string }) => kysely.selectFrom('cats').selectAll().where('id', '=', id),
      [],
      {
        maxShapes: 1,
      },
    );
    await query(db, { id: 1 });
    await query(db, { id: 1, name: 'x' });
    await query(db, { id: 2, name: 'y' });
    expect(query.shapes()).toEqual({ kept: 1, refused: 2 });
  });

  it('refuses a builder that computes a parameter from a value', async () => {
    const query = cachedQuery((kysely, { limit }: { limit: number }) =>
      kysely
        .selectFrom('cats')
        .selectAll()
        .limit((limit as number) + 1),
    );
    await expect(query(db, { limit: 5 })).rejects.toThrow(/computed inside the builder/);
  });
});
