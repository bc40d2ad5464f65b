import { closeDatabase, db } from '../../lib/db/index.js';
import { migrateToLatest } from '../../lib/db/migrations.js';
import { createScratchDatabase, dropScratchDatabase } from './test-database.js';

/**
 * Gives the calling test file a migrated database of its own and makes it the
 * handlers' database (DATABASE_URL), for tests that count or fill rows and
 * must not disturb, or be disturbed by, the other files: Jest runs files in
 * parallel on any machine with 3 or more cores, so a file that writes and
 * then compares a whole table needs one. A clone of the global setup's
 * migrated template. Returns its URL.
 */
export function useScratchDatabase(prefix: string): () => string {
  const server = process.env.CATS_TEST_SERVER_URL ?? '';
  const shared = process.env.DATABASE_URL;
  let url = '';
  beforeAll(async () => {
    url = await createScratchDatabase(server, prefix, process.env.CATS_TEST_TEMPLATE);
    await closeDatabase();
    process.env.DATABASE_URL = url;
    await migrateToLatest(db() as never);
  });
  afterAll(async () => {
    await closeDatabase();
    process.env.DATABASE_URL = shared;
    await dropScratchDatabase(server, url);
  });
  return () => url;
}
