/**
 * Runs `npm start`'s script (scripts/start.ts) as a user would, on ports and a
 * data folder of the test's own, and talks to it over HTTP.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { embeddedPassword, embeddedUser, freePort, removeCluster } from '../../scripts/local-db.js';
import { type LocalTokenOptions, localToken } from '../../scripts/local-issuer.js';
import { expectMatchesContract, pathTemplate } from './contract.js';
import { createScratchDatabase, dropScratchDatabase } from './test-database.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface ApiProcess {
  baseUrl: string;
  /**
   * A local token with both scopes, which request() sends to this API
   * unless the call gives its own Authorization header ('' for none).
   */
  token: string;
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /**
   * The first line it prints (or printed) that contains `marker`, such as a
   * request's id: waits for the event, whatever came before it. The bound
   * only turns a line that never comes into a failure with the output.
   */
  lineWith(marker: string, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** Sends a signal (Ctrl-C by default) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface ApiOptions {
  dataDir: string;
  /** The database to use; undefined means "none configured" (embedded). */
  databaseUrl?: string;
  port?: number;
  embeddedPort?: number;
  /** Wait for this text in the output (default: the ready line) or for the exit. */
  waitFor?: RegExp;
  /** More environment for the API (DB_* settings, log level). */
  env?: NodeJS.ProcessEnv;
  /** The checkout to run it in (default: this one). */
  cwd?: string;
  /** Options of `npm start` (`--open`, `--param=authReads=true`). */
  args?: string[];
  /**
   * Run it as `npm start` (npm, then its shell, then node), the way a user
   * or an IDE does, rather than node on scripts/start.ts directly.
   */
  viaNpm?: boolean;
}

// npm start verifies a token's signature against its data folder's key:
// startApi puts the test's own key there, so that testToken() signs
// tokens every API started here accepts.
let testKey: KeyObject | undefined;

/** The key testToken() signs with, which every API started here trusts. */
export function testIssuerKey(): KeyObject {
  testKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  return testKey;
}

/** Makes the test's key the local issuer's key of this data folder. */
function installTestKey(dataDir: string): void {
  testKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  // The data folder as npm start would make it (the default mode); only its auth folder is private.
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(join(dataDir, 'auth'), { recursive: true, mode: 0o700 });
  writeFileSync(join(dataDir, 'auth', 'local-issuer.pem'), testKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
  });
}

/** A token of the local issuer, as `npm run -s token` makes them (wrong ones too). */
export function testToken(options: LocalTokenOptions = {}): string {
  testKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  return localToken(testKey, options);
}

/**
 * The token request() sends to each API started here, made again when half
 * its hour has gone: a run of many fuzz seeds against one API lasts longer
 * than a token (CATS_FUZZ_SEEDS=20 got the authorizer's 401 after 60 min).
 */
const tokens = new Map<string, { token: string; madeAt: number }>();
const tokenRenewMs = 30 * 60 * 1000;

/** Makes the token request() and authorizationFor() send to `baseUrl` from now on. */
export function rememberToken(baseUrl: string): string {
  const token = testToken();
  tokens.set(baseUrl, { token, madeAt: Date.now() });
  return token;
}

function currentToken(baseUrl: string): string | undefined {
  const held = tokens.get(baseUrl);
  if (!held) return undefined;
  return Date.now() - held.madeAt < tokenRenewMs ? held.token : rememberToken(baseUrl);
}
/** What each API started here printed so far, for a failure to show. */
const outputs = new Map<string, () => string>();

/**
 * serverless-offline's answer when an invocation outlives the function's
 * timeout (15 s): a 200 whose body is the error. An invocation that never
 * ends is a hang (issue 20), told as one rather than as a wrong status.
 */
export function lambdaTimedOut(text: string): boolean {
  return /"errorType":"LambdaTimeoutError"/.test(text);
}

/** The error for a request the emulator timed out, with the API's last lines. */
function lambdaTimeoutError(what: string, baseUrl: string): Error {
  const printed = (outputs.get(baseUrl)?.() ?? '').split('\n').slice(-40).join('\n');
  return new Error(
    `${what} got serverless-offline's Lambda timeout: the invocation did not end within the function's timeout ` +
      `(a stall, or its worker thread terminated while busy).\nthe API's last lines:\n${printed}`,
  );
}

/** The Authorization header for an API started here (none for any other URL). */
export function authorizationFor(baseUrl: string): Record<string, string> {
  const token = currentToken(baseUrl);
  return token ? { authorization: `Bearer ${token}` } : {};
}

/**
 * How long starting the API (a PostgreSQL cluster, migrations, esbuild
 * bundling every function, serverless-offline) may take before it counts as
 * hung: seconds on an idle machine, minutes on a loaded one (a 90 s bound
 * failed at a load average of 50 on 2 cores). Only a hang exceeds it.
 */
const apiStartLimitMs = 10 * 60 * 1000;
/** The Jest timeout of a hook or test that starts or stops an API: above apiStartLimitMs, so startApi reports first. */
export const apiTimeoutMs = 15 * 60 * 1000;

export async function startApi(options: ApiOptions): Promise<ApiProcess> {
  const port = options.port ?? (await freePort());
  // The OS may hand out the same free port twice in a row: keep them apart.
  const taken = new Set([port]);
  const anotherPort = async () => {
    for (;;) {
      const candidate = await freePort();
      if (!taken.has(candidate)) {
        taken.add(candidate);
        return candidate;
      }
    }
  };
  const lambdaPort = await anotherPort();
  const embeddedPort = options.embeddedPort ?? (await anotherPort());
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    LAMBDA_PORT: String(lambdaPort),
    EMBEDDED_PG_PORT: String(embeddedPort),
    CATS_DATA_DIR: options.dataDir,
    // Jest's own Node flags are not for the API.
    NODE_OPTIONS: '',
    POWERTOOLS_LOG_LEVEL: 'WARN',
    ...options.env,
  };
  delete env.DATABASE_URL;
  if (options.databaseUrl) env.DATABASE_URL = options.databaseUrl;

  installTestKey(options.dataDir);
  const start = ['--import', 'tsx', 'scripts/start.ts'];
  // npm's own CLI when the tests run under npm (npm_execpath), else the one on PATH.
  const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
  const [command = '', ...commandArgs] = options.viaNpm
    ? [...npm, 'start', ...(options.args?.length ? ['--', ...options.args] : [])]
    : [process.execPath, ...start, ...(options.args ?? [])];
  const child = spawn(command, commandArgs, { cwd: options.cwd ?? root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const waitFor = options.waitFor ?? /\[cats-api\] Ready:/;
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`API did not start in time:\n${text}`)), apiStartLimitMs);
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      if (waitFor.test(text)) {
        clearTimeout(timer);
        ready();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      ready(); // the caller inspects output() and exited
    });
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const token = rememberToken(baseUrl);
  outputs.set(baseUrl, () => text);
  return {
    baseUrl,
    token,
    child,
    output: () => text,
    async lineWith(marker, timeoutMs = 60000) {
      const giveUp = Date.now() + timeoutMs;
      for (;;) {
        const line = text.split('\n').find((candidate) => candidate.includes(marker));
        if (line !== undefined) return line;
        if (Date.now() > giveUp) throw new Error(`no line with ${marker} in the output:\n${text}`);
        await new Promise((again) => setTimeout(again, 20));
      }
    },
    exited,
    async stop(signal: NodeJS.Signals = 'SIGINT') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** The API a test file runs for all its tests (useApi), and what it runs on; read in tests and hooks. */
export interface ApiFixture {
  /** The API running now (the last one start() made). */
  readonly api: ApiProcess;
  /** Its data folder (the embedded cluster's, the local issuer's key). */
  readonly dataDir: string;
  /** The owner's URL of the database the API uses, to look at or lock rows behind its back. */
  readonly ownerUrl: string;
  /** One connection of the owner's, made on first use and ended before the API and its database stop. */
  ownerClient(): Promise<pg.Client>;
  /**
   * Starts `npm start` again on the same data folder, database and ports,
   * with `extra` options; it becomes `api` unless it only waits for a
   * message (`waitFor`), such as a second start that must be refused.
   */
  start(extra?: Partial<ApiOptions>): Promise<ApiProcess>;
}

/**
 * `npm start` for the tests of one file: in beforeAll, a data folder of its
 * own and, when the suite runs against a configured server
 * (CATS_TEST_EXTERNAL), a scratch database there (else the API's embedded
 * PostgreSQL on a port of its own); in afterAll, all of it stopped and
 * removed again, the cluster included (run as root, it may live outside the
 * data folder: scripts/local-db.ts).
 */
type FixtureOptions = Omit<ApiOptions, 'dataDir' | 'databaseUrl' | 'embeddedPort'>;

export function useApi(prefix: string, options: FixtureOptions | (() => FixtureOptions) = {}): ApiFixture {
  const server = process.env.CATS_TEST_SERVER_URL ?? '';
  let dataDir = '';
  let databaseUrl: string | undefined;
  let embeddedPort = 0;
  let current: ApiProcess | undefined;
  let client: Promise<pg.Client> | undefined;
  const fixture: ApiFixture = {
    get api() {
      if (!current) throw new Error(`useApi('${prefix}'): the API has not started`);
      return current;
    },
    get dataDir() {
      return dataDir;
    },
    get ownerUrl() {
      return databaseUrl ?? `postgres://${embeddedUser}:${embeddedPassword}@127.0.0.1:${embeddedPort}/cats`;
    },
    ownerClient() {
      client ??= (async () => {
        const connected = new pg.Client({ connectionString: fixture.ownerUrl });
        // A test that stops or kills the database ends this connection: the next call makes another.
        connected.on('error', () => {
          client = undefined;
        });
        connected.on('end', () => {
          client = undefined;
        });
        await connected.connect();
        return connected;
      })();
      return client;
    },
    async start(extra = {}) {
      const given = typeof options === 'function' ? options() : options;
      const started = await startApi({ ...given, ...extra, dataDir, databaseUrl, embeddedPort });
      if (extra.waitFor === undefined) current = started;
      return started;
    },
  };
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), `${prefix.replaceAll('_', '-')}-`));
    if (process.env.CATS_TEST_EXTERNAL === '1') databaseUrl = await createScratchDatabase(server, prefix);
    embeddedPort = await freePort();
    const started = await fixture.start();
    if (!started.output().includes('[cats-api] Ready:')) {
      throw new Error(`npm start did not start:\n${started.output()}`);
    }
  }, apiTimeoutMs);
  afterAll(async () => {
    await (await client?.catch(() => undefined))?.end().catch(() => {});
    await current?.stop();
    if (databaseUrl) await dropScratchDatabase(server, databaseUrl);
    if (dataDir) {
      await removeCluster(join(dataDir, 'postgres'));
      await rm(dataDir, { recursive: true, force: true });
    }
  }, apiTimeoutMs);
  return fixture;
}

export interface HttpReply {
  status: number;
  headers: Record<string, string>;
  body: any;
}

/**
 * An HTTP request whose reply body is parsed as JSON when there is one. It
 * carries the API's token (startApi) unless `headers` has an Authorization
 * header of its own; an empty one sends none.
 */
export async function request(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  given: Record<string, string> = {},
): Promise<HttpReply> {
  const headers = { ...given };
  const authorization = Object.keys(headers).find((name) => name.toLowerCase() === 'authorization');
  if (authorization === undefined) {
    const token = currentToken(baseUrl);
    if (token) headers.authorization = `Bearer ${token}`;
  } else if (headers[authorization] === '') {
    delete headers[authorization];
  }
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers = { 'content-type': 'application/json', ...headers };
  }
  const response = await fetch(`${baseUrl}${path}`, init);
  const text = await response.text();
  if (lambdaTimedOut(text)) throw lambdaTimeoutError(`${method} ${path}`, baseUrl);
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: keep the text so an assertion can show it.
  }
  const reply = { status: response.status, headers: Object.fromEntries(response.headers), body: parsed };
  // Every documented route's answer over HTTP must match the OpenAPI document too.
  const template = pathTemplate(new URL(path, baseUrl).pathname);
  if (template) expectMatchesContract(method, template, reply);
  return reply;
}
