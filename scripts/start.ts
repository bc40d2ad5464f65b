/**
 * `npm start`: the whole API on http://localhost:3000 with one command.
 * Uses the database in DATABASE_URL (or POSTGRES_*) when set; otherwise starts
 * an embedded PostgreSQL whose data lives in .data/postgres and survives
 * restarts. Applies pending migrations, then runs serverless-offline until
 * Ctrl-C, and stops everything it started.
 *
 * Writes need a token of the local issuer (`npm run -s token`), as deployed
 * ones need one of the stage's issuer: a gateway in front of serverless-offline
 * (scripts/local-gateway.ts) checks it as API Gateway's JWT authorizer does,
 * signature included. `npm start -- --stage <stage> [--region <r>]` checks
 * the tokens of that stage's Cognito pool instead (`npm run -s token --
 * --stage <stage>`), and `--issuer <url> --audience <client id>` those of any
 * issuer whose keys are at <issuer>/.well-known/jwks.json.
 * `npm start -- --open` turns every authorizer off; `--param=authReads=true`
 * closes reads too.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ConfigError, readDatabaseSettings } from '../lib/config.js';
import { isDatabaseUnavailable } from '../lib/db/errors.js';
import { createDatabase } from '../lib/db/index.js';
import { migrateToLatest } from '../lib/db/migrations.js';
import {
  applicationEnvironment,
  assertPortFree,
  freePort,
  isAlive,
  type LocalDatabase,
  LocalDatabaseError,
  startLocalDatabase,
} from './local-db.js';
import { jwksUrl, type RemoteIssuer, startLocalGateway } from './local-gateway.js';
import { localClient, localClientSecret, localKey } from './local-issuer.js';
import { formatLogLine } from './log-view.js';
import { awsRegion, stageIssuer, UsageError } from './token.js';

const say = (line: string) => console.log(`[cats-api] ${line}`);
const fail = (line: string): never => {
  console.error(`[cats-api] ${line}`);
  process.exit(1);
};

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const port = raw ? Number(raw) : fallback;
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`${name} must be a port number, got "${raw}"`);
  return port;
}

const dataRoot = resolve(process.env.CATS_DATA_DIR ?? '.data');
const httpPort = portFromEnv('PORT', 3000);
const lambdaPort = portFromEnv('LAMBDA_PORT', 3002);
const embeddedPort = portFromEnv('EMBEDDED_PG_PORT', 54329);
const lockFile = resolve(dataRoot, 'start.lock');
const usage =
  'npm start takes --open (no authorizer: anyone may write), --param=<name>=<value>, ' +
  "--stage <stage> [--region <r>] (check that stage's Cognito tokens) or --issuer <url> --audience <client id>.";
/** --open and the --param=s, which serverless-offline gets too; the issuer options, which only this script reads. */
const args: string[] = [];
const issuerArgs: { stage?: string; region?: string; issuer?: string; audience?: string } = {};
const issuerOptions: Record<string, keyof typeof issuerArgs> = {
  '--stage': 'stage',
  '--region': 'region',
  '--issuer': 'issuer',
  '--audience': 'audience',
};
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i] as string;
  const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg];
  const key = issuerOptions[name as string];
  if (key) {
    const value = inline ?? process.argv[++i];
    if (!value) fail(`${name} needs a value. ${usage}`);
    issuerArgs[key] = value;
  } else if (/^--param=auth(Issuer|Audience)=/.test(arg)) {
    fail(
      'npm start takes --issuer <url> --audience <client id> (or --stage <stage>) to check the tokens of another issuer.',
    );
  } else if (arg === '--open' || arg.startsWith('--param=')) args.push(arg);
  else fail(`Unknown option ${arg}. ${usage}`);
}
const open = args.includes('--open');
if (issuerArgs.stage !== undefined && (issuerArgs.issuer ?? issuerArgs.audience) !== undefined) {
  fail('--stage reads the issuer and audience from the stack: drop --issuer and --audience.');
}
if ((issuerArgs.issuer === undefined) !== (issuerArgs.audience === undefined)) {
  fail('--issuer and --audience go together: the issuer and the client id (or aud) its tokens must carry.');
}
if (issuerArgs.region !== undefined && issuerArgs.stage === undefined) fail('--region goes with --stage.');
if (open && (issuerArgs.stage ?? issuerArgs.issuer) !== undefined) {
  fail('--open checks no token at all: drop --stage, --issuer and --audience.');
}
/** Set once shutting down (Ctrl-C, a signal, a failure). */
let stopping = false;
// serverless-esbuild builds the functions into a work folder of the checkout,
// and `sls package` (run by hand, by `npm test` or `npm run bench`) deletes
// the default one (.esbuild) when it is done: the running API would lose its
// bundles. One folder per data folder, which the lock makes ours alone.
const workFolder = `.esbuild-start-${createHash('sha256').update(dataRoot).digest('hex').slice(0, 12)}`;

/** One `npm start` per data folder: a second one would fight over the database and ports. */
async function takeLock(): Promise<void> {
  await mkdir(dataRoot, { recursive: true });
  const mine = JSON.stringify({ pid: process.pid, port: httpPort });
  try {
    writeFileSync(lockFile, mine, { flag: 'wx' });
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  let owner: { pid?: number; port?: number } = {};
  try {
    owner = JSON.parse(readFileSync(lockFile, 'utf8'));
  } catch {
    // Unreadable lock: treat as stale.
  }
  if (owner.pid && owner.pid !== process.pid && isAlive(owner.pid)) {
    fail(
      `The Cats API is already running (pid ${owner.pid}, http://localhost:${owner.port}) with the data in ${dataRoot}.\n` +
        '  Use that one, or stop it first (Ctrl-C in its terminal).',
    );
  }
  writeFileSync(lockFile, mine);
}

function releaseLock(): void {
  try {
    if (JSON.parse(readFileSync(lockFile, 'utf8')).pid === process.pid) rmSync(lockFile);
  } catch {
    // Already gone.
  }
}

async function database(): Promise<{ url?: string; description: string; local?: LocalDatabase }> {
  if (process.env.DATABASE_URL || process.env.POSTGRES_HOST) {
    return { description: readDatabaseSettings().description };
  }
  const local = await startLocalDatabase(
    { dataDir: resolve(dataRoot, 'postgres'), port: embeddedPort, database: 'cats', persistent: true },
    say,
  );
  local.onUnexpectedExit((reason) => {
    // Ctrl-C in a terminal reaches PostgreSQL too, which may stop before we ask it to.
    if (stopping) return;
    console.error(
      `[cats-api] The embedded PostgreSQL stopped unexpectedly (${reason}). Requests now get 503 "database unavailable".\n` +
        '  Committed data is safe on disk: stop this with Ctrl-C and run `npm start` again.',
    );
  });
  return {
    url: local.url,
    description:
      `embedded PostgreSQL on 127.0.0.1:${local.port} (data in ${local.clusterDir}` +
      `${local.clusterDir === local.dataDir ? '' : `, linked from ${local.dataDir}`})`,
    local,
  };
}

/**
 * The issuer whose tokens the gateway accepts instead of the local one's:
 * told (--issuer, --audience), or the stage's Cognito pool and app client,
 * from the stack's outputs as `npm run -s token -- --stage` reads them.
 */
async function remoteIssuer(): Promise<(RemoteIssuer & { authServer: string }) | undefined> {
  const { stage, issuer, audience } = issuerArgs;
  // authServer: what the served document's security scheme names (API_AUTH_SERVER,
  // as the stage's openapi function has it), so that Authorize on /docs asks
  // that issuer for a token, not the local endpoint, which is off then.
  if (issuer !== undefined && audience !== undefined)
    return { url: issuer, audience, authServer: `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration` };
  if (stage === undefined) return undefined;
  const region = awsRegion(issuerArgs.region);
  const { CloudFormationClient } = await import('@aws-sdk/client-cloudformation');
  try {
    const pool = await stageIssuer(stage, region, new CloudFormationClient({ region }));
    return { url: pool.issuer, audience: pool.clientId, authServer: pool.tokenUrl };
  } catch (error) {
    return fail(
      error instanceof UsageError
        ? error.message
        : `Could not read the outputs of the stack cats-api-${stage} in ${region} (AWS credentials of this shell): ${(error as Error).message}`,
    );
  }
}

class MigrateError extends Error {}

async function migrate(env: NodeJS.ProcessEnv, description: string): Promise<void> {
  const handle = createDatabase(readDatabaseSettings(env));
  const db = handle.unbudgeted();
  try {
    const { applied } = await migrateToLatest(db as never);
    say(applied.length > 0 ? `Applied migrations: ${applied.join(', ')}` : 'Database schema is up to date.');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new MigrateError(
      isDatabaseUnavailable(error)
        ? `Cannot reach the database at ${description}: ${reason}`
        : `Migrating ${description} failed: ${reason}`,
    );
  } finally {
    await db.destroy();
  }
}

const param = (name: string) =>
  args.find((arg) => arg.startsWith(`--param=${name}=`))?.slice(`--param=${name}=`.length);

function startOffline(
  env: NodeJS.ProcessEnv,
  offlinePort: number,
  issuer: (RemoteIssuer & { authServer: string }) | undefined,
): ChildProcess {
  const sls = createRequire(import.meta.url).resolve('serverless/bin/serverless.js');
  const child = spawn(
    process.execPath,
    [
      sls,
      'offline',
      'start',
      // Behind the gateway (scripts/local-gateway.ts), which alone listens on PORT.
      '--host',
      '127.0.0.1',
      '--httpPort',
      String(offlinePort),
      '--lambdaPort',
      String(lambdaPort),
      // serverless-offline enforces a JWT authorizer's claims only with this
      // option (and skips it without); the gateway in front checks the
      // signature and the rest. --noAuth turns every authorizer off.
      open ? '--noAuth' : '--ignoreJWTSignature',
      ...args.filter((arg) => arg.startsWith('--param=')),
      // serverless-offline's own claim check then expects that issuer and audience too.
      ...(issuer ? [`--param=authIssuer=${issuer.url}`, `--param=authAudience=${issuer.audience}`] : []),
    ],
    {
      env: {
        ...env,
        CATS_ESBUILD_WORK_FOLDER: workFolder,
        ...(issuer ? { API_AUTH_SERVER: issuer.authServer } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  // serverless-offline announces readiness on stderr; pass both streams
  // through and add our own line, with the URL and a first command to try.
  let ready = false;
  const raw = process.env.LOG_FORMAT === 'json';
  // The metrics (EMF): part of each request line, and a line of their own on a cold start or a 503; hidden unless asked for.
  const showMetrics = process.env.LOG_METRICS === '1' || process.env.LOG_METRICS === 'true';
  const relay = (stream: NodeJS.ReadableStream | null, target: NodeJS.WriteStream) => {
    if (!stream) return;
    createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
      // After start-up, serverless-offline's blank separator lines only dilute the one-line-per-request view.
      if (ready && !raw && line.trim() === '') return;
      const text = raw ? line : formatLogLine(line, { metrics: showMetrics });
      if (text !== null) target.write(`${text}\n`);
      if (!ready && line.includes('Server ready')) {
        ready = true;
        for (const line of authNotice(issuer)) say(line);
        say(`Ready: http://localhost:${httpPort}  (try: curl http://localhost:${httpPort}/cats)`);
      }
    });
  };
  relay(child.stdout, process.stdout);
  relay(child.stderr, process.stderr);
  return child;
}

/** Said at every start, so that nothing local is taken for the deployed guarantee. */
function authNotice(issuer: RemoteIssuer | undefined): string[] {
  if (open) {
    return [
      '!!! OPEN (--open): no route checks a token. Anyone who can reach this port may add, change and delete cats.',
      '!!! Only for the tutorial on your own machine; without --open, writes need: -H "Authorization: Bearer $(npm run -s token)"',
    ];
  }
  const reads = args.includes('--param=authReads=true');
  const scopes = `a token with cats/write${reads ? ', reads one with cats/read' : ' (reads are open)'}`;
  if (issuer) {
    const command = issuerArgs.stage ? `npm run -s token -- --stage ${issuerArgs.stage}` : '<a token of that issuer>';
    return [
      `Writes need ${scopes}: -H "Authorization: Bearer $(${command})"`,
      `Tokens are checked as API Gateway checks them: signature by the keys at ${jwksUrl(issuer.url)}, issuer ${issuer.url}, client ${issuer.audience}, expiry, scope.`,
      `Local tokens are refused and the local token endpoint (POST /oauth2/token) is off: tokens come from ${issuerArgs.stage ? `the ${issuerArgs.stage} stage's Cognito` : 'that issuer'}.`,
    ];
  }
  return [
    `Writes need ${scopes}: -H "Authorization: Bearer $(npm run -s token)"`,
    `Tokens are checked as API Gateway checks them: signature by the local issuer's key, issuer, client, expiry, scope.`,
    `Docs page's Authorize: client ${localClient}, secret ${localClientSecret} (POST /oauth2/token, client credentials).`,
  ];
}

async function main(): Promise<void> {
  // Before anything starts: a stage that cannot be read stops here.
  const issuer = await remoteIssuer();
  await takeLock();
  let local: LocalDatabase | undefined;
  let offline: ChildProcess | undefined;
  let gateway: Server | undefined;

  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (offline && offline.exitCode === null && offline.signalCode === null) {
      const exited = new Promise((done) => offline?.once('exit', done));
      offline.kill('SIGINT');
      const timer = setTimeout(() => offline?.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    gateway?.close();
    await local?.stop();
    rmSync(workFolder, { recursive: true, force: true });
    releaseLock();
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      say('Stopping ...');
      void shutdown(0);
    });
  }

  try {
    await assertPortFree(httpPort, 'the API', 'PORT');
    await assertPortFree(lambdaPort, "serverless-offline's Lambda endpoint", 'LAMBDA_PORT');
    const target = await database();
    local = target.local;
    say(`Database: ${target.description}`);
    const env = { ...process.env, ...(target.url ? { DATABASE_URL: target.url } : {}) };
    await migrate(env, target.description);
    // Migrations as the owner, the API as its own role (DB_APP_USER), as deployed.
    const apiEnv = await applicationEnvironment(env);
    say(`The API connects as ${readDatabaseSettings(apiEnv).description}`);
    const offlinePort = await freePort();
    gateway = await startLocalGateway(httpPort, {
      target: { host: '127.0.0.1', port: offlinePort },
      issuer: issuer ?? { key: localKey(dataRoot) },
      auth: open ? 'open' : args.includes('--param=authReads=true') ? 'reads-and-writes' : 'writes',
      corsAllowedOrigins: (param('corsAllowedOrigins') ?? '')
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
      catchAll: { port: lambdaPort, functionName: 'cats-api-dev-unmatched' },
    });
    offline = startOffline(apiEnv, offlinePort, issuer);
    offline.once('exit', (code, signal) => {
      if (stopping) return;
      console.error(`[cats-api] serverless-offline exited (${signal ?? `code ${code}`}); stopping.`);
      void shutdown(code || 1);
    });
  } catch (error) {
    // Expected failures (configuration, ports, an unreachable database) are
    // told in a sentence; anything else keeps its stack for a bug report.
    const expected =
      error instanceof ConfigError || error instanceof LocalDatabaseError || error instanceof MigrateError;
    console.error(`[cats-api] ${expected ? error.message : error instanceof Error ? error.stack : String(error)}`);
    await shutdown(1);
  }
}

await main();
