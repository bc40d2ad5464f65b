/**
 * What serverless-offline leaves out of AWS, in front of it: an HTTP proxy
 * between the clients and `npm start` that answers as API Gateway and Lambda
 * would when a function is at its limits (issue 23).
 *
 * - Lambda's reserved concurrency: a function never has more requests in
 *   flight than its reservation. serverless-offline starts a container for
 *   every concurrent request instead; here one more is throttled, and API
 *   Gateway's answer to a throttled invocation is reproduced: 500
 *   `{"message":"Internal Server Error"}`, which an HTTP API cannot change.
 * - The HTTP API's throttle: a token bucket per route (rate, burst), answered
 *   429 `{"message":"Too Many Requests"}` before the function is invoked.
 *
 * The route -> function -> reservation map comes from the packaged
 * CloudFormation template (`sls package`), the throttles from the same
 * formula that writes the deployed ones (plugins/serverless-per-function.cjs,
 * apiThrottles), here with the latency measured on this machine.
 *
 * The front runs in a process of its own. A function's concurrency is counted
 * from the request's forwarding to the end of its answer as the front sees
 * it, so any delay in the front's event loop counts as time in the function.
 * Sharing a loop with the fault script's 200 clients (some 6,000 requests a
 * second and the garbage of every answer kept) delayed it by up to 400 ms,
 * enough to hold a "container" past the throttles' latency bound: 14
 * emulated Lambda throttles in one CI run that Lambda, counting its own
 * invocations, would not have had.
 */
import { fork } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

interface Limit {
  rate: number;
  burst: number;
}

const plugin = createRequire(import.meta.url)('../../plugins/serverless-per-function.cjs') as {
  apiThrottles(
    functions: { reserved: number; routes: string[] }[],
    requestMs: number,
  ): { routes: Record<string, Limit>; fallback: Limit };
};

export interface DeployedFunction {
  /** Its logical id in the template, e.g. GetCatLambdaFunction. */
  id: string;
  reserved: number;
  /** Its route keys, e.g. GET /cats/{id}, $default. */
  routes: string[];
}

interface TemplateResource {
  Type: string;
  Properties?: Record<string, any>;
}

/** The functions of a packaged template with their reserved concurrency and route keys. */
export async function deployedFunctions(templateFile: string): Promise<DeployedFunction[]> {
  const resources = (
    JSON.parse(await readFile(templateFile, 'utf8')) as { Resources: Record<string, TemplateResource> }
  ).Resources;
  const functions = new Map<string, DeployedFunction>();
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const reserved = resource.Properties?.ReservedConcurrentExecutions;
    if (typeof reserved !== 'number') throw new Error(`${id} has no reserved concurrency in the template`);
    functions.set(id, { id, reserved, routes: [] });
  }
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::ApiGatewayV2::Route') continue;
    const integration = resource.Properties?.Target?.['Fn::Join']?.[1]?.[1]?.Ref as string | undefined;
    const target = integration ? resources[integration]?.Properties?.IntegrationUri?.['Fn::GetAtt']?.[0] : undefined;
    const fn = functions.get(String(target));
    if (!fn) throw new Error(`route ${resource.Properties?.RouteKey} reaches no function of the template`);
    fn.routes.push(String(resource.Properties?.RouteKey));
  }
  return [...functions.values()].filter((fn) => fn.routes.length > 0);
}

/** A route key's matcher: `GET /cats/{id}` matches GET /cats/7. */
function matcher(key: string): (method: string, path: string) => boolean {
  const [method, template = ''] = key.split(' ');
  const pattern = new RegExp(
    `^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^/}]+\\?\}/g, '[^/]+')}$`,
  );
  return (m, path) => m === method && pattern.test(path);
}

/** API Gateway's token bucket: `burst` tokens at most, refilled at `rate` a second. */
class TokenBucket {
  #tokens: number;
  #at = performance.now();
  constructor(readonly limit: Limit) {
    this.#tokens = limit.burst;
  }
  take(): boolean {
    const now = performance.now();
    this.#tokens = Math.min(this.limit.burst, this.#tokens + ((now - this.#at) / 1000) * this.limit.rate);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

export interface AwsFront {
  baseUrl: string;
  /** Each route's throttle as applied here. */
  limits: Record<string, Limit>;
  /** How many requests the front answered itself: API throttle (429) and Lambda throttle (500). */
  counts(): Promise<Counts>;
  /** The most requests each function (by logical id) had in flight at once. */
  peakInFlight(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

interface Counts {
  apiThrottled: number;
  lambdaThrottled: number;
  forwarded: number;
  /** The front's longest event-loop delay so far (ms): what it added to the functions' time in flight. */
  loopDelayMaxMs: number;
}

export interface AwsFrontOptions {
  /** serverless-offline's base URL. */
  target: string;
  functions: DeployedFunction[];
  /** The latency bound the throttles are derived from (apiRequestMs, measured where it runs). */
  requestMs: number;
}

/** Messages between the script and the front's process. */
type Request = { type: 'start'; options: AwsFrontOptions } | { type: 'counts' | 'peak' | 'close'; id: number };
type Reply =
  | { type: 'started'; baseUrl: string; limits: Record<string, Limit> }
  | { type: 'reply'; id: number; value: any };

const self = fileURLToPath(import.meta.url);

/** Starts the front in a child process (see above) and talks to it over IPC. */
export async function startAwsFront(options: AwsFrontOptions): Promise<AwsFront> {
  const child = fork(self, [], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<number, (value: any) => void>();
  let nextId = 0;
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const started = new Promise<Extract<Reply, { type: 'started' }>>((ok, fail) => {
    child.once('exit', (code) => fail(new Error(`the AWS front exited (${code}) before it listened`)));
    child.on('message', (reply: Reply) => {
      if (reply.type === 'started') ok(reply);
      else waiting.get(reply.id)?.(reply.value);
    });
  });
  child.send({ type: 'start', options } satisfies Request);
  const { baseUrl, limits } = await started;
  const ask = (type: 'counts' | 'peak' | 'close') =>
    new Promise<any>((ok) => {
      nextId += 1;
      const id = nextId;
      waiting.set(id, (value) => {
        waiting.delete(id);
        ok(value);
      });
      child.send({ type, id } satisfies Request);
    });
  return {
    baseUrl,
    limits,
    counts: () => ask('counts') as Promise<Counts>,
    peakInFlight: () => ask('peak') as Promise<Record<string, number>>,
    close: async () => {
      if (child.exitCode !== null) return;
      await ask('close');
      child.disconnect();
      await exited;
    },
  };
}

// The front's process: serves until the script closes it or goes away.
if (process.argv[1] === self && process.send) {
  const send = (reply: Reply) => process.send?.(reply);
  let front: ServedFront | undefined;
  process.on('disconnect', () => process.exit(0));
  process.on('message', async (request: Request) => {
    if (request.type === 'start') {
      front = await serveFront(request.options);
      send({ type: 'started', baseUrl: front.baseUrl, limits: front.limits });
    } else if (request.type === 'counts') send({ type: 'reply', id: request.id, value: front?.counts() });
    else if (request.type === 'peak') send({ type: 'reply', id: request.id, value: front?.peakInFlight() });
    else {
      await front?.close();
      send({ type: 'reply', id: request.id, value: null });
    }
  });
}

interface ServedFront {
  baseUrl: string;
  limits: Record<string, Limit>;
  counts(): Counts;
  peakInFlight(): Record<string, number>;
  close(): Promise<void>;
}

async function serveFront(options: AwsFrontOptions): Promise<ServedFront> {
  const { routes, fallback } = plugin.apiThrottles(options.functions, options.requestMs);
  const table = options.functions.flatMap((fn) =>
    fn.routes.map((key) => ({
      key,
      fn,
      matches: key === '$default' ? () => false : matcher(key),
      bucket: new TokenBucket(routes[key] ?? fallback),
    })),
  );
  const catchAll = table.find((route) => route.key === '$default');
  const inFlight = new Map<string, number>();
  const peak: Record<string, number> = {};
  const counts = { apiThrottled: 0, lambdaThrottled: 0, forwarded: 0 };
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const target = new URL(options.target);

  const answer = (response: ServerResponse, status: number, message: string) => {
    response.writeHead(status, { 'content-type': 'application/json', 'apigw-requestid': 'emulated' });
    response.end(JSON.stringify({ message }));
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const route = table.find((r) => r.matches(request.method ?? 'GET', path)) ?? catchAll;
    if (!route) return answer(response, 404, 'Not Found');
    if (!route.bucket.take()) {
      counts.apiThrottled += 1;
      return answer(response, 429, 'Too Many Requests');
    }
    const busy = inFlight.get(route.fn.id) ?? 0;
    if (busy >= route.fn.reserved) {
      // Lambda's TooManyRequestsException (Rate Exceeded), as an HTTP API answers it.
      counts.lambdaThrottled += 1;
      return answer(response, 500, 'Internal Server Error');
    }
    inFlight.set(route.fn.id, busy + 1);
    peak[route.fn.id] = Math.max(peak[route.fn.id] ?? 0, busy + 1);
    counts.forwarded += 1;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      inFlight.set(route.fn.id, (inFlight.get(route.fn.id) ?? 1) - 1);
    };
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: request.method,
        path: request.url,
        headers: { ...request.headers, host: target.host },
      },
      (reply) => {
        response.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(response);
        reply.on('end', finish);
        reply.on('error', finish);
      },
    );
    upstream.on('error', () => {
      finish();
      if (!response.headersSent) answer(response, 502, 'Bad Gateway');
      else response.destroy();
    });
    response.on('close', finish);
    request.pipe(upstream);
  });
  server.keepAliveTimeout = 60000;
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    limits: Object.fromEntries(table.map((route) => [route.key, route.bucket.limit])),
    counts: () => ({ ...counts, loopDelayMaxMs: Math.round(loopDelay.max / 1e6) }),
    peakInFlight: () => ({ ...peak }),
    close: () =>
      new Promise<void>((ok) => {
        loopDelay.disable();
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
