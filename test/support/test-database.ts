/**
 * Where the tests' database comes from. With DATABASE_URL (or POSTGRES_*) set,
 * the tests make databases of their own on that server and drop them after, so
 * they never touch the data already there; otherwise they start a throwaway
 * embedded PostgreSQL, separate from `npm start`'s.
 */
import pg from 'pg';

/** The server the user pointed us at, if any, as a URL. */
export function configuredServerUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.DATABASE_URL) return env.DATABASE_URL;
  if (!env.POSTGRES_HOST) return undefined;
  const auth = `${encodeURIComponent(env.POSTGRES_USER ?? '')}:${encodeURIComponent(env.POSTGRES_PASSWORD ?? '')}`;
  return `postgres://${auth}@${env.POSTGRES_HOST}:${env.POSTGRES_PORT ?? 5432}/${env.POSTGRES_DB ?? 'postgres'}`;
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * A new database on the server at `serverUrl`; returns its URL. Empty, or a
 * copy of `template` (a database nobody is connected to): the global setup
 * keeps a migrated one (CATS_TEST_TEMPLATE), which a file clones in a few
 * milliseconds instead of running the migrations again.
 */
export async function createScratchDatabase(serverUrl: string, prefix: string, template?: string): Promise<string> {
  const name = `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ''}`);
  } finally {
    await admin.end();
  }
  return withDatabase(serverUrl, name);
}

export async function dropScratchDatabase(serverUrl: string, databaseUrl: string): Promise<void> {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name.replaceAll('"', '""')}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
