/**
 * `npm run db:reset`: deletes the embedded database's data folder
 * (CATS_DATA_DIR/postgres, by default .data/postgres), so the next
 * `npm start` begins with an empty database. The only script that ever
 * deletes it: it asks first (or takes `--yes`), and refuses while `npm start`
 * or its PostgreSQL still runs on that folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';

const dataRoot = resolve(process.env.CATS_DATA_DIR ?? '.data');
const dataDir = resolve(dataRoot, 'postgres');
const say = (line: string) => console.log(`[cats-api] ${line}`);
const refuse = (line: string): never => {
  console.error(`[cats-api] ${line}`);
  process.exit(1);
};

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

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

if (!existsSync(dataDir)) {
  say(`Nothing to reset: ${dataDir} does not exist.`);
  process.exit(0);
}
const api = runningPid(resolve(dataRoot, 'start.lock'));
if (api) refuse(`npm start is running on ${dataRoot} (pid ${api}). Stop it (Ctrl-C) first.`);
const postgres = runningPid(resolve(dataDir, 'postmaster.pid'));
if (postgres) refuse(`A PostgreSQL server is still running on ${dataDir} (pid ${postgres}). Stop it first.`);

if (!process.argv.includes('--yes')) {
  if (!process.stdin.isTTY) {
    refuse(`This deletes every cat in ${dataDir}. To do it, run: npm run db:reset -- --yes`);
  }
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  const answer = await prompt.question(`Delete the database in ${dataDir}, with every cat in it? Type "yes": `);
  prompt.close();
  if (answer.trim() !== 'yes') refuse('Nothing deleted.');
}
await rm(dataDir, { recursive: true, force: true });
say(`Deleted ${dataDir}. The next npm start creates an empty database.`);
