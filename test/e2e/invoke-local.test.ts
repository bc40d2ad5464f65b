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
import { apiTimeoutMs } from '../support/api-process.js';
import { createScratchDatabase, dropScratchDatabase } from '../support/test-database.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const sls = createRequire(import.meta.url).resolve('serverless/bin/serverless.js');
const server = process.env.CATS_TEST_SERVER_URL ?? '';
/** The databases the tests made; each test makes its own, so none depends on another having run. */
const made: string[] = [];
async function newDatabase(migrated: boolean): Promise<string> {
  const url = await createScratchDatabase(server, 'cats_invoke', migrated ? process.env.CATS_TEST_TEMPLATE : undefined);
  made.push(url);
  return url;
}
// Its own build folder: the default one (.esbuild) is deleted by any
// `sls package` that finishes meanwhile (another test, a user's command).
const workFolder = `.esbuild-invoke-${process.pid}`;

async function invokeLocal(databaseUrl: string, ...args: string[]): Promise<string> {
  const running = promisify(execFile)(process.execPath, [sls, 'invoke', 'local', ...args], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      NODE_OPTIONS: '',
      POWERTOOLS_LOG_LEVEL: 'WARN',
      CATS_ESBUILD_WORK_FOLDER: workFolder,
    },
    timeout: apiTimeoutMs,
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

afterAll(async () => {
  for (const url of made) await dropScratchDatabase(server, url);
  await rm(join(root, workFolder), { recursive: true, force: true });
});

it(
  'runs the migrate function against the configured database, then finds nothing to apply',
  async () => {
    const empty = await newDatabase(false);
    expect(result(await invokeLocal(empty, '-f', 'migrate')).applied).toEqual(Object.keys(migrations).sort());
    expect(result(await invokeLocal(empty, '-f', 'migrate'))).toEqual({ applied: [] });
  },
  apiTimeoutMs,
);

it(
  'runs a route function with a fixture event and prints its API Gateway response',
  async () => {
    // A migrated database with no cat yet: the create fixture's cat gets id 1, the one the get fixture names.
    const migrated = await newDatabase(true);
    const created = result(await invokeLocal(migrated, '-f', 'createCat', '--path', 'test/events/create-cat.json'));
    expect(created.statusCode).toBe(201);
    expect(JSON.parse(created.body)).toMatchObject({ id: 1, name: 'catty mcCatFace' });
    const fetched = result(await invokeLocal(migrated, '-f', 'getCat', '--path', 'test/events/get-cat.json'));
    expect(fetched.statusCode).toBe(200);
    expect(JSON.parse(fetched.body).id).toBe(1);
  },
  apiTimeoutMs,
);
