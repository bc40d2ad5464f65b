/**
 * `npm run -s token`: prints an access token, and nothing else, on one line,
 * for `curl -H "Authorization: Bearer $(npm run -s token)"`.
 *
 *   (no option)            a token of `npm start`'s local issuer: both scopes, valid for an hour
 *   --scope <s>            only this scope (repeatable): cats/read, cats/write, or anything
 *   --expires-in <seconds> another lifetime; negative makes an already expired token
 *   --issuer <url>         another issuer, --audience <aud> another audience (wrong ones, for tests)
 *   --stage <s>            a real access token from the stage's Cognito app client
 *                          (client credentials), with --region <r> and --scope
 *
 * With --stage, the token endpoint and the client id are read from the
 * stack's outputs and the client secret from Cognito, at run time, with the
 * AWS credentials of the shell: the secret is never in a file or template.
 */
import { pathToFileURL } from 'node:url';
// Types only: the SDK is loaded for --stage alone, so a local token costs no SDK start-up.
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { localKey, localToken, readScope, writeScope } from './local-issuer.js';

export class UsageError extends Error {}

export interface TokenRequest {
  scopes?: string[];
  expiresIn?: number;
  issuer?: string;
  audience?: string;
  stage?: string;
  region?: string;
}

const usage =
  'Usage: npm run -s token [-- --scope <s>]... [--expires-in <seconds>] [--issuer <url>] [--audience <aud>]\n' +
  '       npm run -s token -- --stage <stage> [--region <region>] [--scope <s>]...';

export function parseTokenArgs(args: string[]): TokenRequest {
  const request: TokenRequest = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const [name, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    const value = () => {
      const next = inline ?? args[++i];
      if (next === undefined || next === '') throw new UsageError(`${name} needs a value.\n${usage}`);
      return next;
    };
    switch (name) {
      case '--scope':
        request.scopes = [...(request.scopes ?? []), value()];
        break;
      case '--expires-in': {
        const raw = value();
        const seconds = Number(raw);
        if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(seconds)) {
          throw new UsageError(`--expires-in takes whole seconds (negative: already expired), got "${raw}"`);
        }
        request.expiresIn = seconds;
        break;
      }
      case '--issuer':
        request.issuer = value();
        break;
      case '--audience':
        request.audience = value();
        break;
      case '--stage':
        request.stage = value();
        break;
      case '--region':
        request.region = value();
        break;
      case '--help':
      case '-h':
        throw new UsageError(usage);
      default:
        throw new UsageError(`Unknown option ${arg}.\n${usage}`);
    }
  }
  if (request.stage !== undefined) {
    const local = (['expiresIn', 'issuer', 'audience'] as const).filter((key) => request[key] !== undefined);
    if (local.length > 0) {
      throw new UsageError(
        `--stage gets a token from Cognito, which decides its issuer, audience and lifetime; drop ${local.map((key) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}.`,
      );
    }
  } else if (request.region !== undefined) {
    throw new UsageError('--region goes with --stage.');
  }
  return request;
}

export interface StageClients {
  cloudFormation: Pick<CloudFormationClient, 'send'>;
  cognito: Pick<CognitoIdentityProviderClient, 'send'>;
  fetch?: typeof fetch;
}

/** The stage's Cognito issuer, as its stack's outputs name it. */
export interface StageIssuer {
  /** The token endpoint of the pool's domain. */
  tokenUrl: string;
  userPoolId: string;
  /** The app client: a token's `client_id`, the authorizer's audience. */
  clientId: string;
  /** `iss` of the pool's tokens: https://cognito-idp.<region>.amazonaws.com/<pool id>. */
  issuer: string;
}

/** The AWS region: told, or the shell's, or the deploy's default (serverless.yml). */
export function awsRegion(region: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
}

/**
 * The stage's Cognito issuer from its stack's outputs (DescribeStacks):
 * what `npm run -s token -- --stage` asks for a token and what
 * `npm start -- --stage` verifies tokens against.
 */
export async function stageIssuer(
  stage: string,
  region: string,
  cloudFormation: Pick<CloudFormationClient, 'send'>,
): Promise<StageIssuer> {
  const { DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const stackName = `cats-api-${stage}`;
  const described = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
  const outputs = Object.fromEntries(
    (described.Stacks?.[0]?.Outputs ?? []).map((output) => [output.OutputKey, output.OutputValue]),
  );
  const { AuthTokenUrl: tokenUrl, AuthUserPoolId: userPoolId, AuthClientId: clientId } = outputs;
  if (!tokenUrl || !userPoolId || !clientId) {
    throw new UsageError(
      `The stack ${stackName} has no Cognito issuer (outputs AuthTokenUrl, AuthUserPoolId, AuthClientId): ` +
        'it was deployed with authIssuer (get a token from that issuer) or authOpen=true (no token needed).',
    );
  }
  return { tokenUrl, userPoolId, clientId, issuer: `https://cognito-idp.${region}.amazonaws.com/${userPoolId}` };
}

/**
 * A client-credentials access token from the stage's Cognito app client: the
 * token endpoint and client id from the stack's outputs, the secret from
 * Cognito (DescribeUserPoolClient), then POST /oauth2/token (RFC 6749 4.4).
 */
export async function stageToken(request: TokenRequest & { stage: string }, clients: StageClients): Promise<string> {
  const { DescribeUserPoolClientCommand } = await import('@aws-sdk/client-cognito-identity-provider');
  const { tokenUrl, userPoolId, clientId } = await stageIssuer(
    request.stage,
    awsRegion(request.region),
    clients.cloudFormation,
  );
  const { UserPoolClient: client } = await clients.cognito.send(
    new DescribeUserPoolClientCommand({ UserPoolId: userPoolId, ClientId: clientId }),
  );
  if (!client?.ClientSecret) throw new Error(`The app client ${clientId} of ${userPoolId} has no secret.`);
  const response = await (clients.fetch ?? fetch)(tokenUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${clientId}:${client.ClientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      scope: (request.scopes ?? [readScope, writeScope]).join(' '),
    }).toString(),
  });
  const text = await response.text();
  let body: { access_token?: string; error?: string; error_description?: string } = {};
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: the status and text below say enough.
  }
  if (!response.ok || typeof body.access_token !== 'string') {
    throw new Error(
      `The token endpoint ${tokenUrl} answered ${response.status}: ${body.error ?? text.slice(0, 200)}` +
        `${body.error_description ? ` (${body.error_description})` : ''}`,
    );
  }
  return body.access_token;
}

export async function token(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const request = parseTokenArgs(args);
  if (request.stage === undefined) return localToken(localKey(), request);
  const region = awsRegion(request.region, env);
  const { CloudFormationClient } = await import('@aws-sdk/client-cloudformation');
  const { CognitoIdentityProviderClient } = await import('@aws-sdk/client-cognito-identity-provider');
  return stageToken(
    { ...request, stage: request.stage, region },
    { cloudFormation: new CloudFormationClient({ region }), cognito: new CognitoIdentityProviderClient({ region }) },
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    // Only the token on stdout, so that $(npm run -s token) is the token.
    process.stdout.write(`${await token(process.argv.slice(2))}\n`);
  } catch (error) {
    console.error(error instanceof UsageError ? error.message : `Could not get a token: ${(error as Error).message}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  }
}
