import { jest } from '@jest/globals';
import httpSecurityHeaders from '@middy/http-security-headers';
import { httpRoute, securityHeaders } from '../../lib/http/handler.js';
import { logger } from '../../lib/logger.js';
import { expectProblem } from '../support/assertions.js';
import { call, httpEvent } from '../support/lambda.js';

const savedLevel = process.env.POWERTOOLS_LOG_LEVEL;
// The request line is an INFO line (with metrics off, as here, only a log
// line, which follows the level); the logger reads the level once.
process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
afterAll(() => {
  if (savedLevel === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
  else process.env.POWERTOOLS_LOG_LEVEL = savedLevel;
});

/** What the handlers write to stdout during a test, as lines. */
let written: string[] = [];
const requestLines = () =>
  written
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.message === 'request');

describe('httpRoute', () => {
  beforeEach(() => {
    written = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      written.push(String(chunk));
      return true;
    });
    // Powertools' own lines (the 500s' errors) are asserted where they matter.
    jest.spyOn(logger, 'error').mockImplementation(() => {});
  });
  afterEach(() => jest.restoreAllMocks());

  it('shapes a reply as a JSON API Gateway result', async () => {
    const handler = httpRoute(async () => ({ status: 201, body: { ok: true }, headers: { location: '/x' } }));
    const reply = await call(handler, httpEvent('create-cat'), { contract: false });
    expect(reply.status).toBe(201);
    expect(reply.raw.body).toBe('{"ok":true}');
    expect(reply.headers).toMatchObject({ 'content-type': 'application/json', location: '/x' });
  });

  it('adds security headers and the request id to every response, errors included', async () => {
    const ok = await call(
      httpRoute(async () => ({ status: 200, body: {} })),
      httpEvent('get-cat'),
      { contract: false },
    );
    const failed = await call(
      httpRoute(async () => {
        throw new Error('boom');
      }),
      httpEvent('get-cat'),
      { contract: false },
    );
    for (const reply of [ok, failed]) {
      expect(reply.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'strict-transport-security': 'max-age=15552000',
        'x-request-id': expect.stringMatching(/^test-request-\d+$/),
      });
      expect(Object.values(reply.raw.headers ?? {})).not.toContain(undefined);
      expect(reply.headers['reporting-endpoints']).toBeUndefined();
    }
    expect(failed.headers['x-request-id']).toBe(failed.body.requestId);
  });

  it("logs one line per request with its id, route, status and duration, in Powertools Logger's shape", async () => {
    await call(
      httpRoute(async () => ({ status: 204 })),
      httpEvent('delete-cat'),
    );
    // One write, one line; with metrics off (as in these tests) a plain log line, without `_aws`.
    expect(written).toHaveLength(1);
    expect(requestLines()).toEqual([
      {
        level: 'INFO',
        message: 'request',
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        service: 'cats-api',
        sampling_rate: 0,
        requestId: expect.stringMatching(/^test-request-/),
        route: 'DELETE /cats/{id}',
        path: expect.stringMatching(/^\/cats\//),
        status: 204,
        durationMs: expect.any(Number),
        sub: '4hq1example0client0id0abcd',
        clientId: '4hq1example0client0id0abcd',
      },
    ]);
  });

  it("records the caller (the token's sub and client_id that the authorizer passed) in the request line", async () => {
    await call(
      httpRoute(async () => ({ status: 204 })),
      httpEvent('delete-cat'),
    );
    expect(requestLines()).toEqual([
      expect.objectContaining({ sub: '4hq1example0client0id0abcd', clientId: '4hq1example0client0id0abcd' }),
    ]);
  });

  it('records no caller on a public route, even when the request carries a token', async () => {
    // API Gateway checks no token on a route without the authorizer and passes no claims.
    const event = httpEvent('get-cat', {
      headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJtYWxsb3J5In0.' },
    });
    await call(
      httpRoute(async () => ({ status: 200, body: {} })),
      event,
      { contract: false },
    );
    const [line] = requestLines();
    expect(line).toMatchObject({ route: 'GET /cats/{id}', status: 200 });
    expect(line?.sub).toBeUndefined();
    expect(line?.clientId).toBeUndefined();
    expect(written.join('')).not.toContain('mallory');
  });

  it('escapes what the client sent (the path) so the line stays one JSON object', async () => {
    const event = httpEvent('get-cat');
    event.rawPath = '/cats/"},"status":1,"x":"\n';
    await call(
      httpRoute(async () => ({ status: 404, body: {} })),
      event,
      { contract: false },
    );
    expect(requestLines()).toEqual([expect.objectContaining({ path: event.rawPath, status: 404 })]);
  });

  it('answers an unexpected error with a generic 500 and logs it in full on the server only', async () => {
    const logged = jest.spyOn(logger, 'error').mockImplementation(() => {});
    {
      const handler = httpRoute(async () => {
        throw new TypeError('secret internal detail: SELECT * FROM cats');
      });
      const reply = await call(handler, httpEvent('get-cat'), { contract: false });
      expectProblem(reply, 500);
      expect(reply.body.type).toBe('/problems/internal-error');
      expect(JSON.stringify(reply.body)).not.toContain('secret internal detail');
      expect(logged).toHaveBeenCalledWith(
        'request failed',
        expect.objectContaining({ requestId: reply.body.requestId, status: 500, error: expect.any(TypeError) }),
      );
      const fields = logged.mock.calls[0]?.[1] as unknown as { error?: Error } | undefined;
      expect(fields?.error?.message).toContain('secret internal detail');
      expect(fields?.error?.stack).toMatch(/handler\.test\.ts/); // Powertools logs the stack with it
      // ... and the request line still says which request it was.
      expect(requestLines()).toEqual([
        expect.objectContaining({ requestId: reply.body.requestId, route: 'GET /cats/{id}', status: 500 }),
      ]);
    }
  });
});

describe('securityHeaders', () => {
  const optionSets: object[] = [
    {},
    { reportTo: false, poweredBy: false, strictTransportSecurity: { maxAge: 60, includeSubDomains: false } },
    { contentSecurityPolicy: { 'default-src': "'self'", sandbox: false }, referrerPolicy: false },
  ];
  const responses = (): Array<
    { statusCode?: number; headers?: Record<string, unknown>; body?: string } | undefined
  > => [
    { statusCode: 200, headers: { 'content-type': 'application/json', etag: '"1"' }, body: '{}' },
    { statusCode: 404, headers: { 'content-type': 'application/problem+json' }, body: '{}' },
    { statusCode: 204, headers: {} },
    { statusCode: 304, headers: { etag: '"2"', 'Referrer-Policy': 'origin' } },
    { statusCode: 200, headers: { 'content-type': 'text/css; charset=utf-8' }, body: 'a{}' },
    { statusCode: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<p>' },
    { statusCode: 200, headers: { 'Content-Type': 'text/html' }, body: '<p>' },
    { statusCode: 200, body: 'no headers' },
    { headers: {}, body: 'no status' },
    undefined,
  ];

  it("sets exactly middy's headers, in middy's order, on every kind of response", async () => {
    for (const options of optionSets) {
      const ours = securityHeaders(options);
      const theirs = httpSecurityHeaders(options);
      // Twice: the first response works the headers out, later ones reuse them.
      for (const round of [1, 2]) {
        const expected = responses();
        const actual = responses();
        for (const [i, response] of expected.entries()) {
          for (const hook of ['after', 'onError'] as const) {
            const a = { event: {}, context: {}, response: structuredClone(actual[i]) } as never;
            const b = { event: {}, context: {}, response: structuredClone(response) } as never;
            await ours[hook]?.(a);
            await theirs[hook]?.(b);
            const entries = (r: { response?: { headers?: object } }) => Object.entries(r.response?.headers ?? {});
            expect([round, hook, entries(a)]).toEqual([round, hook, entries(b)]);
            expect((a as { response?: unknown }).response).toEqual((b as { response?: unknown }).response);
          }
        }
      }
    }
  });
});
