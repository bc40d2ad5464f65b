/**
 * The embedded PostgreSQL's cluster is the same whatever the environment it
 * is made in: a container or `su -` often has no LANG, with which initdb alone
 * would make a SQL_ASCII cluster where a 100-character name is 100 bytes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, type LocalDatabase, startLocalDatabase } from '../../scripts/local-db.js';
import { apiTimeoutMs } from '../support/api-process.js';

const localeVariables = ['LANG', 'LC_ALL', 'LC_CTYPE', 'LC_COLLATE'];
let folder: string;
let server: LocalDatabase | undefined;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cats-locale-'));
  const saved = localeVariables.map((name) => [name, process.env[name]] as const);
  for (const name of localeVariables) delete process.env[name];
  try {
    server = await startLocalDatabase({
      dataDir: join(folder, 'postgres'),
      port: await freePort(),
      database: 'cats_locale',
      persistent: false,
    });
  } finally {
    for (const [name, value] of saved) if (value !== undefined) process.env[name] = value;
  }
}, apiTimeoutMs);

afterAll(async () => {
  await server?.stop();
  await rm(folder, { recursive: true, force: true });
});

it('is UTF-8 with Unicode case mapping when made without any locale in the environment', async () => {
  const client = new pg.Client({ connectionString: server?.url });
  await client.connect();
  try {
    const { rows } = await client.query(
      "SELECT current_setting('server_encoding') AS encoding, char_length('😺é') AS length, lower('ÉMILE 😺') AS lower",
    );
    expect(rows).toEqual([{ encoding: 'UTF8', length: 2, lower: 'émile 😺' }]);
  } finally {
    await client.end();
  }
});
