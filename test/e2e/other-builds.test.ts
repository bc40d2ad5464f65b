/**
 * Issue 20: `npm test -- --maxWorkers=4` left a request unanswered for 300 s
 * (contract fuzz, PATCH /edit/{id}), and before that, with the emulator's
 * timeout on, requests failed with "[504] Lambda timeout".
 *
 * The cause: serverless-esbuild watched every .js and .ts file of the checkout
 * (its default pattern, ./**\/*.(js|ts)), the other `npm start`s' bundle
 * folders (.esbuild-start-*) included. Each API a test started in the same
 * checkout wrote its bundles there, so every API already running rebuilt, and
 * on a rebuild serverless-offline terminates every container's worker thread,
 * busy ones too: the request a busy one was running never gets an answer.
 *
 * Here a request is held in flight (a row lock the test holds) while bundles
 * are written into a folder of the checkout the way another `npm start` does.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { request, useApi } from '../support/api-process.js';
import { root } from '../support/bundle.js';

// A lock may be waited on longer than the default 5 s, within the emulator's 15 s Lambda timeout.
const e2e = useApi('cats_other_builds', { env: { DB_STATEMENT_TIMEOUT_MS: '12000' } });
/** Where the stand-in for another `npm start` writes its bundles. */
const otherBuild = join(root, `.esbuild-start-test-${process.pid}`);

afterAll(() => rmSync(otherBuild, { recursive: true, force: true }));

/** Resolves once the API's connection waits for a lock: its request is then in flight in a container. */
async function waitingOnLock(): Promise<void> {
  for (;;) {
    const { rowCount } = await (await e2e.ownerClient()).query(
      "SELECT 1 FROM pg_stat_activity WHERE application_name = 'cats-api' AND wait_event_type = 'Lock'",
    );
    if (rowCount) return;
    await new Promise((again) => setTimeout(again, 50));
  }
}

it('answers a request in flight while another npm start writes its bundles into the checkout', async () => {
  const created = await request(e2e.api.baseUrl, 'POST', '/cats', {
    name: 'Held',
    price: 1,
    breed: 'e2e-other-builds',
  });
  expect(created.status).toBe(201);
  const id = created.body.id as number;

  // A connection of its own: pg_stat_activity, read inside a transaction, would not change.
  const locker = new pg.Client({ connectionString: e2e.ownerUrl });
  await locker.connect();
  await locker.query('BEGIN');
  await locker.query('SELECT 1 FROM cats WHERE id = $1 FOR UPDATE', [id]);
  const changed = request(e2e.api.baseUrl, 'PATCH', `/cats/${id}`, { name: 'Released' });
  try {
    await waitingOnLock();
    // What serverless-esbuild writes for another API: a bundle and its map.
    mkdirSync(join(otherBuild, '.build', 'functions'), { recursive: true });
    writeFileSync(join(otherBuild, '.build', 'functions', 'get-cat.js'), 'export const handler = () => {};\n');
    writeFileSync(join(otherBuild, '.build', 'functions', 'get-cat.js.map'), '{}\n');
    // A rebuild set off by those files took 1-3 s here; the request waits
    // on the lock well past that, below its lock timeout (12 s).
    await new Promise((later) => setTimeout(later, 6000));
  } finally {
    await locker.query('COMMIT');
    await locker.end();
  }
  const answer = await changed;
  expect(answer.status).toBe(200);
  expect(answer.body.name).toBe('Released');
});
