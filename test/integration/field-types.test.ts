/**
 * A resource unlike the cats (issue 21): a calendar day in a `date` column
 * and a flag in a `boolean` one, written and read through the API's own pool,
 * listed by the day with keyset cursors and filtered by the flag and the day.
 * A table of this test's own, in a database of its own.
 */
import { sql } from 'kysely';
import pg from 'pg';
import { db } from '../../lib/db/index.js';
import { booleanParameter, date } from '../../lib/fields.js';
import {
  keysetListing,
  type ListingSpec,
  type ListQuery,
  listingQuery,
  listQuerySchema,
  listValues,
} from '../../lib/listing.js';
import { rowToJson } from '../../lib/rows.js';
import { useScratchDatabase } from '../support/scratch-database.js';

const ownerUrl = useScratchDatabase('cats_field_types');

interface VisitRow {
  id: number;
  visited_on: string;
  paid: boolean;
}

const spec = {
  table: 'visits',
  sorts: { id: { column: 'id', type: 'integer' }, visitedOn: { column: 'visited_on', type: 'date' } },
  filters: {
    paid: { column: 'paid', operator: 'equals', schema: booleanParameter(), description: 'Paid or not.' },
    from: { column: 'visited_on', operator: 'atLeast', schema: date(), description: 'On or after this day.' },
  },
  defaultPageSize: 20,
  maxPageSize: 100,
} as unknown as ListingSpec;
const querySchema = listQuerySchema(spec);
const listVisits = keysetListing(spec, (row: VisitRow) => rowToJson(row));
const anyDb = () => db() as unknown as import('kysely').Kysely<any>;

// Days either side of midnight in every time zone, a leap day, the ends of
// the range, and repeats so that the sort meets ties.
const days = ['2026-03-01', '2024-02-29', '0001-01-01', '9999-12-31', '2026-03-01', '1969-12-31', '2026-02-28'];

describe('a date and a boolean column', () => {
  // West of UTC, where a day read as a Date at local midnight is the day before in UTC.
  const zone = process.env.TZ;
  afterAll(() => {
    process.env.TZ = zone;
  });

  beforeAll(async () => {
    process.env.TZ = 'America/Los_Angeles';
    const owner = new pg.Client({ connectionString: ownerUrl() });
    await owner.connect();
    try {
      await owner.query(`
        CREATE TABLE visits (id serial PRIMARY KEY, visited_on date NOT NULL, paid boolean NOT NULL);
        CREATE INDEX visits_visited_on_id_idx ON visits (visited_on, id);
        CREATE INDEX visits_paid_id_idx ON visits (paid, id);
        CREATE INDEX visits_paid_visited_on_id_idx ON visits (paid, visited_on, id);`);
    } finally {
      await owner.end();
    }
    await anyDb()
      .insertInto('visits')
      .values(days.map((day, i) => ({ visited_on: day, paid: i % 2 === 0 })))
      .execute();
  });

  it('reads a day back through the pool as the same YYYY-MM-DD text, whatever the time zone, and a flag as a boolean', async () => {
    const rows = await anyDb().selectFrom('visits').selectAll().orderBy('id').execute();
    expect(rows.map((row) => row.visited_on)).toEqual(days);
    expect(rows.map((row) => row.paid)).toEqual(days.map((_, i) => i % 2 === 0));
    expect(rowToJson(rows[0] as VisitRow)).toEqual({ id: 1, visitedOn: '2026-03-01', paid: true });
  });

  it('leaves pg.types, which other code that imports pg shares, as it was', () => {
    expect(pg.types.getTypeParser(1082, 'text')('2026-03-01')).toBeInstanceOf(Date);
  });

  async function allPages(query: Record<string, string>): Promise<Array<{ id: number; visitedOn: string }>> {
    const items: Array<{ id: number; visitedOn: string }> = [];
    let cursor: string | null = null;
    do {
      const parsed = querySchema.parse({ ...query, limit: '2', ...(cursor ? { cursor } : {}) });
      const page = await listVisits(db(), parsed);
      items.push(...(page.items as Array<{ id: number; visitedOn: string }>));
      cursor = page.nextCursor;
    } while (cursor !== null);
    return items;
  }

  it.each(['asc', 'desc'] as const)(
    'pages through sorted by the day %s, ties broken by id, as the database orders them',
    async (order) => {
      const items = await allPages({ sort: 'visitedOn', order });
      const direction = sql.raw(order === 'desc' ? 'DESC' : 'ASC');
      const { rows } = await sql<{ id: number }>`SELECT id FROM visits
        ORDER BY visited_on ${direction}, id ${direction}`.execute(db());
      expect(items.map((item) => item.id)).toEqual(rows.map((row) => row.id));
      expect(items.every((item) => /^\d{4}-\d\d-\d\d$/.test(item.visitedOn))).toBe(true);
    },
  );

  it('filters by a boolean sent as the query word false, and by a day as a lower bound', async () => {
    const unpaid = await allPages({ paid: 'false' });
    expect(unpaid.map((item) => item.id)).toEqual([2, 4, 6]);
    const recent = await allPages({ sort: 'visitedOn', from: '2026-02-28', paid: 'true' });
    expect(recent.map((item) => item.visitedOn)).toEqual(['2026-02-28', '2026-03-01', '2026-03-01']);
  });

  it('refuses a filter day that does not exist, and a flag that is not true or false, with a 400 naming it', () => {
    const issues = (query: Record<string, string>) =>
      querySchema.safeParse(query).error?.issues.map((issue) => [issue.path.join('.'), issue.message]);
    expect(issues({ from: '2026-02-30' })).toEqual([
      ['from', 'must be a date as YYYY-MM-DD, a day that exists, from 0001-01-01 to 9999-12-31'],
    ]);
    expect(issues({ paid: '1' })).toEqual([['paid', 'must be true or false']]);
  });

  it('reads a page after a date cursor from the index, without a sequential scan or a sort', async () => {
    const query = querySchema.parse({ sort: 'visitedOn', order: 'desc', paid: 'true' }) as ListQuery;
    const compiled = listingQuery(db(), spec, listValues(spec, query, { key: '2026-03-01', id: 5 })).compile();
    const client = new pg.Client({ connectionString: ownerUrl() });
    await client.connect();
    try {
      await client.query('SET enable_seqscan = off');
      await client.query('SET enable_sort = off');
      const result = await client.query(`EXPLAIN (FORMAT JSON) ${compiled.sql}`, [...compiled.parameters]);
      const plan = JSON.stringify(result.rows[0]['QUERY PLAN']);
      expect(plan).toContain('visits_paid_visited_on_id_idx');
      expect(plan).not.toMatch(/"Seq Scan"|"Node Type":"Sort"/);
    } finally {
      await client.end();
    }
  });
});
