/**
 * The tests' own token for an API they started (test/support/api-process.ts)
 * outlives any run: a run of many fuzz seeds against one API lasted past the
 * token's hour and got the authorizer's 401.
 */
import { jest } from '@jest/globals';
import { decodeJwt } from 'jose';
import { authorizationFor, rememberToken } from '../support/api-process.js';

afterEach(() => {
  jest.useRealTimers();
});

const expiryOf = (headers: Record<string, string>) =>
  Number(decodeJwt(String(headers.authorization).replace(/^Bearer /, '')).exp);

it('sends a token made again once half its hour has gone, so it never expires during a run', () => {
  jest.useFakeTimers({ now: new Date('2026-12-07T10:00:00Z') });
  const first = rememberToken('http://127.0.0.1:1');
  expect(authorizationFor('http://127.0.0.1:1')).toEqual({ authorization: `Bearer ${first}` });

  jest.setSystemTime(new Date('2026-12-07T10:29:00Z'));
  expect(authorizationFor('http://127.0.0.1:1')).toEqual({ authorization: `Bearer ${first}` });

  jest.setSystemTime(new Date('2026-12-07T10:31:00Z'));
  const later = authorizationFor('http://127.0.0.1:1');
  expect(later.authorization).not.toBe(`Bearer ${first}`);
  expect(expiryOf(later) * 1000).toBeGreaterThan(Date.now() + 55 * 60 * 1000);
});

it('sends no token to an API it did not start', () => {
  expect(authorizationFor('http://127.0.0.1:2')).toEqual({});
});
