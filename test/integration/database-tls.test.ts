/**
 * The deployed connection path (DB_HOST, DB_SECRET_ARN, DB_SSL) against a
 * real PostgreSQL with TLS on and a CA made for this test: the certificate is
 * really verified (a server signed by another CA, or named differently, is
 * refused), and the password comes from the secret, read again after the
 * database rejected it. Only the Secrets Manager call is replaced.
 */
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { readDatabaseSettings } from '../../lib/config.js';
import { createDatabase, type DatabaseHandle } from '../../lib/db/index.js';
import { toProblem } from '../../lib/http/errors.js';
import {
  embeddedPassword,
  embeddedUser,
  freePort,
  type LocalDatabase,
  serverAccount,
  startLocalDatabase,
} from '../../scripts/local-db.js';
import { apiTimeoutMs } from '../support/api-process.js';
import { makeTestCertificates, type TestCertificates } from '../support/tls.js';

const secretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cats-test-AbCdEf';
let certificates: TestCertificates;
let server: LocalDatabase;
const handles: DatabaseHandle[] = [];

beforeAll(async () => {
  // As root, the server runs as `postgres`, which must own the key.
  certificates = makeTestCertificates(serverAccount());
  server = await startLocalDatabase({
    dataDir: path.join(tmpdir(), `cats-tls-pg-${process.pid}`),
    port: await freePort(),
    database: 'cats_tls',
    persistent: false,
    postgresFlags: [
      '-c',
      'ssl=on',
      '-c',
      `ssl_cert_file=${certificates.serverCertFile}`,
      '-c',
      `ssl_key_file=${certificates.serverKeyFile}`,
    ],
  });
}, apiTimeoutMs);

afterAll(async () => {
  await Promise.all(handles.map((h) => h.db.destroy().catch(() => {})));
  await server?.stop();
  if (certificates) await rm(certificates.dir, { recursive: true, force: true });
});

/** The database as a deployed function configures it, with the secret read by `readSecret`. */
function deployed(env: Record<string, string>, readSecret: (arn: string) => Promise<string>): DatabaseHandle {
  const settings = readDatabaseSettings({
    DB_HOST: 'localhost',
    DB_PORT: String(server.port),
    DB_NAME: 'cats_tls',
    DB_USER: embeddedUser,
    DB_SECRET_ARN: secretArn,
    DB_CONNECT_TIMEOUT_MS: '5000',
    ...env,
  });
  const handle = createDatabase(settings, { readSecret });
  handles.push(handle);
  return handle;
}

const secret = (password: string) => JSON.stringify({ username: embeddedUser, password });
const correctSecret = async () => secret(embeddedPassword);

async function connectionFails(handle: DatabaseHandle): Promise<NodeJS.ErrnoException> {
  const error = await sql`SELECT 1`.execute(handle.db).then(
    () => undefined,
    (e: unknown) => e,
  );
  // Not `instanceof Error`: errors from Node's own modules come from another realm under Jest.
  if (error === undefined) throw new Error('the connection succeeded');
  return error as NodeJS.ErrnoException;
}

it('connects over TLS when the server certificate is signed by the configured CA', async () => {
  const handle = deployed({ DB_SSL_CA: certificates.caFile }, correctSecret);
  const { rows } = await sql<{ ssl: boolean; version: string }>`
    SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()`.execute(handle.db);
  expect(rows).toEqual([{ ssl: true, version: expect.stringMatching(/^TLSv1\.[23]$/) }]);
});

it('refuses a server whose certificate another CA signed', async () => {
  const error = await connectionFails(deployed({ DB_SSL_CA: certificates.otherCaFile }, correctSecret));
  expect(error.code).toMatch(/SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/);
});

it('refuses a certificate that names another host, even from the trusted CA', async () => {
  const error = await connectionFails(
    deployed({ DB_HOST: '127.0.0.1', DB_SSL_CA: certificates.caFile }, correctSecret),
  );
  expect(error.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
});

it('trusts only the bundled Amazon RDS CAs when no CA file is given', async () => {
  const error = await connectionFails(deployed({}, correctSecret));
  expect(error.code).toMatch(/SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/);
});

it('reads the secret once per container, and again after the database rejected the password', async () => {
  let current = secret('rotated-away');
  const reads: string[] = [];
  const handle = deployed({ DB_SSL_CA: certificates.caFile }, async (arn) => {
    reads.push(arn);
    return current;
  });
  const rejected = await connectionFails(handle);
  expect((rejected as { code?: string }).code).toBe('28P01');
  expect(toProblem(rejected).status).toBe(503);
  // The managed password was rotated; the next request reads it again.
  current = secret(embeddedPassword);
  await sql`SELECT 1`.execute(handle.db);
  // A new connection (this one is killed) uses the cached password.
  await handle.pool.query('SELECT pg_terminate_backend(pg_backend_pid())').catch(() => {});
  await sql`SELECT 1`.execute(handle.db);
  expect(reads).toEqual([secretArn, secretArn]);
});
