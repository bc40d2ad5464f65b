import { jest } from '@jest/globals';
import { httpRoute } from '../../lib/http/handler.js';
import { logger } from '../../lib/logger.js';
import { expectProblem } from '../support/assertions.js';
import { call, httpEvent } from '../support/lambda.js';

describe('httpRoute', () => {
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

  it('logs one line per request with its id, route, status and duration', async () => {
    const logged = jest.spyOn(logger, 'info').mockImplementation(() => {});
    try {
      await call(
        httpRoute(async () => ({ status: 204 })),
        httpEvent('delete-cat'),
      );
      expect(logged).toHaveBeenCalledTimes(1);
      expect(logged).toHaveBeenCalledWith(
        'request',
        expect.objectContaining({
          requestId: expect.any(String),
          route: 'DELETE /cats/{id}',
          status: 204,
          durationMs: expect.any(Number),
        }),
      );
    } finally {
      logged.mockRestore();
    }
  });

  it('answers an unexpected error with a generic 500 and logs it in full on the server only', async () => {
    const logged = jest.spyOn(logger, 'error').mockImplementation(() => {});
    try {
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
    } finally {
      logged.mockRestore();
    }
  });
});
