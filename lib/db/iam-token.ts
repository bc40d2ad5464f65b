/**
 * The password of a function that connects with RDS IAM database
 * authentication (DB_AUTH=iam): a token that is a SigV4-presigned
 * `rds-db:connect` request for the database user, signed inside the function
 * with its own role's credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
 * and AWS_SESSION_TOKEN, which Lambda puts in the environment). No secret is
 * read; RDS checks the signature and the role's `rds-db:connect` permission.
 */
import aws4 from 'aws4';

/** RDS accepts a token for 15 minutes after it was signed. */
export const tokenLifetimeSeconds = 900;
/** A token is signed again this long before it expires, so a slow connect never sends a stale one. */
export const tokenRenewalMarginSeconds = 180;

export interface IamTokenOptions {
  host: string;
  port: number;
  user: string;
  region: string;
}

export class IamTokenError extends Error {
  override name = 'IamTokenError';
}

/** The credentials Lambda provides to the function, from the environment. */
function credentialsFromEnvironment(env: NodeJS.ProcessEnv) {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = env;
  if (!accessKeyId || !secretAccessKey) {
    throw new IamTokenError(
      'DB_AUTH=iam signs its token with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, which Lambda sets; they are not set',
    );
  }
  return {
    accessKeyId,
    secretAccessKey,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
  };
}

/**
 * Signs one token: `host:port/?Action=connect&DBUser=...&X-Amz-...`, as
 * `@aws-sdk/rds-signer` formats it, with aws4 (a SigV4 signer of a few KB on
 * node:crypto; the SDK's @smithy/signature-v4 brings 140 KB of @smithy/core
 * into every bundle).
 */
export async function signIamToken(
  { host, port, user, region }: IamTokenOptions,
  env: NodeJS.ProcessEnv = process.env,
  now: Date = new Date(),
): Promise<string> {
  const credentials = credentialsFromEnvironment(env);
  const date = now.toISOString().replace(/[:-]|\.\d{3}/g, '');
  const query = new URLSearchParams({
    Action: 'connect',
    DBUser: user,
    'X-Amz-Date': date,
    'X-Amz-Expires': String(tokenLifetimeSeconds),
  });
  const signed = aws4.sign(
    {
      method: 'GET',
      host,
      path: `/?${query}`,
      service: 'rds-db',
      region,
      signQuery: true,
      headers: { Host: `${host}:${port}` },
    },
    credentials,
  );
  return `${host}:${port}${signed.path}`;
}

/**
 * A `password` function for `pg`: the current token, signed on first use and
 * reused until {@link tokenRenewalMarginSeconds} before it expires, so a
 * container signs about once every 12 minutes however many connections it
 * opens.
 */
export function iamTokenPassword(options: IamTokenOptions): () => Promise<string> {
  let cached: { token: Promise<string>; renewAt: number } | undefined;
  return () => {
    const now = Date.now();
    if (cached === undefined || now >= cached.renewAt) {
      const token = signIamToken(options, process.env, new Date(now));
      const entry = { token, renewAt: now + (tokenLifetimeSeconds - tokenRenewalMarginSeconds) * 1000 };
      cached = entry;
      // A failed signature is not kept: the next connection signs again.
      token.catch(() => {
        if (cached === entry) cached = undefined;
      });
    }
    return cached.token;
  };
}
