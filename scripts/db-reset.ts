/**
 * `npm run db:reset`: deletes the embedded database's data folder
 * (CATS_DATA_DIR/postgres, by default .data/postgres; run as root, possibly a
 * link to the cluster's folder under /var/lib/cats-api, which goes too), so
 * the next `npm start` begins with an empty database. The only script that
 * ever deletes it: it asks first (or takes `--yes`), and refuses while
 * `npm start` or its PostgreSQL still runs on that folder.
 */
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { clusterDirOf, isAlive, removeCluster } from './local-db.js';

const dataRoot = resolve(process.env.CATS_DATA_DIR ?? '.data');
const dataDir = resolve(dataRoot, 'postgres');
const clusterDir = clusterDirOf(dataDir);
const shown = clusterDir === dataDir ? dataDir : `${clusterDir} (linked from ${dataDir})`;
const say = (line: string) => console.log(`[cats-api] ${line}`);
const refuse = (line: string): never => {
  console.error(`[cats-api] ${line}`);
  process.exit(1);
};

/** The pid in the first line (postmaster.pid) or the `pid` field (start.lock), if that process runs. */
function runningPid(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  let pid: number;
  try {
    pid = Number((JSON.parse(text) as { pid?: unknown }).pid);
  } catch {
    pid = Number(text.split('\n')[0]);
  }
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

const present = (path: string) => {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
};

if (!present(dataDir)) {
  say(`Nothing to reset: ${dataDir} does not exist.`);
  process.exit(0);
}
const api = runningPid(resolve(dataRoot, 'start.lock'));
if (api) refuse(`npm start is running on ${dataRoot} (pid ${api}). Stop it (Ctrl-C) first.`);
const postgres = runningPid(resolve(clusterDir, 'postmaster.pid'));
if (postgres) refuse(`A PostgreSQL server is still running on ${clusterDir} (pid ${postgres}). Stop it first.`);

if (!process.argv.includes('--yes')) {
  if (!process.stdin.isTTY) {
    refuse(`This deletes every cat in ${shown}. To do it, run: npm run db:reset -- --yes`);
  }
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  const answer = await prompt.question(`Delete the database in ${shown}, with every cat in it? Type "yes": `);
  prompt.close();
  if (answer.trim() !== 'yes') refuse('Nothing deleted.');
}
const deleted = await removeCluster(dataDir);
say(
  `Deleted ${deleted === dataDir ? dataDir : `${deleted} and the link ${dataDir}`}. The next npm start creates an empty database.`,
);
