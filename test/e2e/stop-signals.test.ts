/**
 * Stopping `npm start` the way a script, a process manager or an IDE does:
 * one signal (SIGINT or SIGTERM) to the pid of the `npm start` process only,
 * not Ctrl-C in a terminal, which signals the whole process group. npm passes
 * the signal to its child; the package.json script `exec`s node so that the
 * child is scripts/start.ts itself, not a shell that would keep it. Afterwards
 * nothing it started runs: not serverless-offline, not the embedded
 * PostgreSQL, and the ports are free.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, removeCluster } from '../../scripts/local-db.js';
import { apiTimeoutMs, request, startApi } from '../support/api-process.js';
import { createScratchDatabase, dropScratchDatabase } from '../support/test-database.js';

const external = process.env.CATS_TEST_EXTERNAL === '1';
const server = process.env.CATS_TEST_SERVER_URL ?? '';
const folders: string[] = [];
const databases: string[] = [];

afterAll(async () => {
  for (const url of databases) await dropScratchDatabase(server, url);
  for (const folder of folders) {
    await removeCluster(join(folder, 'postgres'));
    await rm(folder, { recursive: true, force: true });
  }
}, apiTimeoutMs);

/** Every process below `pid`, with its command line (Linux /proc). */
function descendants(pid: number): { pid: number; command: string }[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
  return children.flatMap((child) => {
    let command = '';
    try {
      command = readFileSync(`/proc/${child}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      // Gone meanwhile.
    }
    return [{ pid: child, command }, ...descendants(child)];
  });
}

/** Still running: it exists and is not a zombie waiting to be reaped. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function portFree(port: number): Promise<boolean> {
  const probe = createServer();
  return new Promise((done) => {
    probe.once('error', () => done(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => done(true)));
  });
}

describe.each(['SIGINT', 'SIGTERM'] as const)('%s sent to the npm start process alone', (signal) => {
  it(
    'stops the API, serverless-offline and the embedded PostgreSQL, and frees the ports',
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'cats-signal-'));
      folders.push(dataDir);
      const databaseUrl = external ? await createScratchDatabase(server, 'cats_signal') : undefined;
      if (databaseUrl) databases.push(databaseUrl);
      const port = await freePort();
      const embeddedPort = await freePort();
      const api = await startApi({ dataDir, databaseUrl, port, embeddedPort, viaNpm: true });
      expect(api.output()).toContain('[cats-api] Ready:');
      expect((await request(api.baseUrl, 'GET', '/cats?limit=1')).status).toBe(200);

      const npmPid = api.child.pid ?? 0;
      const started = descendants(npmPid);
      // npm's child is node on scripts/start.ts itself (the script execs), with serverless-offline below it.
      expect(started[0]?.command).toMatch(/^\S*node --import tsx scripts\/start\.ts/);
      const offline = started.filter((p) => p.command.includes('serverless') && p.command.includes('offline'));
      expect(offline).toHaveLength(1);
      const pidFile = join(dataDir, 'postgres', 'postmaster.pid');
      const postmaster = external ? undefined : Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      if (postmaster !== undefined) expect(running(postmaster)).toBe(true);

      process.kill(npmPid, signal);
      expect(await api.exited).toBe(0);
      expect(api.output()).toContain('[cats-api] Stopping ...');

      for (const p of started) expect([p.command, running(p.pid)]).toEqual([p.command, false]);
      if (postmaster !== undefined) {
        expect(running(postmaster)).toBe(false);
        expect(existsSync(pidFile)).toBe(false);
        expect(await portFree(embeddedPort)).toBe(true);
      }
      expect(await portFree(port)).toBe(true);
      expect(existsSync(join(dataDir, 'start.lock'))).toBe(false);
    },
    apiTimeoutMs,
  );
});
