/**
 * `npm run -s token`: local tokens (signed with the key in the data folder,
 * as serverless-offline will see them) and, with --stage, the client
 * credentials request to the stage's Cognito token endpoint, with the AWS
 * SDK clients stubbed and a local stand-in for the token endpoint.
 */
import { spawnSync } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  CognitoIdentityProviderClient,
  DescribeUserPoolClientCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { localAudience, localIssuer, localKey, localToken } from '../../scripts/local-issuer.js';
import { parseTokenArgs, stageIssuer, stageToken, UsageError } from '../../scripts/token.js';
import { root } from '../support/bundle.js';

let dataDir: string;

beforeAll(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'cats-token-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function runToken(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/token.ts', ...args], {
    cwd: root,
    env: { ...process.env, CATS_DATA_DIR: dataDir, NODE_OPTIONS: '' },
    encoding: 'utf8',
    timeout: 5 * 60 * 1000, // only a hang exceeds it
  });
}

function decode(token: string) {
  const [header, claims, signature] = token.split('.') as [string, string, string];
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()),
    claims: JSON.parse(Buffer.from(claims, 'base64url').toString()),
    signed: `${header}.${claims}`,
    signature: Buffer.from(signature, 'base64url'),
  };
}

describe('a local token', () => {
  it('is printed alone on one line: an RS256 JWT of the local issuer shaped like a Cognito client-credentials token (client_id, no aud), both scopes, an hour, signed by the data folder key', () => {
    const started = Math.floor(Date.now() / 1000);
    const result = runToken([]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const { header, claims, signed, signature } = decode(result.stdout.trim());
    expect(header).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    expect(claims).toMatchObject({
      iss: localIssuer,
      client_id: localAudience,
      token_use: 'access',
      scope: 'cats/read cats/write',
      sub: localAudience,
    });
    expect(claims).not.toHaveProperty('aud');
    expect(header.kid).toBe('cats-api-local');
    expect(claims.exp - claims.iat).toBe(3600);
    expect(claims.iat).toBeGreaterThanOrEqual(started - 1);
    const keyFile = path.join(dataDir, 'auth', 'local-issuer.pem');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const publicKey = createPublicKey(readFileSync(keyFile));
    expect(verify('sha256', Buffer.from(signed), publicKey, signature)).toBe(true);
    // The same key signs the next one.
    const next = decode(runToken([]).stdout.trim());
    expect(verify('sha256', Buffer.from(next.signed), publicKey, next.signature)).toBe(true);
  });

  it('has only the scopes given with --scope, the lifetime of --expires-in (negative: expired), and the --issuer and --audience given', () => {
    const result = runToken([
      '--scope',
      'cats/read',
      '--scope=other/thing',
      '--expires-in',
      '-30',
      '--issuer',
      'https://wrong.example.com',
      '--audience',
      'another-api',
    ]);
    expect(result.status).toBe(0);
    const { claims } = decode(result.stdout.trim());
    expect(claims).toMatchObject({
      scope: 'cats/read other/thing',
      iss: 'https://wrong.example.com',
      aud: 'another-api',
    });
    expect(claims.exp - claims.iat).toBe(-30);
    expect(claims.exp).toBeLessThan(Date.now() / 1000);
  });

  it('is signed so that the signature verifies and a changed claim does not', () => {
    const key = localKey(dataDir);
    const { signed, signature } = decode(localToken(key, { now: 1_000_000 }));
    const publicKey = createPublicKey(key);
    expect(verify('sha256', Buffer.from(signed), publicKey, signature)).toBe(true);
    const [header] = signed.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ iss: localIssuer, scope: 'cats/write' })).toString('base64url')}`;
    expect(verify('sha256', Buffer.from(forged), publicKey, signature)).toBe(false);
  });

  it('has the issuer and audience serverless.yml gives npm start', () => {
    const config = readFileSync(path.join(root, 'serverless.yml'), 'utf8');
    const local = /\n {4}local:\n {6}issuer: (\S+)\n {6}audience: (\S+)\n/.exec(config);
    expect(local?.slice(1)).toEqual([localIssuer, localAudience]);
  });
});

describe('the options', () => {
  it.each([
    [['--scope'], /--scope needs a value/],
    [['--expires-in', 'soon'], /--expires-in takes whole seconds/],
    [['--expires-in', '1.5'], /--expires-in takes whole seconds/],
    [['--bogus'], /Unknown option --bogus/],
    [['--stage', 'dev', '--expires-in', '60'], /--stage gets a token from Cognito.*--expires-in/],
    [['--stage', 'dev', '--issuer', 'x', '--audience', 'y'], /drop --issuer, --audience/],
    [['--region', 'eu-west-1'], /--region goes with --stage/],
  ])('%j is refused with a sentence', (args, message) => {
    expect(() => parseTokenArgs(args)).toThrow(UsageError);
    expect(() => parseTokenArgs(args)).toThrow(message);
  });

  it('are refused by the command with exit code 2 and nothing on standard output', () => {
    const result = runToken(['--bogus']);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('Usage: npm run -s token');
  });
});

describe('--stage', () => {
  const cloudFormation = mockClient(CloudFormationClient);
  const cognito = mockClient(CognitoIdentityProviderClient);
  let server: Server;
  let tokenUrl: string;
  let seen: { headers: IncomingMessage['headers']; body: string; url?: string }[] = [];
  let answer: { status: number; body: unknown } = { status: 200, body: {} };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        seen.push({ headers: req.headers, body, url: req.url });
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/token`;
  });
  afterAll(async () => {
    await new Promise((closed) => server.close(closed));
  });
  beforeEach(() => {
    seen = [];
    cloudFormation.reset();
    cognito.reset();
  });

  const outputs = () => [
    { OutputKey: 'AuthTokenUrl', OutputValue: tokenUrl },
    { OutputKey: 'AuthUserPoolId', OutputValue: 'us-east-1_Example1' },
    { OutputKey: 'AuthClientId', OutputValue: 'client-123' },
    { OutputKey: 'HttpApiUrl', OutputValue: 'https://abc.execute-api.us-east-1.amazonaws.com' },
  ];
  const clients = () => ({
    cloudFormation: new CloudFormationClient({ region: 'us-east-1' }),
    cognito: new CognitoIdentityProviderClient({ region: 'us-east-1' }),
  });

  it("reads the stack's outputs and the client's secret, and makes a client credentials request for the token", async () => {
    cloudFormation.on(DescribeStacksCommand, { StackName: 'cats-api-dev' }).resolves({
      Stacks: [
        { StackName: 'cats-api-dev', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), Outputs: outputs() },
      ],
    });
    cognito
      .on(DescribeUserPoolClientCommand, { UserPoolId: 'us-east-1_Example1', ClientId: 'client-123' })
      .resolves({ UserPoolClient: { ClientId: 'client-123', ClientSecret: 's3cr3t' } });
    answer = { status: 200, body: { access_token: 'the.access.token', token_type: 'Bearer', expires_in: 3600 } };

    await expect(stageToken({ stage: 'dev', scopes: ['cats/write'] }, clients())).resolves.toBe('the.access.token');
    expect(seen).toHaveLength(1);
    const [call] = seen as [(typeof seen)[number]];
    expect(call.url).toBe('/oauth2/token');
    expect(call.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(call.headers.authorization).toBe(`Basic ${Buffer.from('client-123:s3cr3t').toString('base64')}`);
    expect(Object.fromEntries(new URLSearchParams(call.body))).toEqual({
      grant_type: 'client_credentials',
      scope: 'cats/write',
    });
  });

  it("names the issuer and audience npm start --stage checks: the pool's issuer in the region, the app client", async () => {
    cloudFormation.on(DescribeStacksCommand, { StackName: 'cats-api-dev' }).resolves({
      Stacks: [
        { StackName: 'cats-api-dev', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), Outputs: outputs() },
      ],
    });
    await expect(stageIssuer('dev', 'eu-west-1', clients().cloudFormation)).resolves.toEqual({
      tokenUrl,
      userPoolId: 'us-east-1_Example1',
      clientId: 'client-123',
      issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/us-east-1_Example1',
    });
  });

  it('asks for both scopes by default', async () => {
    cloudFormation.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: 'x', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), Outputs: outputs() }],
    });
    cognito.on(DescribeUserPoolClientCommand).resolves({ UserPoolClient: { ClientSecret: 's' } });
    answer = { status: 200, body: { access_token: 't' } };
    await stageToken({ stage: 'prod' }, clients());
    expect(new URLSearchParams(seen[0]?.body).get('scope')).toBe('cats/read cats/write');
    expect(cloudFormation.commandCalls(DescribeStacksCommand)[0]?.args[0].input).toEqual({
      StackName: 'cats-api-prod',
    });
  });

  it("tells the token endpoint's refusal with its error code", async () => {
    cloudFormation.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: 'x', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), Outputs: outputs() }],
    });
    cognito.on(DescribeUserPoolClientCommand).resolves({ UserPoolClient: { ClientSecret: 'wrong' } });
    answer = { status: 400, body: { error: 'invalid_client' } };
    await expect(stageToken({ stage: 'dev' }, clients())).rejects.toThrow(/answered 400: invalid_client/);
  });

  it('says so when the stage has no Cognito issuer (an external issuer, or open)', async () => {
    cloudFormation.on(DescribeStacksCommand).resolves({
      Stacks: [
        { StackName: 'x', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), Outputs: [outputs()[3] as never] },
      ],
    });
    await expect(stageToken({ stage: 'dev' }, clients())).rejects.toThrow(/no Cognito issuer.*authIssuer/);
    expect(seen).toEqual([]);
  });
});
