/**
 * `npm run smoke -- --url <base URL> [--stage <stage> [--region <region>]]`
 * (with --stage and no --url, the URL is the stack's HttpApiUrl output):
 * checks that a running API answers, the way the deploy workflow checks a
 * stage it just deployed and CI checks `npm start`:
 *
 *   GET /cats 200 (a page of cats), POST /cats without a token 401,
 *   POST /cats with a client-credentials token 201, the read-back 200 with
 *   what was written, DELETE 204, the read-back 404, GET /docs 200 (HTML),
 *   GET /openapi.json 200 (an OpenAPI document).
 *
 * The token: with --stage, from the stage's Cognito app client (client
 * credentials, as `npm run -s token -- --stage <s>` gets it); without, a
 * token of `npm start`'s local issuer (`npm run -s token`). Each check prints
 * one line; any failure exits with 1 after the rest have run, naming the
 * failed checks. The cat it creates is deleted again.
 */
import { pathToFileURL } from 'node:url';
import { token, UsageError } from './token.js';

export interface SmokeOptions {
  /** Undefined: the stage's URL, from its stack's outputs. */
  url?: string;
  stage?: string;
  region?: string;
}

const usage =
  'Usage: npm run smoke -- --url <base URL> [--stage <stage> [--region <region>]]\n' +
  '       npm run smoke -- --stage <stage> [--region <region>]   (the URL from the stack)';

/** The deployed API's URL: the HttpApiUrl output of the stage's stack. */
async function stageUrl(stage: string, region: string): Promise<string> {
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const stackName = `cats-api-${stage}`;
  const { Stacks } = await new CloudFormationClient({ region }).send(
    new DescribeStacksCommand({ StackName: stackName }),
  );
  const url = Stacks?.[0]?.Outputs?.find((output) => output.OutputKey === 'HttpApiUrl')?.OutputValue;
  if (!url) throw new Error(`The stack ${stackName} in ${region} has no HttpApiUrl output: is it deployed?`);
  return url.replace(/\/+$/, '');
}

export function parseSmokeArgs(args: string[]): SmokeOptions {
  const options: Partial<SmokeOptions> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const [name, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg];
    const value = () => {
      const next = inline ?? args[++i];
      if (!next) throw new UsageError(`${name} needs a value.\n${usage}`);
      return next;
    };
    if (name === '--url') options.url = value().replace(/\/+$/, '');
    else if (name === '--stage') options.stage = value();
    else if (name === '--region') options.region = value();
    else throw new UsageError(`Unknown option ${arg}.\n${usage}`);
  }
  if (options.url === undefined && !options.stage) throw new UsageError(`Say where: --url or --stage.\n${usage}`);
  if (options.url !== undefined && !/^https?:\/\//.test(options.url)) {
    throw new UsageError(`--url needs an http(s) URL.\n${usage}`);
  }
  if (options.region && !options.stage) throw new UsageError('--region goes with --stage.');
  return options as SmokeOptions;
}

interface Reply {
  status: number;
  type: string;
  text: string;
  json?: unknown;
}

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

/** Each request's bound: generous (a cold start in a VPC takes seconds), so only a hang trips it. */
const requestTimeoutMs = 30000;

async function call(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<Reply> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(requestTimeoutMs),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON (the docs page): the checks that need JSON say so.
  }
  return { status: response.status, type: response.headers.get('content-type') ?? '', text, json };
}

function describe(reply: Reply): string {
  return `${reply.status} ${reply.type.split(';')[0]} ${reply.text.replace(/\s+/g, ' ').slice(0, 160)}`;
}

export async function smoke(options: SmokeOptions, log: (line: string) => void = console.log): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const check = async (name: string, run: () => Promise<string>) => {
    try {
      const detail = await run();
      results.push({ name, ok: true, detail });
      log(`  ok    ${name}  ${detail}`);
    } catch (error) {
      const detail = (error as Error).message;
      results.push({ name, ok: false, detail });
      log(`  FAIL  ${name}  ${detail}`);
    }
  };
  const expectStatus = (reply: Reply, status: number) => {
    if (reply.status !== status) throw new Error(`expected ${status}, got ${describe(reply)}`);
  };
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const base = options.url ?? (await stageUrl(options.stage as string, region));
  log(`Smoke test of ${base}${options.stage ? ` (stage ${options.stage})` : ''}:`);

  let bearer: Record<string, string> | undefined;
  await check(
    `a client-credentials token ${options.stage ? `from the ${options.stage} pool` : 'of the local issuer'}`,
    async () => {
      const args = options.stage
        ? ['--stage', options.stage, ...(options.region ? ['--region', options.region] : [])]
        : [];
      bearer = { authorization: `Bearer ${await token(args)}` };
      return 'got one';
    },
  );
  await check('GET /cats answers 200 with a list', async () => {
    const reply = await call(base, 'GET', '/cats', bearer);
    expectStatus(reply, 200);
    const items = (reply.json as { items?: unknown } | undefined)?.items;
    if (!Array.isArray(items)) throw new Error(`expected a page of cats ({ items: [...] }), got ${describe(reply)}`);
    return `${items.length} cat(s) on the first page`;
  });
  const cat = { name: `smoke-${Date.now()}`, price: 1, breed: 'smoke-test' };
  await check('POST /cats without a token answers 401', async () => {
    const reply = await call(base, 'POST', '/cats', {}, cat);
    expectStatus(reply, 401);
    return 'refused';
  });
  let id: unknown;
  await check('POST /cats with the token answers 201', async () => {
    if (!bearer) throw new Error('skipped: no token');
    const reply = await call(base, 'POST', '/cats', bearer, cat);
    expectStatus(reply, 201);
    id = (reply.json as { id?: unknown } | undefined)?.id;
    if (id === undefined) throw new Error(`no id in ${describe(reply)}`);
    return `id ${id}`;
  });
  await check('GET /cats/{id} reads it back', async () => {
    if (id === undefined) throw new Error('skipped: nothing was created');
    const reply = await call(base, 'GET', `/cats/${id}`, bearer);
    expectStatus(reply, 200);
    const read = reply.json as Record<string, unknown> | undefined;
    if (read?.name !== cat.name || read?.breed !== cat.breed)
      throw new Error(`expected ${cat.name}, got ${describe(reply)}`);
    return cat.name;
  });
  await check('DELETE /cats/{id} answers 204, and the cat is gone', async () => {
    if (id === undefined || !bearer) throw new Error('skipped: nothing was created');
    const reply = await call(base, 'DELETE', `/cats/${id}`, bearer);
    expectStatus(reply, 204);
    expectStatus(await call(base, 'GET', `/cats/${id}`, bearer), 404);
    return 'deleted';
  });
  await check('GET /docs answers 200 with the docs page', async () => {
    const reply = await call(base, 'GET', '/docs');
    expectStatus(reply, 200);
    if (!reply.type.startsWith('text/html')) throw new Error(`expected HTML, got ${describe(reply)}`);
    return 'HTML';
  });
  await check('GET /openapi.json answers 200 with the OpenAPI document', async () => {
    const reply = await call(base, 'GET', '/openapi.json');
    expectStatus(reply, 200);
    const version = (reply.json as { openapi?: unknown } | undefined)?.openapi;
    if (typeof version !== 'string') throw new Error(`expected an OpenAPI document, got ${describe(reply)}`);
    return `OpenAPI ${version}`;
  });
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const results = await smoke(parseSmokeArgs(process.argv.slice(2)));
    const failed = results.filter((result) => !result.ok);
    if (failed.length > 0) {
      console.error(`\nsmoke: ${failed.length} check(s) failed: ${failed.map((result) => result.name).join('; ')}`);
      process.exit(1);
    }
    console.log(`\nsmoke: all ${results.length} checks passed`);
  } catch (error) {
    console.error(error instanceof UsageError ? error.message : `smoke: ${(error as Error).message}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  }
}
