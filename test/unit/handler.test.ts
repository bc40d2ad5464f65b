import { jest } from '@jest/globals';
import { httpRoute } from '../../lib/http/handler.js';
import { logger } from '../../lib/logger.js';
import { expectProblem } from '../support/assertions.js';
import { call, httpEvent } from '../support/lambda.js';

describe('httpRoute', () => {
  it('shapes a reply as a JSON API Gateway result', async () => {
    const handler = httpRoute(async () => ({ status: 201, body: { ok: true }, headers: { location: '/x' } }));
    const reply = await call(handler, httpEvent('create-cat'));
    expect(reply.raw).toEqual({
      statusCode: 201,
      headers: { 'content-type': 'application/json', location: '/x' },
      body: '{"ok":true}',
    });
  });

  it('answers an unexpected error with a generic 500 and logs it in full on the server only', async () => {
    const logged = jest.spyOn(logger, 'error').mockImplementation(() => {});
    try {
      const handler = httpRoute(async () => {
        throw new TypeError('secret internal detail: SELECT * FROM cats');
      });
      const reply = await call(handler, httpEvent('get-cat'));
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
    } finally {
      logged.mockRestore();
    }
  });
});
