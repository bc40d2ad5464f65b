/**
 * Bulk data for tests that need a large table (query plans, scale). Loaded in
 * one set-based statement on a connection of its own, with no statement
 * timeout: the handlers' pool is sized and timed for API requests (5 s per
 * statement), and a load of 100,000 rows plus its index maintenance may take
 * longer than that on a busy machine.
 */
import pg from 'pg';
import { resources } from '../../lib/openapi/document.js';
import type { ResourceDoc } from '../../lib/openapi/operations.js';

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
 * Loads every resource's table with `count` rows, each from its description's
 * `bulkRow` (lib/openapi/document.ts lists them), a referenced resource
 * before the ones that name it. A reference column names row (i mod count)
 * of its target's load, whose ids one INSERT made consecutive.
 */
export function seedResources(databaseUrl: string, count: number): Promise<void> {
  if (!Number.isSafeInteger(count) || count < 1)
    throw new Error(`seedResources: count must be a positive integer, got ${count}`);
  return bulkLoad(
    databaseUrl,
    referencedFirst().map((resource) => {
      const columns: Record<string, string> = { ...resource.bulkRow };
      for (const [field, target] of Object.entries(resource.references ?? {})) {
        columns[field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] =
          `(SELECT min(id) FROM ${target.resource}) + (i % ${count})`;
      }
      return `INSERT INTO ${resource.listing.table} (${Object.keys(columns).join(', ')})
        SELECT ${Object.values(columns).join(', ')} FROM generate_series(1, ${count}) AS i`;
    }),
  );
}

/** The resources, each after the ones it references. */
export function referencedFirst(): ResourceDoc[] {
  const pending = resources.map((api) => api.resource);
  const ordered: ResourceDoc[] = [];
  while (pending.length > 0) {
    const next = pending.findIndex((resource) =>
      Object.values(resource.references ?? {}).every(
        (target) => target.resource === resource.plural || ordered.some((done) => done.plural === target.resource),
      ),
    );
    if (next < 0) throw new Error(`references in a cycle: ${pending.map((r) => r.plural).join(', ')}`);
    ordered.push(...pending.splice(next, 1));
  }
  return ordered;
}
