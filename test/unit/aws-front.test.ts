/**
 * The fault script's emulated AWS front (scripts/reliability/aws-front.ts):
 * a function past its reserved concurrency gets API Gateway's 500, a route
 * past its throttle gets API Gateway's 429, and the rest reaches the target.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AwsFront, startAwsFront } from '../../scripts/reliability/aws-front.js';

let target: Server;
let targetUrl: string;
/** Requests the target holds until the test lets them go. */
const held: ServerResponse[] = [];

beforeAll(async () => {
  target = createServer((request: IncomingMessage, response: ServerResponse) => {
    if (request.url?.startsWith('/slow')) held.push(response);
    else response.end(JSON.stringify({ path: request.url }));
  });
  await new Promise<void>((ok) => target.listen(0, '127.0.0.1', ok));
  targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const response of held) response.end();
  await new Promise((ok) => target.close(ok));
});

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

async function withFront(requestMs: number, test: (front: AwsFront) => Promise<void>): Promise<void> {
  const front = await startAwsFront({
    target: targetUrl,
    functions: [
      { id: 'SlowLambdaFunction', reserved: 2, routes: ['GET /slow/{id}'] },
      { id: 'FastLambdaFunction', reserved: 2, routes: ['GET /fast', '$default'] },
    ],
    requestMs,
  });
  try {
    await test(front);
  } finally {
    for (const response of held.splice(0)) response.end();
    await front.close();
  }
}

it('answers 500 with API Gateway’s body when a function has its reserved concurrency in flight', async () => {
  // 1 ms per request: the throttle lets one in per ms, so only the reservation limits.
  await withFront(1, async (front) => {
    const pending = [];
    for (let i = 0; i < 2; i += 1) {
      pending.push(fetch(`${front.baseUrl}/slow/${i}`));
      while (held.length <= i) await sleep(5);
    }
    const third = await fetch(`${front.baseUrl}/slow/3`);
    expect(third.status).toBe(500);
    expect(await third.text()).toBe('{"message":"Internal Server Error"}');
    // Another function is not affected.
    expect((await fetch(`${front.baseUrl}/fast`)).status).toBe(200);
    for (const response of held.splice(0)) response.end();
    await Promise.all(pending);
    expect((await front.counts()).lambdaThrottled).toBe(1);
    expect(await front.peakInFlight()).toMatchObject({ SlowLambdaFunction: 2 });
  });
});

it('answers 429 with API Gateway’s body past a route’s burst, before invoking the function', async () => {
  // A request may take 1000 s: the bucket refills at 0.001 per second, burst 1.
  await withFront(1000000, async (front) => {
    expect(front.limits['GET /fast']).toEqual({ rate: 0, burst: 1 });
    expect((await fetch(`${front.baseUrl}/fast`)).status).toBe(200);
    const throttled = await fetch(`${front.baseUrl}/fast`);
    expect(throttled.status).toBe(429);
    expect(await throttled.text()).toBe('{"message":"Too Many Requests"}');
    expect(await front.counts()).toMatchObject({ apiThrottled: 1, forwarded: 1 });
  });
});

it('sends a request no route matches to the $default route’s function, with its own throttle', async () => {
  await withFront(1000000, async (front) => {
    const reply = await fetch(`${front.baseUrl}/nowhere?x=1`);
    expect(await reply.json()).toEqual({ path: '/nowhere?x=1' });
    expect((await fetch(`${front.baseUrl}/nowhere`)).status).toBe(429);
  });
});
