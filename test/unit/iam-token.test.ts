import { createHash, createHmac } from 'node:crypto';
import { jest } from '@jest/globals';
import { readDatabaseSettings } from '../../lib/config.js';
import { signIamToken, expiresInSeconds as tokenLifetimeSeconds } from '../../lib/db/iam-signer.js';
import { iamTokenPassword } from '../../lib/db/iam-token.js';
import { createDatabase } from '../../lib/db/index.js';

// AWS's documented example credentials: nothing real.
const credentials = {
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'example-secret-key-not-real',
  AWS_SESSION_TOKEN: 'session/token+with=odd chars',
};
const target = { host: 'cats.abc123.eu-west-1.rds.amazonaws.com', port: 5432, user: 'cats_api', region: 'eu-west-1' };

/**
 * An independent SigV4 check of a presigned token, written from AWS's
 * specification rather than with the signer under test: what RDS does with
 * the token (with the secret key it knows for the access key id).
 */
function verify(token: string, secretAccessKey: string, service: string): boolean {
  const [authority, rawQuery = ''] = token.split('/?') as [string, string?];
  const params = new URLSearchParams(rawQuery);
  const signature = params.get('X-Amz-Signature');
  const date = params.get('X-Amz-Date') ?? '';
  const [, , region, scopeService] = (params.get('X-Amz-Credential') ?? '').split('/');
  if (scopeService !== service) return false;
  const rfc3986 = (value: string) =>
    encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const canonicalQuery = [...params.entries()]
    .filter(([name]) => name !== 'X-Amz-Signature')
    .map(([name, value]) => `${rfc3986(name)}=${rfc3986(value)}`)
    .sort()
    .join('&');
  const emptyHash = createHash('sha256').update('').digest('hex');
  const canonicalRequest = ['GET', '/', canonicalQuery, `host:${authority}`, '', 'host', emptyHash].join('\n');
  const scope = `${date.slice(0, 8)}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join(
    '\n',
  );
  let key: Buffer = createHmac('sha256', `AWS4${secretAccessKey}`).update(date.slice(0, 8)).digest();
  for (const part of [region ?? '', service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return createHmac('sha256', key).update(toSign).digest('hex') === signature;
}

describe('signIamToken', () => {
  it('presigns rds-db:connect for the host, port and database user, valid for 15 minutes', async () => {
    const token = await signIamToken(target, new Date('2026-12-06T23:30:00Z'), credentials);
    expect(token.startsWith(`${target.host}:5432/?Action=connect&DBUser=cats_api&X-Amz-`)).toBe(true);
    const params = new URLSearchParams(token.split('/?')[1]);
    expect(params.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(params.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20261206/eu-west-1/rds-db/aws4_request');
    expect(params.get('X-Amz-Date')).toBe('20261206T233000Z');
    expect(params.get('X-Amz-Expires')).toBe(String(tokenLifetimeSeconds));
    expect(tokenLifetimeSeconds).toBe(900);
    expect(params.get('X-Amz-SignedHeaders')).toBe('host');
    expect(params.get('X-Amz-Security-Token')).toBe(credentials.AWS_SESSION_TOKEN);
    expect(params.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is signed for the service rds-db with the credentials in the environment, as a SigV4 check confirms', async () => {
    const token = await signIamToken(target, undefined, credentials);
    expect(verify(token, credentials.AWS_SECRET_ACCESS_KEY, 'rds-db')).toBe(true);
    expect(verify(token, 'another-secret-key', 'rds-db')).toBe(false);
    expect(
      verify(token.replace('DBUser=cats_api', 'DBUser=cats_admin'), credentials.AWS_SECRET_ACCESS_KEY, 'rds-db'),
    ).toBe(false);
  });

  it('names the variables Lambda sets when the credentials are missing', async () => {
    await expect(signIamToken(target, undefined, {})).rejects.toThrow(/AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
  });
});

describe('iamTokenPassword', () => {
  const saved = { ...process.env };
  beforeEach(() => Object.assign(process.env, credentials));
  afterEach(() => {
    jest.useRealTimers();
    for (const name of Object.keys(credentials)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it('reuses the token for 10 of its 15 minutes, then signs a new one', async () => {
    jest.useFakeTimers({ now: new Date('2026-12-06T23:30:00Z'), doNotFake: ['nextTick', 'setImmediate'] });
    const password = iamTokenPassword(target);
    const first = await password();
    jest.setSystemTime(new Date('2026-12-06T23:39:00Z'));
    expect(await password()).toBe(first);
    jest.setSystemTime(new Date('2026-12-06T23:43:00Z'));
    const renewed = await password();
    expect(renewed).not.toBe(first);
    expect(new URLSearchParams(renewed.split('/?')[1]).get('X-Amz-Date')).toBe('20261206T234300Z');
  });

  it('signs again after a failure instead of remembering it', async () => {
    delete process.env.AWS_SECRET_ACCESS_KEY;
    const password = iamTokenPassword(target);
    await expect(password()).rejects.toThrow(/AWS_SECRET_ACCESS_KEY/);
    process.env.AWS_SECRET_ACCESS_KEY = credentials.AWS_SECRET_ACCESS_KEY;
    expect(verify(await password(), credentials.AWS_SECRET_ACCESS_KEY, 'rds-db')).toBe(true);
  });
});

describe('createDatabase with DB_AUTH=iam', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of Object.keys(credentials)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it('gives the pool a password that is a token for its host, port and user', async () => {
    Object.assign(process.env, credentials);
    const { pool, db } = createDatabase(
      readDatabaseSettings({
        DB_HOST: target.host,
        DB_PORT: '5433',
        DB_NAME: 'cats',
        DB_USER: 'cats_api',
        DB_AUTH: 'iam',
        AWS_REGION: 'eu-west-1',
      }),
    );
    try {
      const password = pool.options.password as () => Promise<string>;
      const token = await password();
      expect(token.startsWith(`${target.host}:5433/?Action=connect&DBUser=cats_api&`)).toBe(true);
      expect(verify(token, credentials.AWS_SECRET_ACCESS_KEY, 'rds-db')).toBe(true);
      expect(await password()).toBe(token);
    } finally {
      await db.destroy();
    }
  });
});
