/**
 * The request line (lib/metrics.ts) is the request's metrics record as well as
 * its log line: with metrics on, raising the log level above INFO must not
 * take the metrics away. The settings are read once per module instance, so
 * this file sets them before its first request.
 */
import { jest } from '@jest/globals';
import { httpRoute } from '../../lib/http/handler.js';
import { logger } from '../../lib/logger.js';
import { call, httpEvent } from '../support/lambda.js';

const saved = {
  POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL,
  POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED,
};
process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
afterAll(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('the request line at log level WARN, with metrics on', () => {
  it('is still written, once per request, with its metrics and its log fields, while other INFO lines are not', async () => {
    const written: string[] = [];
    const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const handler = httpRoute(async () => ({ status: 200, body: {} }));
      await call(handler, httpEvent('get-cat'), { contract: false });
      await call(handler, httpEvent('get-cat'), { contract: false });
      logger.info('not at WARN');
    } finally {
      out.mockRestore();
    }
    const lines = written
      .join('')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).toMatchObject({ message: 'request', route: 'GET /cats/{id}', status: 200, Requests: 1 });
      expect(line._aws).toEqual(expect.objectContaining({ CloudWatchMetrics: expect.any(Array) }));
    }
  });
});
