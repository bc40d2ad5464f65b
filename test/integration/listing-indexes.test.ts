/**
 * Every listing of every resource (as lib/openapi/document.ts lists them) is
 * backed by an index for each sort, order and filter, on the first page and
 * after a cursor: the plan reads rows in index order and stops after the
 * page, with no sequential scan and no sort. The planner is told to avoid
 * both where it can, so an empty table shows what a large one would get, and
 * a missing index shows up as a plan that still needs one. (For the cats,
 * listing-plans.test.ts also checks the plans on 100,000 rows.)
 */
import pg from 'pg';
import { db } from '../../lib/db/index.js';
import {
  type KeyType,
  type ListingSpec,
  type ListQuery,
  listingQuery,
  listValues,
  type Position,
} from '../../lib/listing.js';
import { resources } from '../../lib/openapi/document.js';

interface PlanNode {
  'Node Type': string;
  Plans?: PlanNode[];
}
const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];

let client: pg.Client;
beforeAll(async () => {
  client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  await client.query('SET enable_seqscan = off');
  await client.query('SET enable_sort = off');
});
afterAll(() => client.end());

/** A value the filter's own schema accepts, as the handler would get it after validation. */
function sampleValue(spec: ListingSpec, name: string): unknown {
  const filter = spec.filters[name];
  for (const candidate of ['1', 'x', '2026-01-01T00:00:00Z', '2026-01-01', 'true']) {
    const parsed = filter?.schema.safeParse(candidate);
    if (parsed?.success) return parsed.data;
  }
  throw new Error(`no sample value for the filter ${name}`);
}

const sampleKeys: Record<KeyType, string> = {
  integer: '1',
  text: 'x',
  timestamptz: '2026-01-01 00:00:00+00',
  date: '2026-01-01',
};

const cases = resources.flatMap(({ resource }) => {
  const spec = resource.listing;
  const filterSets = [[], ...Object.keys(spec.filters).map((name) => [name]), Object.keys(spec.filters)];
  return Object.entries(spec.sorts).flatMap(([sort, key]) =>
    (['asc', 'desc'] as const).flatMap((order) =>
      filterSets.flatMap((filters) =>
        [undefined, { key: sampleKeys[key.type], id: 1 }].map(
          (after?: Position) =>
            [
              `${spec.table} by ${sort} ${order}${filters.length ? `, filtered by ${filters.join(', ')}` : ''}${after ? ', after a cursor' : ''}`,
              spec,
              { limit: 20, sort, order, ...Object.fromEntries(filters.map((f) => [f, sampleValue(spec, f)])) },
              after,
            ] as const,
        ),
      ),
    ),
  );
});

it('covers the listing of every resource', () => {
  expect(cases.map(([, spec]) => spec.table)).toEqual(expect.arrayContaining(['cats']));
});

it.each(cases)('lists %s from an index, without a sequential scan or a sort', async (_label, spec, query, after) => {
  const { sql, parameters } = listingQuery(db(), spec, listValues(spec, query as ListQuery, after)).compile();
  const result = await client.query(`EXPLAIN (FORMAT JSON) ${sql}`, [...parameters]);
  const types = nodes(result.rows[0]['QUERY PLAN'][0].Plan).map((node) => node['Node Type']);
  expect(types).not.toContain('Seq Scan');
  expect(types).not.toContain('Sort');
  expect(types.some((type) => /^Index/.test(type))).toBe(true);
});
