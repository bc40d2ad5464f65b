/**
 * The migration function: applies pending migrations to the configured
 * database and returns their names. Invoked by hand
 * (`npx sls invoke [local] -f migrate`) or after a deploy; a failure throws,
 * so the invocation fails loudly instead of reporting success.
 */
import type { Kysely } from 'kysely';
import { getDatabase } from '../lib/db/index.js';
import { type MigrationReport, migrateToLatest } from '../lib/db/migrations.js';
import { logger } from '../lib/logger.js';

export const handler = async (): Promise<MigrationReport> => {
  // Without the request time budget: a run's statements may add up to more.
  const report = await migrateToLatest(getDatabase().unbudgeted() as Kysely<unknown>);
  logger.info('migrations applied', { applied: report.applied });
  return report;
};
