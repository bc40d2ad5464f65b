/**
 * `npm start` keeps serving while other commands build in the same checkout:
 * `npx sls package` (and `npm test`, `npm run bench`, which package too)
 * deletes serverless-esbuild's default work folder when it is done, so
 * `npm start` builds in a folder of its own.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { packagingLock } from '../deploy/template.js';
import { type ApiProcess, apiTimeoutMs, request, startApi } from '../support/api-process.js';
import { createScratchDatabase, dropScratchDatabase } from '../support/test-database.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const sls = createRequire(import.meta.url).resolve('serverless/bin/serverless.js');
const server = process.env.CATS_TEST_SERVER_URL ?? '';
let folder: string;
let databaseUrl: string;
let api: ApiProcess;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cats-side-by-side-'));
  databaseUrl = await createScratchDatabase(server, 'cats_side');
  api = await startApi({ dataDir: join(folder, 'data'), databaseUrl });
  expect(api.output()).toContain('[cats-api] Ready:');
}, apiTimeoutMs);

afterAll(async () => {
  await api?.stop();
  await dropScratchDatabase(server, databaseUrl);
  await rm(folder, { recursive: true, force: true });
}, apiTimeoutMs);

it(
  'keeps answering, on routes not called before too, after `sls package` ran in the same checkout',
  async () => {
    expect((await request(api.baseUrl, 'GET', '/cats')).status).toBe(200);

    // As a user types it: the default work folder, the environment of a shell.
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
    delete env.CATS_ESBUILD_WORK_FOLDER;
    // One packaging of the checkout at a time (test/deploy/template.ts), and
    // no stdin: nothing in a test answers a prompt.
    const unlock = await packagingLock();
    try {
      const running = promisify(execFile)(
        process.execPath,
        [sls, 'package', '--stage', 'dev', '--package', join(folder, 'pkg')],
        { cwd: root, env, timeout: 180000 }, // a packaging takes under a minute: only a stall exceeds it
      );
      running.child.stdin?.end();
      await running;
    } finally {
      await unlock();
    }

    // createCat's first call: serverless-offline loads its bundle only now.
    const created = await request(api.baseUrl, 'POST', '/cats', { name: 'Side', price: 1, breed: 'side-by-side' });
    expect(created.status).toBe(201);
    expect((await request(api.baseUrl, 'GET', `/cats/${created.body.id}`)).body).toEqual(created.body);
    expect(api.child.exitCode).toBeNull();
  },
  apiTimeoutMs,
);
