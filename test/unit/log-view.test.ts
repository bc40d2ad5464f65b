import { formatLogLine } from '../../scripts/log-view.js';

describe("npm start's log view", () => {
  it('turns a request log line into one readable line', () => {
    const line = JSON.stringify({
      level: 'INFO',
      message: 'request',
      timestamp: '2026-11-23T20:07:58.271Z',
      requestId: 'abc',
      route: 'GET /cats/{id}',
      path: '/cats/1',
      status: 200,
      durationMs: 4,
    });
    expect(formatLogLine(line)).toBe('20:07:58 GET /cats/1 -> 200 in 4 ms  [abc]');
  });

  it('names the caller of a request that carried an accepted token', () => {
    const entry = {
      level: 'INFO',
      message: 'request',
      timestamp: '2026-11-23T20:07:58.271Z',
      requestId: 'abc',
      route: 'POST /cats',
      path: '/cats',
      status: 201,
      durationMs: 4,
    };
    expect(formatLogLine(JSON.stringify({ ...entry, sub: 'local-developer', clientId: 'local-developer' }))).toBe(
      '20:07:58 POST /cats -> 201 in 4 ms  [abc]  by local-developer',
    );
    expect(formatLogLine(JSON.stringify({ ...entry, sub: 'user-1', clientId: 'app-2' }))).toBe(
      '20:07:58 POST /cats -> 201 in 4 ms  [abc]  by user-1 (client app-2)',
    );
  });

  it('shows the request line that is also its metrics (EMF) as one request line, and its metrics under it when asked', () => {
    const line = JSON.stringify({
      level: 'INFO',
      message: 'request',
      timestamp: '2026-11-23T20:07:58.271Z',
      service: 'cats-api',
      sampling_rate: 0,
      xray_trace_id: '1-5759e988-bd862e3fe1be46a994272793',
      requestId: 'abc',
      route: 'GET /cats/{id}',
      path: '/cats/1',
      status: 200,
      durationMs: 4,
      _aws: {
        Timestamp: Date.parse('2026-11-23T20:07:58.271Z'),
        CloudWatchMetrics: [
          {
            Namespace: 'cats-api/dev',
            Dimensions: [['service', 'route']],
            Metrics: [
              { Name: 'Requests', Unit: 'Count' },
              { Name: 'Latency', Unit: 'Milliseconds' },
            ],
          },
        ],
      },
      Requests: 1,
      Latency: 4,
    });
    expect(formatLogLine(line)).toBe('20:07:58 GET /cats/1 -> 200 in 4 ms  [abc]');
    expect(formatLogLine(line, { metrics: true })).toBe(
      '20:07:58 GET /cats/1 -> 200 in 4 ms  [abc]\n20:07:58 metrics GET /cats/{id}: Requests 1, Latency 4 ms',
    );
  });

  it('shows an error with its level, request id and stack', () => {
    const line = JSON.stringify({
      level: 'ERROR',
      message: 'request failed',
      timestamp: '2026-11-23T20:07:58.271Z',
      requestId: 'abc',
      error: { name: 'TypeError', message: 'boom', stack: 'TypeError: boom\n    at f (x.ts:1:1)' },
    });
    expect(formatLogLine(line)).toBe('20:07:58 ERROR request failed  [abc]\nTypeError: boom\n    at f (x.ts:1:1)');
  });

  it("drops serverless-offline's per-invocation lines and passes other text through", () => {
    expect(formatLogLine('GET /cats/1 (λ: getCat)')).toBeNull();
    expect(formatLogLine('(λ: getCat) RequestId: 1a2b  Duration: 4.12 ms  Billed Duration: 5 ms')).toBeNull();
    expect(formatLogLine('Server ready: http://localhost:3000 🚀')).toBe('Server ready: http://localhost:3000 🚀');
    expect(formatLogLine('{not json')).toBe('{not json');
    expect(formatLogLine('Running JWT Authorization function for post /cats (cats)')).toBeNull();
    expect(formatLogLine('JWT Token validated')).toBeNull();
    // A refusal's reason stays visible, without the stack serverless-offline prints under it.
    expect(formatLogLine('JWT Token expired')).toBe('JWT Token expired');
    expect(formatLogLine('JWT could not be decoded')).toBe('JWT could not be decoded');
    for (const line of [
      '× { JWTInvalid: JWTs must use Compact JWS serialization, JWT must be a string',
      '      at Object.authenticate (file:///x/node_modules/serverless-offline/src/events/http/createJWTAuthScheme.js:39:24)',
      "    code: 'ERR_JWT_INVALID' }",
      '      at decodeJwt (file:///x/node_modules/jose/dist/node/esm/util/decode_jwt.js:7:15)',
      '      at exports.Manager.execute (/x/node_modules/@hapi/hapi/lib/toolkit.js:51:36)',
      '      at async Request._execute (/x/node_modules/@hapi/hapi/lib/request.js:294:9)',
      'ANY /nope (λ: unmatched)',
    ]) {
      expect(formatLogLine(line)).toBeNull();
    }
  });

  it('hides the metrics-only (EMF) lines, such as a cold start, unless asked, then shows each as one line', () => {
    const line = JSON.stringify({
      _aws: {
        Timestamp: Date.parse('2026-11-23T20:07:58.271Z'),
        CloudWatchMetrics: [
          {
            Namespace: 'cats-api/dev',
            Dimensions: [['service', 'route']],
            Metrics: [
              { Name: 'Requests', Unit: 'Count' },
              { Name: 'Latency', Unit: 'Milliseconds' },
            ],
          },
        ],
      },
      service: 'cats-api',
      route: 'GET /cats/{id}',
      Requests: 1,
      Latency: 4,
    });
    expect(formatLogLine(line)).toBeNull();
    expect(formatLogLine(line, { metrics: true })).toBe('20:07:58 metrics GET /cats/{id}: Requests 1, Latency 4 ms');
  });
});
