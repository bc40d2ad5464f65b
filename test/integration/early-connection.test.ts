/**
 * A Lambda container opens its database connection while the function loads
 * (lib/db/index.ts, connectEarly), so the network and the server's start-up
 * overlap the rest of the cold start. Each case runs the bundled get-cat
 * function in a fresh `node`, as a new container would, with the database
 * behind a TCP relay that counts the connections made to it.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { buildFunction } from '../support/bundle.js';
import { httpEvent } from '../support/lambda.js';

const database = new URL(process.env.DATABASE_URL ?? '');
let folder: string;
let bundle: string;
let runner: string;
const servers: Server[] = [];
const sockets: Socket[] = [];

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cats-early-connection-'));
  bundle = join(folder, 'get-cat.mjs');
  await writeFile(bundle, (await buildFunction('get-cat')).code);
  runner = join(folder, 'container.mjs');
  // Loads the function, says so, then invokes it once per line read.
  await writeFile(
    runner,
    `import { createInterface } from 'node:readline';
     const [bundle, event] = process.argv.slice(2);
     const { handler } = await import(bundle);
     console.log(JSON.stringify({ loaded: true }));
     for await (const _ of createInterface({ input: process.stdin })) {
       const reply = await handler(JSON.parse(event), { awsRequestId: 'early', getRemainingTimeInMillis: () => 15000 });
       console.log(JSON.stringify({ status: reply.statusCode, body: JSON.parse(reply.body ?? 'null') }));
     }`,
  );
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((server) => new Promise((ok) => server.close(ok))));
  await rm(folder, { recursive: true, force: true });
});

/** A local port that counts connections and relays them to `target` (or, without one, never answers). */
async function countingPort(target?: { host: string; port: number }): Promise<{ port: number; count: () => number }> {
  let count = 0;
  const server = createServer((socket) => {
    count += 1;
    sockets.push(socket);
    if (!target) return;
    const upstream = createConnection(target);
    sockets.push(upstream);
    socket.pipe(upstream).pipe(socket);
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  servers.push(server);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { port: (server.address() as { port: number }).port, count: () => count };
}

/** A fresh container running get-cat with `env`; `next()` reads its next JSON line, `invoke()` asks for a request. */
function container(env: Record<string, string>): {
  next: () => Promise<any>;
  invoke: () => void;
  child: ChildProcessWithoutNullStreams;
} {
  const child = spawn(process.execPath, [runner, bundle, JSON.stringify(httpEvent('get-cat', { id: 2147483000 }))], {
    env: {
      PATH: process.env.PATH ?? '',
      AWS_LAMBDA_FUNCTION_NAME: 'get-cat',
      // Only the replies on stdout: no log or metrics lines.
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      ...env,
    },
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    child,
    next: async () => JSON.parse(((await lines.next()).value as string | undefined) ?? 'null'),
    invoke: () => child.stdin.write('\n'),
  };
}

/** Waits for an event; the bound only ends a wait for one that never comes. */
async function waitFor(condition: () => boolean, ms = 60000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition() && Date.now() < until) await new Promise((ok) => setTimeout(ok, 10));
}

it('opens the connection while the function loads, and the first request uses that connection', async () => {
  const relay = await countingPort({ host: database.hostname, port: Number(database.port || 5432) });
  const url = new URL(database.href);
  url.hostname = '127.0.0.1';
  url.port = String(relay.port);
  const fn = container({ DATABASE_URL: url.href });
  try {
    expect(await fn.next()).toEqual({ loaded: true });
    await waitFor(() => relay.count() === 1);
    expect(relay.count()).toBe(1);

    fn.invoke();
    const reply = await fn.next();
    expect(reply.status).toBe(404);
    expect(relay.count()).toBe(1);
  } finally {
    fn.child.kill();
  }
});

it('gives the first request the early connection’s failure, without trying a second time, when the database never answers', async () => {
  const silent = await countingPort();
  const fn = container({
    DATABASE_URL: `postgres://cats:cats@127.0.0.1:${silent.port}/cats`,
    DB_CONNECT_TIMEOUT_MS: '400',
  });
  try {
    expect(await fn.next()).toEqual({ loaded: true });
    fn.invoke();
    const reply = await fn.next();
    expect(reply.status).toBe(503);
    expect(reply.body.type).toBe('/problems/database-unavailable');
    expect(silent.count()).toBe(1);
  } finally {
    fn.child.kill();
  }
});

it('loads without database settings, and the first request answers 500 instead of the container failing', async () => {
  const fn = container({});
  try {
    expect(await fn.next()).toEqual({ loaded: true });
    fn.invoke();
    const reply = await fn.next();
    expect(reply.status).toBe(500);
    expect(reply.body.type).toBe('/problems/internal-error');
  } finally {
    fn.child.kill();
  }
});
