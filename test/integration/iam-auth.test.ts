/**
 * DB_AUTH=iam as deployed: the bundled get-cat function, in a fresh `node`
 * laid out as Lambda unpacks its zip (LAMBDA_TASK_ROOT, its region's RDS CA
 * file), signs an RDS IAM token from the credentials in its environment and
 * connects with TLS through a relay that checks the token as RDS would
 * (test/support/iam-relay.ts: the signature recomputed from the SigV4
 * specification, the endpoint, the user, the expiry) before logging it in.
 * The relay's check is shown to be real: wrong credentials and an expired
 * token are refused.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { signIamToken } from '../../lib/db/iam-signer.js';
import { buildFunction, root, writeFunction } from '../support/bundle.js';
import { checkIamToken, type IamRelay, startIamRelay } from '../support/iam-relay.js';
import { httpEvent } from '../support/lambda.js';
import { makeTestCertificates, type TestCertificates } from '../support/tls.js';

const database = new URL(process.env.DATABASE_URL ?? '');
const region = 'eu-west-1';
const credentials = {
  accessKeyId: 'AKIDTESTEXAMPLE',
  secretAccessKey: 'test/secret/access/key/for/the/relay/0000',
  sessionToken: 'IQoJb3JpZ2luX2VjTEST//////////+session/token==',
};
const lambdaCredentials = {
  AWS_ACCESS_KEY_ID: credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  AWS_SESSION_TOKEN: credentials.sessionToken,
};
let folder: string;
let taskRoot: string;
let certificates: TestCertificates;
let relay: IamRelay;
let catId: number;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cats-iam-'));
  certificates = makeTestCertificates();
  // The zip's layout: the bundle and its chunks in functions/, and its
  // region's CAs, to which this test's CA is appended.
  taskRoot = join(folder, 'task');
  await writeFunction(await buildFunction('get-cat'), 'get-cat', join(taskRoot, 'functions'));
  await mkdir(join(taskRoot, 'functions', 'rds-ca'));
  const caFile = join(taskRoot, 'functions', 'rds-ca', `${region}.pem`);
  await copyFile(join(root, 'functions', 'rds-ca', `${region}.pem`), caFile);
  await writeFile(caFile, await readFile(certificates.caFile, 'utf8'), { flag: 'a' });
  await writeFile(
    join(folder, 'invoke.mjs'),
    `// Records which of our chunks and SDK packages the function loads.
     import { registerHooks } from 'node:module';
     const resolved = [];
     registerHooks({ resolve(specifier, context, next) { resolved.push(specifier); return next(specifier, context); } });
     const [bundle, event] = process.argv.slice(2);
     const { handler } = await import(bundle);
     const reply = await handler(JSON.parse(event), { awsRequestId: 'iam', getRemainingTimeInMillis: () => 15000 });
     console.log(JSON.stringify({ status: reply.statusCode, body: JSON.parse(reply.body ?? 'null'), resolved }));
     process.exit(0);`,
  );
  relay = await startIamRelay({
    target: {
      host: database.hostname,
      port: Number(database.port || 5432),
      password: decodeURIComponent(database.password),
    },
    cert: await readFile(certificates.serverCertFile),
    key: await readFile(certificates.serverKeyFile),
    credentials,
    region,
    hostname: 'localhost',
  });
  const client = new pg.Client({ connectionString: database.href });
  await client.connect();
  const { rows } = await client.query<{ id: number }>(
    "INSERT INTO cats (name, price, breed) VALUES ('Iam Cat', 100, 'bengal') RETURNING id",
  );
  await client.end();
  catId = rows[0]?.id ?? 0;
}, 60000);

afterAll(async () => {
  await relay?.close();
  if (certificates) await rm(certificates.dir, { recursive: true, force: true });
  if (folder) await rm(folder, { recursive: true, force: true });
});

/** Runs get-cat for `id` in a fresh node as a Lambda container in `region` with DB_AUTH=iam. */
async function invokeGetCat(
  env: Record<string, string> = {},
): Promise<{ status: number; body: any; resolved: string[] }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      join(folder, 'invoke.mjs'),
      join(taskRoot, 'functions', 'get-cat.js'),
      JSON.stringify(httpEvent('get-cat', { id: catId })),
    ],
    {
      env: {
        PATH: process.env.PATH ?? '',
        LAMBDA_TASK_ROOT: taskRoot,
        AWS_LAMBDA_FUNCTION_NAME: 'get-cat',
        AWS_REGION: region,
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        POWERTOOLS_METRICS_DISABLED: 'true',
        DB_HOST: 'localhost',
        DB_PORT: String(relay.port),
        DB_NAME: database.pathname.slice(1),
        DB_USER: decodeURIComponent(database.username),
        DB_AUTH: 'iam',
        DB_CONNECT_TIMEOUT_MS: '5000',
        ...lambdaCredentials,
        ...env,
      },
    },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? 'null');
}

it('connects with an IAM token over verified TLS, with its region’s CA file, and answers', async () => {
  const before = relay.accepted();
  const reply = await invokeGetCat();
  expect(reply.status).toBe(200);
  expect(reply.body).toMatchObject({ id: catId, name: 'Iam Cat' });
  expect(relay.accepted()).toBe(before + 1);
  // The signer's chunk was loaded; the Secrets Manager client never was.
  expect(reply.resolved.some((specifier) => /iam-signer-\w+\.js$/.test(specifier))).toBe(true);
  expect(reply.resolved.filter((specifier) => specifier.startsWith('@aws-sdk/'))).toEqual([]);
});

it('is refused by the relay (503) when its token is signed with other credentials', async () => {
  const refused = relay.refusals.length;
  const reply = await invokeGetCat({ AWS_SECRET_ACCESS_KEY: 'not-the-key-the-role-has' });
  expect(reply.status).toBe(503);
  expect(relay.refusals.slice(refused)).toContain('signature does not match');
});

it('cannot log in with an expired token, or one for another user or endpoint', async () => {
  const options = { host: 'localhost', port: relay.port, user: decodeURIComponent(database.username), region };
  const sign = (over: Partial<typeof options>, at = new Date()) => {
    const saved = { ...process.env };
    Object.assign(process.env, lambdaCredentials);
    return signIamToken({ ...options, ...over }, at).finally(() => {
      process.env = saved;
    });
  };
  const expired = await sign({}, new Date(Date.now() - 16 * 60_000));
  const otherUser = await sign({ user: 'someone_else' });
  const otherEndpoint = await sign({ host: 'cats.example.rds.amazonaws.com' });
  const expected = { authority: `localhost:${relay.port}`, user: options.user, region, credentials };
  expect(checkIamToken(await sign({}), expected)).toBeUndefined();
  expect(checkIamToken(expired, expected)).toBe('expired');
  expect(checkIamToken(otherUser, expected)).toMatch(/^DBUser someone_else/);
  expect(checkIamToken(otherEndpoint, expected)).toMatch(/^signed for cats\.example/);

  // And over the wire, as pg sends it: PostgreSQL's answer to a bad password.
  const client = new pg.Client({
    host: 'localhost',
    port: relay.port,
    user: options.user,
    database: database.pathname.slice(1),
    password: expired,
    ssl: { ca: await readFile(certificates.caFile, 'utf8') },
  });
  client.on('error', () => {});
  const error = await client.connect().then(
    () => undefined,
    (e: unknown) => e as { code?: string; message?: string },
  );
  await client.end().catch(() => {});
  expect(error?.code).toBe('28000');
  expect(relay.refusals.at(-1)).toBe('expired');
});
