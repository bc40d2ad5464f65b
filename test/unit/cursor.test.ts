import { type Cursor, decodeCursor, encodeCursor } from '../../lib/cats/cursor.js';
import { HttpProblem } from '../../lib/http/problem.js';

const encodeRaw = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Calls decodeCursor expecting it to throw, and returns what it threw. */
function rejection(raw: string, breed: string | null = null): HttpProblem {
  try {
    decodeCursor(raw, breed);
  } catch (error) {
    expect(error).toBeInstanceOf(HttpProblem);
    return error as HttpProblem;
  }
  throw new Error(`decodeCursor accepted ${JSON.stringify(raw)}`);
}

describe('cursor', () => {
  it.each<Cursor>([
    { after: 0, breed: null },
    { after: 42, breed: 'bengal' },
    { after: 2147483647, breed: 'Maine Coon 🐱 ünïcode' },
  ])('decodes what it encoded: %p', (cursor) => {
    expect(decodeCursor(encodeCursor(cursor), cursor.breed)).toEqual(cursor);
  });

  it('is opaque and URL-safe', () => {
    expect(encodeCursor({ after: 123, breed: 'a/b+c?d=e' })).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  const valid = encodeCursor({ after: 5, breed: null });

  it.each([
    ['empty', ''],
    ['not base64url', 'abc$%^'],
    ['padded standard base64', `${Buffer.from('{"v":1,"after":5,"breed":null}').toString('base64')}=`],
    ['garbage that decodes to no JSON', 'abcdefgh'],
    ['truncated', valid.slice(0, -2)],
    ['a JSON number', encodeRaw(5)],
    ['JSON null', encodeRaw(null)],
    ['another version', encodeRaw({ v: 2, after: 5, breed: null })],
    ['a negative id', encodeRaw({ v: 1, after: -1, breed: null })],
    ['an id beyond the integer range', encodeRaw({ v: 1, after: 2147483648, breed: null })],
    ['a fractional id', encodeRaw({ v: 1, after: 1.5, breed: null })],
    ['an id as a string', encodeRaw({ v: 1, after: '5', breed: null })],
    ['an extra member', encodeRaw({ v: 1, after: 5, breed: null, admin: true })],
    ['no breed member', encodeRaw({ v: 1, after: 5 })],
  ])('rejects a cursor that is %s with a 400 naming cursor', (_label, raw) => {
    const problem = rejection(raw);
    expect(problem.status).toBe(400);
    expect(problem.errors).toEqual([{ field: 'cursor', in: 'query', detail: 'is not a cursor this API issued' }]);
  });

  it.each([
    ['a breed', 'bengal', null],
    ['no breed', null, 'bengal'],
    ['another breed', 'bengal', 'siamese'],
    ['a breed differing in case', 'bengal', 'Bengal'],
  ])('rejects a cursor issued for %s when listing another filter', (_label, issuedFor, listing) => {
    const problem = rejection(encodeCursor({ after: 5, breed: issuedFor }), listing);
    expect(problem.status).toBe(400);
    expect(problem.errors?.[0]?.field).toBe('cursor');
    expect(problem.detail).toMatch(/different breed filter/);
  });

  it('does not echo the raw cursor back in its problem', () => {
    const problem = rejection('<script>alert(1)</script>');
    expect(JSON.stringify({ ...problem, detail: problem.detail })).not.toContain('script');
  });
});
