/**
 * `npm run db:reset`, the one command that deletes the embedded database's
 * data folder: it needs a "yes" (asked, or `--yes`) and refuses while the
 * API runs on that folder.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
let dataRoot: string;

beforeEach(async () => {
  dataRoot = await mkdtemp(join(tmpdir(), 'cats-reset-'));
  mkdirSync(join(dataRoot, 'postgres'));
  writeFileSync(join(dataRoot, 'postgres', 'PG_VERSION'), '17\n');
});

afterEach(async () => {
  await rm(dataRoot, { recursive: true, force: true });
});

function reset(...args: string[]) {
  // Standard input is not a terminal here, as in CI or a pipe: no one to ask.
  return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/db-reset.ts', ...args], {
    cwd: root,
    env: { ...process.env, CATS_DATA_DIR: dataRoot, NODE_OPTIONS: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
    input: 'yes\n',
    encoding: 'utf8',
  });
}

it('refuses without --yes when it cannot ask, and deletes nothing', () => {
  const run = reset();
  expect(run.status).toBe(1);
  expect(run.stderr).toContain('npm run db:reset -- --yes');
  expect(existsSync(join(dataRoot, 'postgres', 'PG_VERSION'))).toBe(true);
});

it('refuses while npm start runs on the folder, even with --yes', () => {
  writeFileSync(join(dataRoot, 'start.lock'), JSON.stringify({ pid: process.pid, port: 1 }));
  const run = reset('--yes');
  expect(run.status).toBe(1);
  expect(run.stderr).toContain(`npm start is running on ${dataRoot} (pid ${process.pid})`);
  expect(existsSync(join(dataRoot, 'postgres', 'PG_VERSION'))).toBe(true);
});

it('deletes the database folder with --yes and nothing else in the data folder', () => {
  writeFileSync(join(dataRoot, 'notes.txt'), 'mine');
  const run = reset('--yes');
  expect(run.status).toBe(0);
  expect(run.stdout).toContain(`Deleted ${join(dataRoot, 'postgres')}`);
  expect(existsSync(join(dataRoot, 'postgres'))).toBe(false);
  expect(existsSync(join(dataRoot, 'notes.txt'))).toBe(true);
});
