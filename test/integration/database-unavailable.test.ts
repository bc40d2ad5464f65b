/**
 * A database that cannot be reached must cost the client a fast 503 with
 * Retry-After, never a hang until the Lambda timeout and never a 500. No
 * stopwatch windows: which timer answered is shown by setting the others far
 * out of reach, and the only upper bounds are ones that only a hang exceeds.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { handler as createCat } from '../../functions/create-cat.js';
import { handler as getCat } from '../../functions/get-cat.js';
import { closeDatabase } from '../../lib/db/index.js';
import { catsTable, expectProblem } from '../support/assertions.js';
import { call, httpEvent } from '../support/lambda.js';
import { useScratchDatabase } from '../support/scratch-database.js';

// Its own database, so that "nothing changed" is not disturbed by other files' writes.
const scratchUrl = useScratchDatabase('cats_unavailable');
let realDatabase: string | undefined;
const sockets: Socket[] = [];
let silent: Server;
let silentPort = 0;

beforeAll(async () => {
  realDatabase = scratchUrl();
  // Accepts TCP connections and never says a word, like a database host
  // behind a security group that drops packets after the handshake.
  silent = createServer((socket) => sockets.push(socket));
  await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', ok));
  silentPort = (silent.address() as { port: number }).port;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((ok) => silent.close(ok));
  await closeDatabase();
});

/** The handlers, with the container's pool re-created from the given environment. */
async function handlersWith(env: Record<string, string>) {
  await closeDatabase();
  Object.assign(process.env, env);
  return { getCat, createCat };
}

it('answers 503 with Retry-After at once when nothing listens on the database port', async () => {
  // A minute-long connect timeout: an answer well before it came from the refused connection, not from that timer.
  const { getCat } = await handlersWith({
    DATABASE_URL: 'postgres://cats:cats@127.0.0.1:1/cats',
    DB_CONNECT_TIMEOUT_MS: '60000',
  });
  const started = Date.now();
  const reply = await call(getCat, httpEvent('get-cat', { id: 1 }));
  expectProblem(reply, 503);
  expect(reply.headers['retry-after']).toMatch(/^\d+$/);
  expect(reply.body.type).toBe('/problems/database-unavailable');
  expect(Date.now() - started).toBeLessThan(30000);
});

it('answers 503 within the connect timeout when the database host never answers', async () => {
  const { createCat } = await handlersWith({
    DATABASE_URL: `postgres://cats:cats@127.0.0.1:${silentPort}/cats`,
    DB_CONNECT_TIMEOUT_MS: '500',
  });
  const before = await catsTable(realDatabase);
  const started = Date.now();
  const reply = await call(createCat, httpEvent('create-cat'));
  const elapsed = Date.now() - started;
  expectProblem(reply, 503);
  // The connect timeout answered: not before it (timers never fire early), and not never.
  expect(elapsed).toBeGreaterThanOrEqual(450);
  expect(elapsed).toBeLessThan(30000);
  expect(await catsTable(realDatabase)).toEqual(before);
});

it('answers 503, not 500, when the credentials are refused', async () => {
  const url = new URL(realDatabase ?? '');
  url.username = 'no_such_user_for_cats';
  url.password = 'wrong';
  const { getCat } = await handlersWith({ DATABASE_URL: url.toString() });
  const reply = await call(getCat, httpEvent('get-cat', { id: 1 }));
  expectProblem(reply, 503);
  expect(JSON.stringify(reply.body)).not.toContain('no_such_user_for_cats');
});
