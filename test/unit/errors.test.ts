import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isConnectionLost, isDatabaseUnavailable, RowNotFound, VersionMismatch } from '../../lib/db/errors.js';
import { retryAfterSeconds, toProblem } from '../../lib/http/errors.js';
import { HttpProblem, notFoundProblem, problemTypes } from '../../lib/http/problem.js';

const withCode = (code: string, message = 'pg error') => Object.assign(new Error(message), { code });

describe('database error classification', () => {
  it.each<[string, unknown, boolean]>([
    ['admin shutdown 57P01', { code: '57P01' }, true],
    ['a connection exception class 08', withCode('08006'), true],
    ['ECONNREFUSED', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'), true],
    ['a pool connect timeout', new Error('timeout exceeded when trying to connect'), true],
    ['an unexpected termination', new Error('Connection terminated unexpectedly'), true],
    ['too many connections 53300', { code: '53300' }, false],
    ['statement timeout 57014', { code: '57014' }, false],
  ])('sees %s as the database being unavailable (connection lost: %p)', (_label, error, lost) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(isConnectionLost(error)).toBe(lost);
  });

  it.each<[string, unknown]>([
    ['a unique violation 23505', { code: '23505' }],
    ['a syntax error 42601', withCode('42601')],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a string', 'ECONNREFUSED'],
    ['null', null],
    ['undefined', undefined],
    ['a numeric code', { code: 57 }],
  ])('does not see %s as the database being unavailable', (_label, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
    expect(isConnectionLost(error)).toBe(false);
  });

  it('finds the database error in the cause chain of a wrapper', () => {
    const wrapped = new Error('query failed', { cause: new Error('outer', { cause: { code: '57P01' } }) });
    expect(isConnectionLost(wrapped)).toBe(true);
    expect(isDatabaseUnavailable(new Error('create failed', { cause: { code: '53300' } }))).toBe(true);
  });

  it('finds the database error among the errors of an AggregateError', () => {
    const aggregate = new AggregateError([new Error('IPv6 failed'), withCode('ECONNREFUSED')], 'connect failed');
    expect(isConnectionLost(aggregate)).toBe(true);
    expect(isDatabaseUnavailable(new AggregateError([new TypeError('x'), { code: '23505' }]))).toBe(false);
  });

  it('stops following a cause chain that loops', () => {
    const looping: { code: string; cause?: unknown } = { code: '23505' };
    looping.cause = looping;
    expect(isDatabaseUnavailable(looping)).toBe(false);
  });
});

describe('toProblem', () => {
  it('passes an HttpProblem through unchanged', () => {
    const problem = notFoundProblem('cat 5');
    expect(toProblem(problem)).toBe(problem);
  });

  it('answers a row the database layer did not find with a 404 naming it', () => {
    const problem = toProblem(new RowNotFound('owner', 7));
    expect(problem).toMatchObject({ status: 404, type: problemTypes.notFound, detail: 'owner 7 does not exist' });
  });

  it('answers a version mismatch with a 412 giving the current ETag, in the header and the detail', () => {
    const problem = toProblem(new VersionMismatch('cat', 3, 5));
    expect(problem).toMatchObject({ status: 412, type: problemTypes.preconditionFailed, headers: { etag: '"5"' } });
    expect(problem.detail).toContain('cat 3 has changed');
    expect(problem.errors).toEqual([expect.objectContaining({ field: 'if-match', in: 'header' })]);
  });

  it('is the only place that knows HTTP: no module of lib/db imports from lib/http', () => {
    const dir = fileURLToPath(new URL('../../lib/db', import.meta.url));
    const importers = readdirSync(dir).filter((file) =>
      /from '\.\.\/http\//.test(readFileSync(`${dir}/${file}`, 'utf8')),
    );
    expect(importers).toEqual([]);
  });

  it.each([{ code: '57P01' }, new Error('timeout exceeded when trying to connect'), { code: '53300' }])(
    'turns the unavailable-database error %p into a 503 with Retry-After',
    (error) => {
      const problem = toProblem(error);
      expect(problem).toBeInstanceOf(HttpProblem);
      expect(problem.status).toBe(503);
      expect(problem.type).toBe(problemTypes.databaseUnavailable);
      expect(problem.headers).toEqual({ 'retry-after': String(retryAfterSeconds) });
    },
  );

  it.each([
    withCode('23505', 'duplicate key value violates unique constraint "cats_pkey"'),
    new TypeError('secret-internal-detail is not a function'),
    'thrown string secret-internal-detail',
    undefined,
  ])('turns anything else (%p) into a 500 that says nothing internal', (error) => {
    const problem = toProblem(error);
    expect(problem.status).toBe(500);
    expect(problem.type).toBe(problemTypes.internal);
    expect(problem.headers).toEqual({});
    expect(problem.errors).toBeUndefined();
    const text = JSON.stringify({ detail: problem.detail, title: problem.title, message: problem.message });
    expect(text).not.toMatch(/secret-internal-detail|duplicate key|cats_pkey/);
  });
});

describe('error classification on pathological errors', () => {
  it('terminates on an AggregateError that contains itself', () => {
    const loop = new AggregateError([], 'loop');
    loop.errors.push(loop);
    expect(isDatabaseUnavailable(loop)).toBe(false);
    expect(toProblem(loop).status).toBe(500);
  });
});
