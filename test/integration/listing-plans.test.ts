/**
 * Every sort and filter combination of every resource's listing (as
 * lib/openapi/document.ts lists them) is an index scan, for the first page
 * and for a deep page, on tables large enough that PostgreSQL would rather
 * scan them whole if no index fitted. The filter values and the deep pages'
 * positions are read from the loaded rows, so a new resource needs nothing
 * here. Uses a database of its own.
 */
import { CompiledQuery, sql } from 'kysely';
import { db } from '../../lib/db/index.js';
import { type ListingSpec, type ListQuery, listingQuery, listValues, type Position } from '../../lib/listing.js';
import { resources } from '../../lib/openapi/document.js';
import { seedResources } from '../support/bulk-data.js';
import { useScratchDatabase } from '../support/scratch-database.js';

const rows = 100000;
const databaseUrl = useScratchDatabase('cats_plans');

beforeAll(() => seedResources(databaseUrl(), rows), 180000);

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

async function plan(spec: ListingSpec, query: ListQuery, after?: Position): Promise<PlanNode[]> {
  const compiled = listingQuery(db(), spec, listValues(spec, query, after)).compile();
  const explained = await db().executeQuery<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
    CompiledQuery.raw(`EXPLAIN (FORMAT JSON) ${compiled.sql}`, [...compiled.parameters]),
  );
  const root = explained.rows[0]?.['QUERY PLAN'][0].Plan;
  if (!root) throw new Error('no plan');
  return nodes(root);
}

/** The value of `column` at this fraction of the table in its order. */
async function valueAt(table: string, column: string, fraction: number): Promise<unknown> {
  const { rows: found } = await sql<{ value: unknown }>`SELECT ${sql.ref(column)} AS value FROM ${sql.table(table)}
    ORDER BY ${sql.ref(column)}, id OFFSET ${Math.floor(rows * fraction)} LIMIT 1`.execute(db());
  return found[0]?.value;
}

/** A filter value that selects some of the loaded rows: an equal value, a prefix, a low bound or a high one. */
async function filterValue(spec: ListingSpec, name: string): Promise<unknown> {
  const filter = spec.filters[name];
  if (!filter) throw new Error(`no filter ${name}`);
  if (filter.operator === 'atLeast') return valueAt(spec.table, filter.column, 0.01);
  if (filter.operator === 'atMost') return valueAt(spec.table, filter.column, 0.05);
  const value = await valueAt(spec.table, filter.column, 0.5);
  return filter.operator === 'startsWith' ? String(value).slice(0, 6) : value;
}

/** The position halfway through the table in this sort, as a cursor holds it. */
async function middle(spec: ListingSpec, sort: string): Promise<Position> {
  const column = spec.sorts[sort]?.column ?? 'id';
  const { rows: found } = await sql<{ key: string; id: number }>`SELECT ${sql.ref(column)}::text AS key, id
    FROM ${sql.table(spec.table)} ORDER BY ${sql.ref(column)}, id OFFSET ${rows / 2} LIMIT 1`.execute(db());
  const position = found[0];
  if (!position) throw new Error(`${spec.table} is empty`);
  return position;
}

const combinations = resources.flatMap(({ resource: { listing: spec } }) => {
  const names = Object.keys(spec.filters);
  const filterSets = [[], ...names.map((name) => [name]), ...(names.length > 1 ? [names] : [])];
  return Object.keys(spec.sorts).flatMap((sort) =>
    (['asc', 'desc'] as const).flatMap((order) =>
      filterSets.flatMap((filters) =>
        [false, true].map(
          (deep) =>
            [
              `${spec.table} by ${sort} ${order}, ${filters.length ? filters.join(' and ') : 'no filter'}, ${deep ? 'deep page' : 'first page'}`,
              spec,
              sort,
              order,
              filters,
              deep,
            ] as const,
        ),
      ),
    ),
  );
});

it('covers the listing of every resource', () => {
  expect(new Set(combinations.map(([, spec]) => spec.table))).toEqual(
    new Set(resources.map(({ resource }) => resource.listing.table)),
  );
});

it.each(combinations)('lists %s with index scans only', async (_label, spec, sort, order, filters, deep) => {
  const values = Object.fromEntries(await Promise.all(filters.map(async (f) => [f, await filterValue(spec, f)])));
  const query = { limit: 20, sort, order, ...values } as ListQuery;
  const planNodes = await plan(spec, query, deep ? await middle(spec, sort) : undefined);
  const types = planNodes.map((n) => n['Node Type']);
  expect(types).not.toContain('Seq Scan');
  expect(types.some((t) => /Index|Bitmap/.test(t))).toBe(true);
});
