/**
 * `npx sls invoke local` with the event fixtures kept in test/events: the way
 * a developer runs one function by hand.
 */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { migrations } from '../../lib/db/migrations.js';
import { applicationUrl } from '../../scripts/local-db.js';
import { createScratchDatabase, dropScratchDatabase } from '../support/test-database.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const sls = createRequire(import.meta.url).resolve('serverless/bin/serverless.js');
const server = process.env.CATS_TEST_SERVER_URL ?? '';
let databaseUrl: string;
// Its own build folder: the default one (.esbuild) is deleted by any
// `sls package` that finishes meanwhile (another test, a user's command).
const workFolder = `.esbuild-invoke-${process.pid}`;

/** The owner migrates; the route functions run as the API's role, as deployed. */
async function invokeLocal(...args: string[]): Promise<string> {
  const running = promisify(execFile)(process.execPath, [sls, 'invoke', 'local', ...args], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: args.includes('migrate') ? databaseUrl : await applicationUrl(databaseUrl),
      NODE_OPTIONS: '',
      POWERTOOLS_LOG_LEVEL: 'WARN',
      CATS_ESBUILD_WORK_FOLDER: workFolder,
    },
    timeout: 60000,
  });
  // Without a terminal, `invoke local` reads the event from standard input
  // until it closes.
  running.child.stdin?.end();
  return (await running).stdout;
}

/** The last JSON document printed: what the function returned. */
function result(stdout: string): any {
  return JSON.parse(stdout.slice(stdout.lastIndexOf('\n{') + 1));
}

beforeAll(async () => {
  databaseUrl = await createScratchDatabase(server, 'cats_invoke');
});

afterAll(async () => {
  await dropScratchDatabase(server, databaseUrl);
  await rm(join(root, workFolder), { recursive: true, force: true });
});

it('runs the migrate function against the configured database, then finds nothing to apply', async () => {
  expect(result(await invokeLocal('-f', 'migrate')).applied).toEqual(Object.keys(migrations).sort());
  expect(result(await invokeLocal('-f', 'migrate'))).toEqual({ applied: [] });
}, 90000);

it('runs a route function with a fixture event and prints its API Gateway response', async () => {
  const created = result(await invokeLocal('-f', 'createCat', '--path', 'test/events/create-cat.json'));
  expect(created.statusCode).toBe(201);
  expect(JSON.parse(created.body)).toMatchObject({ id: 1, name: 'catty mcCatFace' });
  const fetched = result(await invokeLocal('-f', 'getCat', '--path', 'test/events/get-cat.json'));
  expect(fetched.statusCode).toBe(200);
  expect(JSON.parse(fetched.body).id).toBe(1);
}, 90000);
