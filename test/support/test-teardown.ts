import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { dropScratchDatabase } from './test-database.js';
import type { TestDatabaseState } from './test-setup.js';

export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as { __catsTestDatabase?: TestDatabaseState }).__catsTestDatabase;
  if (!state) return;
  if (state.local) {
    await state.local.stop();
    await rm(dirname(state.local.dataDir), { recursive: true, force: true });
  } else {
    await dropScratchDatabase(state.serverUrl, state.databaseUrl);
    await dropScratchDatabase(state.serverUrl, state.templateUrl);
  }
}
