import { readFileSync } from 'node:fs';
/**
 * Reading the database password from Secrets Manager. The AWS SDK client is
 * stubbed (aws-sdk-client-mock); test/integration/database-tls.test.ts uses
 * the same code against a real PostgreSQL.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { rdsCaFile, readSecretWithSdk, SecretError, secretPassword, tlsOptions } from '../../lib/db/credentials.js';

const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1234-AbCdEf';
const secretsManager = mockClient(SecretsManagerClient);

afterEach(() => secretsManager.reset());

it('asks Secrets Manager for the secret by its ARN and returns its string', async () => {
  secretsManager.on(GetSecretValueCommand, { SecretId: arn }).resolves({ SecretString: '{"password":"x"}' });
  await expect(readSecretWithSdk(arn)).resolves.toBe('{"password":"x"}');
  expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
});

it('fails with a message naming the secret when it has no string (a binary secret)', async () => {
  secretsManager.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1]) });
  await expect(readSecretWithSdk(arn)).rejects.toThrow(`secret ${arn} has no SecretString`);
});

it('reads the secret once however many connections ask, until told to forget it', async () => {
  secretsManager.on(GetSecretValueCommand).resolves({ SecretString: '{"username":"cats_admin","password":"pw-1"}' });
  const secret = secretPassword(arn, 'cats_admin');
  await expect(Promise.all([secret.password(), secret.password()])).resolves.toEqual(['pw-1', 'pw-1']);
  await expect(secret.password()).resolves.toBe('pw-1');
  expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  secretsManager.on(GetSecretValueCommand).resolves({ SecretString: '{"username":"cats_admin","password":"pw-2"}' });
  secret.forget();
  await expect(secret.password()).resolves.toBe('pw-2');
  expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
});

it('does not cache a failed read: the next connection tries Secrets Manager again', async () => {
  secretsManager.on(GetSecretValueCommand).rejectsOnce(new Error('endpoint unreachable')).resolves({
    SecretString: '{"password":"pw"}',
  });
  const secret = secretPassword(arn, 'cats_admin');
  await expect(secret.password()).rejects.toThrow('endpoint unreachable');
  await expect(secret.password()).resolves.toBe('pw');
});

it.each([
  ['not JSON', 'hunter2', 'is not JSON'],
  ['without a password', '{"username":"cats_admin"}', 'has no "password"'],
  [
    'for another user',
    '{"username":"postgres","password":"pw"}',
    'is for user "postgres", but DB_USER is "cats_admin"',
  ],
])('rejects a secret %s with a message that says so, never the secret itself', async (_case, value, message) => {
  const secret = secretPassword(arn, 'cats_admin', async () => value);
  const error = await secret.password().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(SecretError);
  expect((error as Error).message).toBe(`secret ${arn} ${message}`);
  expect((error as Error).message).not.toContain('hunter2');
});

it('verifies certificates and host names, against the RDS CAs unless a CA file is given', () => {
  expect(tlsOptions({ mode: 'off' })).toBe(false);
  const options = tlsOptions({ mode: 'verify' });
  expect(options).toEqual({ secureContext: expect.anything(), rejectUnauthorized: true });
  // One parsed CA bundle per container, shared by every connection.
  expect(tlsOptions({ mode: 'verify' })).toEqual(options);
  expect((tlsOptions({ mode: 'verify' }) as { secureContext: unknown }).secureContext).toBe(
    (options as { secureContext: unknown }).secureContext,
  );
  // The RDS CAs of 2024 (rsa2048/4096, ecc384) and the proxy's Amazon roots.
  const pem = readFileSync(rdsCaFile(), 'utf8');
  expect(pem.match(/-----BEGIN CERTIFICATE-----/g)?.length).toBeGreaterThan(50);
});
