/**
 * Every sort and filter combination of GET /cats is an index scan, for the
 * first page and for a deep page, on a table large enough that PostgreSQL
 * would rather scan it whole if no index fitted. Uses a database of its own.
 */
import { CompiledQuery } from 'kysely';
import { type ListOptions, listCatsQuery } from '../../lib/cats/repository.js';
import { sortKeys } from '../../lib/cats/schema.js';
import { db } from '../../lib/db/index.js';
import { seedCats } from '../support/bulk-data.js';
import { useScratchDatabase } from '../support/scratch-database.js';

const databaseUrl = useScratchDatabase('cats_plans');

beforeAll(() => seedCats(databaseUrl(), 100000), 120000);

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

async function plan(options: ListOptions): Promise<PlanNode[]> {
  const query = listCatsQuery(db(), options).compile();
  const explained = await db().executeQuery<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
    CompiledQuery.raw(`EXPLAIN (FORMAT JSON) ${query.sql}`, [...query.parameters]),
  );
  const root = explained.rows[0]?.['QUERY PLAN'][0].Plan;
  if (!root) throw new Error('no plan');
  return nodes(root);
}

const filters: Array<[string, Partial<ListOptions>]> = [
  ['no filter', {}],
  ['breed', { breed: 'breed 7' }],
  ['price range', { minPrice: 100, maxPrice: 5000 }],
  ['breed and price range', { breed: 'breed 7', minPrice: 100, maxPrice: 5000 }],
  ['name prefix', { name: 'cat ab' }],
];
const deepKeys = { id: '50000', name: 'cat 8', price: '50000', createdAt: '2026-01-01 00:00:00+00' } as const;

const combinations = sortKeys.flatMap((sort) =>
  (['asc', 'desc'] as const).flatMap((order) =>
    filters.flatMap(([label, filter]) =>
      [false, true].map(
        (deep) =>
          [`${sort} ${order}, ${label}, ${deep ? 'deep page' : 'first page'}`, sort, order, filter, deep] as const,
      ),
    ),
  ),
);

it.each(combinations)('lists %s with index scans only', async (_label, sort, order, filter, deep) => {
  const options: ListOptions = {
    limit: 20,
    sort,
    order,
    ...filter,
    ...(deep ? { after: { key: deepKeys[sort], id: 50000 } } : {}),
  };
  const planNodes = await plan(options);
  const types = planNodes.map((n) => n['Node Type']);
  expect(types).not.toContain('Seq Scan');
  expect(types.some((t) => /Index|Bitmap/.test(t))).toBe(true);
});
