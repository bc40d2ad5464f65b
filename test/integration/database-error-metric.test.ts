/**
 * The DatabaseErrorsAlarm counts log lines that match the metric filter
 * serverless-per-function.cjs gives every function that uses the database;
 * this checks that a request failing because the database is unreachable
 * really writes such a line.
 */
import { createRequire } from 'node:module';
import { jest } from '@jest/globals';
import { handler as getCat } from '../../functions/get-cat.js';
import { closeDatabase } from '../../lib/db/index.js';
import { call, httpEvent } from '../support/lambda.js';

const realDatabase = process.env.DATABASE_URL;
const realLevel = process.env.POWERTOOLS_LOG_LEVEL;

afterAll(async () => {
  await closeDatabase();
  process.env.DATABASE_URL = realDatabase;
  process.env.POWERTOOLS_LOG_LEVEL = realLevel;
});

it('logs a JSON line the database-errors metric filter counts when the database cannot be reached', async () => {
  const { databaseErrorsPattern } = createRequire(import.meta.url)('../../serverless-per-function.cjs') as {
    databaseErrorsPattern: string;
  };
  const pattern = /^\{ \(\$\.message = "(\w+)"\) && \(\$\.status = (\d+)\) \}$/.exec(databaseErrorsPattern);
  expect(pattern).not.toBeNull();
  const [, message, status503] = pattern as RegExpMatchArray;

  await closeDatabase();
  process.env.DATABASE_URL = 'postgres://cats:cats@127.0.0.1:1/cats';
  const lines: string[] = [];
  const capture = (chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  };
  // The tests run with logs silenced; the deployed functions log at INFO.
  // (The logger is built on its first line, so this file's reads this.)
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  let status: number;
  try {
    ({ status } = await call(getCat, httpEvent('get-cat', { id: 1 })));
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  expect(status).toBe(503);
  const logged = lines
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  // Exactly one line per failed request, so the metric counts requests.
  const matching = logged.filter((entry) => entry.message === message && String(entry.status) === status503);
  expect(matching).toEqual([expect.objectContaining({ message: 'request', status: 503, route: 'GET /cats/{id}' })]);
});
