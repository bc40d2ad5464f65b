/**
 * Bulk data for tests that need a large table (query plans, scale). Loaded in
 * one set-based statement on a connection of its own, with no statement
 * timeout: the handlers' pool is sized and timed for API requests (5 s per
 * statement), and a load of 100,000 rows plus its index maintenance may take
 * longer than that on a busy machine.
 */
import pg from 'pg';

/** Runs `statements` in order on a fresh connection to `databaseUrl`, without a statement timeout, then ANALYZEs. */
export async function bulkLoad(databaseUrl: string, statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'cats-test-bulk-load' });
  await client.connect();
  try {
    await client.query('SET statement_timeout = 0');
    for (const statement of statements) await client.query(statement);
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}

/**
 * `count` cats with distinct names (md5), 100,000 distinct prices, 50 breeds
 * and one creation time per second going back from now.
 */
export function seedCats(databaseUrl: string, count: number): Promise<void> {
  if (!Number.isSafeInteger(count) || count < 1)
    throw new Error(`seedCats: count must be a positive integer, got ${count}`);
  return bulkLoad(databaseUrl, [
    `INSERT INTO cats (name, price, breed, created_at)
     SELECT 'cat ' || md5(i::text), (i * 7919) % 100000, 'breed ' || (i % 50), now() - i * interval '1 second'
     FROM generate_series(1, ${count}) AS i`,
  ]);
}
