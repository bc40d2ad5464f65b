/**
 * Signs RDS IAM authentication tokens (see iam-token.ts, which imports this
 * module on the first connection only). Static, named imports: esbuild keeps
 * only the parts of the SDK's packages used here, where a dynamic import of
 * a package keeps all of it (141 KB against the few KB signing needs).
 */
import { Hash } from '@smithy/hash-node';
import { buildQueryString } from '@smithy/querystring-builder';
import { SignatureV4 } from '@smithy/signature-v4';

/** RDS accepts a token for 15 minutes after it was signed. */
export const expiresInSeconds = 900;

export interface IamTokenOptions {
  host: string;
  port: number;
  user: string;
  region: string;
}

/** The function's credentials as Lambda provides them (its execution role's session), not the SDK's provider chain. */
function environmentCredentials(env: NodeJS.ProcessEnv = process.env) {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error(
      'IAM database authentication needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (Lambda sets them from the function role)',
    );
  }
  return { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
}

/** One token, `host:port/?Action=connect&DBUser=...&X-Amz-...`, as `@aws-sdk/rds-signer` writes it. */
export async function signIamToken(
  options: IamTokenOptions,
  signingDate = new Date(),
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const signer = new SignatureV4({
    service: 'rds-db',
    region: options.region,
    credentials: environmentCredentials(env),
    sha256: Hash.bind(null, 'sha256'),
  });
  const authority = `${options.host}:${options.port}`;
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname: options.host,
      port: options.port,
      path: '/',
      query: { Action: 'connect', DBUser: options.user },
      headers: { host: authority },
    },
    { expiresIn: expiresInSeconds, signingDate },
  );
  return `${authority}/?${buildQueryString(presigned.query ?? {})}`;
}
