import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDatabaseSettings } from '../../lib/config.js';
import { createDatabase } from '../../lib/db/index.js';
import { migrateToLatest } from '../../lib/db/migrations.js';
import { freePort, type LocalDatabase, startLocalDatabase } from '../../scripts/local-db.js';
import { configuredServerUrl, createScratchDatabase } from './test-database.js';

export interface TestDatabaseState {
  /** A server on which tests may create and drop databases. */
  serverUrl: string;
  /** The migrated database the integration tests share. */
  databaseUrl: string;
  local?: LocalDatabase;
  /** A migrated database nobody connects to, which test files clone (createScratchDatabase). */
  templateUrl: string;
  /** True when the user configured the server (not the embedded one). */
  external: boolean;
}

declare global {
  var __catsTestDatabase: TestDatabaseState | undefined;
}

export default async function globalSetup(): Promise<void> {
  const configured = configuredServerUrl();
  let state: TestDatabaseState;
  if (configured) {
    state = {
      serverUrl: configured,
      databaseUrl: await createScratchDatabase(configured, 'cats_test'),
      templateUrl: await createScratchDatabase(configured, 'cats_template'),
      external: true,
    };
  } else {
    const dataDir = join(await mkdtemp(join(tmpdir(), 'cats-test-')), 'postgres');
    const local = await startLocalDatabase({
      dataDir,
      port: await freePort(),
      database: 'cats_test',
      persistent: false,
    });
    const serverUrl = local.url.replace(/\/cats_test$/, '/postgres');
    state = {
      serverUrl,
      databaseUrl: local.url,
      templateUrl: await createScratchDatabase(serverUrl, 'cats_template'),
      local,
      external: false,
    };
  }
  globalThis.__catsTestDatabase = state;

  for (const url of [state.databaseUrl, state.templateUrl]) {
    const { db } = createDatabase(readDatabaseSettings({ DATABASE_URL: url }));
    await migrateToLatest(db as never);
    await db.destroy();
  }

  // Test workers inherit these: the handlers read DATABASE_URL like in Lambda.
  for (const name of ['POSTGRES_HOST', 'POSTGRES_PORT', 'POSTGRES_USER', 'POSTGRES_PASSWORD', 'POSTGRES_DB']) {
    delete process.env[name];
  }
  process.env.DATABASE_URL = state.databaseUrl;
  process.env.CATS_TEST_SERVER_URL = state.serverUrl;
  process.env.CATS_TEST_TEMPLATE = decodeURIComponent(new URL(state.templateUrl).pathname.slice(1));
  process.env.CATS_TEST_EXTERNAL = state.external ? '1' : '';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  // No metrics (EMF) lines on the test output; test/integration/metrics.test.ts turns them on.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
}
