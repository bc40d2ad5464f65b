/**
 * With metrics off (POWERTOOLS_METRICS_DISABLED), the request line is only a
 * log line: no EMF metadata, and it follows the log level like any INFO line.
 * The settings are read once per module instance, hence a file of its own.
 */
import { jest } from '@jest/globals';
import { httpRoute } from '../../lib/http/handler.js';
import { call, httpEvent } from '../support/lambda.js';

const saved = {
  POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL,
  POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED,
};
process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
afterAll(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('the request line with metrics off', () => {
  it('is not written at log level WARN', async () => {
    const written: string[] = [];
    const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const reply = await call(
        httpRoute(async () => ({ status: 200, body: {} })),
        httpEvent('get-cat'),
        { contract: false },
      );
      expect(reply.status).toBe(200);
    } finally {
      out.mockRestore();
    }
    expect(written).toEqual([]);
  });
});
