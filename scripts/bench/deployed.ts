/**
 * Section 7 of `npm run bench`, the cold start as deployed (BENCHMARKS.md):
 * the packaged get-cat and create-cat, in a fresh `node` laid out as Lambda
 * unpacks their zips (LAMBDA_TASK_ROOT, AWS_REGION, the credentials Lambda
 * puts in the environment), connect as deployed:
 *
 *   DB_AUTH=iam     an IAM token signed in the function, sent as a cleartext
 *                   password over TLS to a relay that checks its signature
 *                   as RDS would (test/support/iam-relay.ts) and logs in as
 *                   the application user;
 *   DB_AUTH=secret  the password read with the real SDK client (the
 *                   runtime's copy: here node_modules) from a local
 *                   GetSecretValue stand-in, then SCRAM-SHA-256 over TLS to
 *                   the PostgreSQL itself.
 *
 * TLS is verified against the region's CA file the package ships, with a
 * throwaway CA appended (so the bundle parsed is the real size) for the host
 * name `localhost`. The floor, bare Node with no library, does the same
 * handshake, exchange and query (deployed-steps.mjs, floor side); the same
 * script on the function side splits the path into steps.
 */
import { appendFileSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import pg from 'pg';
import { readApplicationUser } from '../../lib/config.js';
import { type IamRelay, startIamRelay } from '../../test/support/iam-relay.js';
import { httpEvent } from '../../test/support/lambda.js';
import { type SecretsStandIn, startSecretsStandIn } from '../../test/support/secrets-stand-in.js';
import type { TestCertificates } from '../../test/support/tls.js';
import { countInstructions } from './instructions.js';
import type { CostRow } from './observability.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const stepsScript = join(root, 'scripts/bench/deployed-steps.mjs');
const functionScript = join(root, 'scripts/bench/cold-function.mjs');

/** What Lambda's role session would give: fixed test values, which the relay checks tokens against. */
const credentials = {
  accessKeyId: 'AKIDBENCHEXAMPLE',
  secretAccessKey: 'bench/secret/access/key/0000000000000000',
  sessionToken: 'IQoJb3JpZ2luX2VjBENCH//////////wEaCXVzLWVhc3QtMSJHMEUCIQBench+session+token==',
};
const secretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:cats-bench-AbCdEf';
/** IAM mode logs in as the role the migrations created (DB_APP_USER, cats_api), with its grants only, as deployed. */
const appUser = readApplicationUser();
const secretUser = 'cats_secret';
const secretPassword = 'bench-secret-password-0123456789';

export interface DeployedSample {
  boot: number;
  init: number;
  invoke: number;
  total: number;
  steps?: Record<string, number>;
}

export interface DeployedOptions {
  /** The packaged bundles, unzipped (functions/<name>.js in a task root). */
  bundles: { getCat: string; createCat: string };
  /** The deployed plain environment of each. */
  environment: { getCat: Record<string, string>; createCat: Record<string, string> };
  /** The stack's region, whose CA file the package ships. */
  region: string;
  /** The bench's PostgreSQL (TLS on with `certificates`), an admin URL of its database, and its name. */
  database: { port: number; adminUrl: string; name: string; hbaFile: string };
  certificates: TestCertificates;
  repeats: number;
  instructions: boolean;
  /**
   * The full run: secret mode and every step in instructions too (~36
   * valgrind runs). Otherwise (--quick) only IAM mode's targets are counted:
   * the two functions, their floors and the signer's two steps (7 runs).
   */
  full: boolean;
  spawnSample: (argv: string[], env: NodeJS.ProcessEnv) => Promise<DeployedSample>;
  log: (line: string) => void;
}

export interface DeployedRow extends CostRow {
  limit?: number;
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
};
const ms = (x: number) => (x >= 10 ? x.toFixed(1) : x.toFixed(2));
const mi = (x: number) => `${(x / 1e6).toFixed(1)} M`;

/**
 * The logins of both modes: the application role the migrations made (IAM
 * mode, trust behind the relay, which did the IAM check), and a password
 * role with the same grants (secret mode, SCRAM over TLS).
 */
async function roles(options: DeployedOptions): Promise<void> {
  const client = new pg.Client({ connectionString: options.database.adminUrl });
  await client.connect();
  try {
    const made = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [appUser]);
    if (made.rowCount !== 1) throw new Error(`no role ${appUser}: section 7 runs on a migrated database`);
    await client.query(`CREATE ROLE ${secretUser} LOGIN PASSWORD '${secretPassword}'`);
    await client.query(`GRANT ${appUser} TO ${secretUser}`);
    const hba = readFileSync(options.database.hbaFile, 'utf8');
    const lines = [
      // The relay logs in as the application user (it did the IAM check).
      `host all ${appUser} 127.0.0.1/32 trust`,
      `host all ${appUser} ::1/128 trust`,
      // Secret mode: TLS and SCRAM-SHA-256 only, as RDS with a managed password.
      `hostssl all ${secretUser} 127.0.0.1/32 scram-sha-256`,
      `hostssl all ${secretUser} ::1/128 scram-sha-256`,
    ];
    const { writeFileSync } = await import('node:fs');
    writeFileSync(options.database.hbaFile, `${lines.join('\n')}\n${hba}`);
    await client.query('SELECT pg_reload_conf()');
  } finally {
    await client.end();
  }
}

/** Appends the throwaway CA to the region's CA file in each unzipped package; lets it find the runtime's SDK. */
function prepareTaskRoots(options: DeployedOptions): Record<'getCat' | 'createCat', string> {
  const ca = readFileSync(options.certificates.caFile, 'utf8');
  const roots = {} as Record<'getCat' | 'createCat', string>;
  for (const name of ['getCat', 'createCat'] as const) {
    const taskRoot = dirname(dirname(options.bundles[name]));
    const caFile = join(taskRoot, 'functions', 'rds-ca', `${options.region}.pem`);
    appendFileSync(caFile, ca);
    // Lambda's runtime provides @aws-sdk/*; here the project's node_modules does.
    symlinkSync(join(root, 'node_modules'), join(taskRoot, 'node_modules'));
    roots[name] = taskRoot;
  }
  return roots;
}

export async function deployedColdStarts(options: DeployedOptions): Promise<DeployedRow[]> {
  const rows: DeployedRow[] = [];
  await roles(options);
  const taskRoots = prepareTaskRoots(options);
  const relay: IamRelay = await startIamRelay({
    target: { host: '127.0.0.1', port: options.database.port },
    cert: readFileSync(options.certificates.serverCertFile),
    key: readFileSync(options.certificates.serverKeyFile),
    credentials,
    region: options.region,
    hostname: 'localhost',
  });
  const secrets: SecretsStandIn = await startSecretsStandIn(
    secretArn,
    JSON.stringify({ username: secretUser, password: secretPassword }),
  );
  try {
    const lambda = {
      PATH: process.env.PATH,
      AWS_REGION: options.region,
      AWS_DEFAULT_REGION: options.region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: credentials.sessionToken,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
      AWS_LAMBDA_FUNCTION_NAME: 'bench',
    };
    const modes = {
      iam: { port: relay.port, user: appUser, env: { DB_AUTH: 'iam' } },
      secret: {
        port: options.database.port,
        user: secretUser,
        env: { DB_AUTH: 'secret', DB_SECRET_ARN: secretArn, AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url },
      },
    } as const;
    const cases: Array<{ name: 'getCat' | 'createCat'; file: string; event: APIGatewayProxyEventV2; sql: string }> = [
      {
        name: 'getCat',
        file: 'get-cat',
        event: httpEvent('get-cat', { id: 1 }),
        sql: 'select * from "cats" where "id" = 1',
      },
      {
        name: 'createCat',
        file: 'create-cat',
        event: httpEvent('create-cat'),
        sql: `insert into "cats" ("name", "price", "breed") values ('catty mcCatFace', 5000, 'bengal') returning *`,
      },
    ];
    const functionEnv = (c: (typeof cases)[number], mode: keyof typeof modes) => ({
      ...options.environment[c.name],
      ...lambda,
      LAMBDA_TASK_ROOT: taskRoots[c.name],
      DB_HOST: 'localhost',
      DB_PORT: String(modes[mode].port),
      DB_NAME: options.database.name,
      DB_USER: modes[mode].user,
      ...modes[mode].env,
    });
    const stepsArgs = (c: (typeof cases)[number], mode: keyof typeof modes, side: 'function' | 'floor') => {
      const taskRoot = taskRoots[c.name];
      const chunk = readdirSync(join(taskRoot, 'functions')).find((file) => /^iam-signer-\w+\.js$/.test(file));
      return JSON.stringify({
        mode,
        side,
        host: 'localhost',
        port: modes[mode].port,
        user: modes[mode].user,
        database: options.database.name,
        sql: c.sql,
        region: options.region,
        caFile:
          side === 'function'
            ? join(taskRoot, 'functions', 'rds-ca', `${options.region}.pem`)
            : options.certificates.caFile,
        chunk: chunk ? join(taskRoot, 'functions', chunk) : undefined,
        secretUrl: secrets.url,
        secretArn,
      });
    };
    const stepsEnv = { ...lambda, AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url };

    // Wall clock: each function next to its floor, interleaved.
    options.log(`cold start as deployed: ${options.repeats} x 2 functions x 2 modes, each next to its floor`);
    type Samples = { fn: DeployedSample[]; floor: DeployedSample[]; steps: DeployedSample[] };
    const samples = new Map<string, Samples>();
    for (let i = 0; i < options.repeats; i += 1) {
      for (const c of cases) {
        for (const mode of ['iam', 'secret'] as const) {
          const key = `${c.name}:${mode}`;
          const entry = samples.get(key) ?? { fn: [], floor: [], steps: [] };
          samples.set(key, entry);
          entry.fn.push(
            await options.spawnSample(
              [functionScript, options.bundles[c.name], JSON.stringify(c.event)],
              functionEnv(c, mode),
            ),
          );
          entry.floor.push(await options.spawnSample([stepsScript, stepsArgs(c, mode, 'floor')], stepsEnv));
          if (c.name === 'getCat') {
            entry.steps.push(await options.spawnSample([stepsScript, stepsArgs(c, mode, 'function')], stepsEnv));
          }
        }
      }
    }
    if (relay.refusals.length > 0) throw new Error(`the IAM relay refused tokens: ${relay.refusals.join('; ')}`);
    if (relay.accepted() === 0 || secrets.reads() === 0) throw new Error('the deployed path was not taken');

    const counts = new Map<string, { fn: number; floor: number }>();
    if (options.instructions) {
      options.log('cold start as deployed: counting instructions with valgrind');
      for (const c of cases) {
        for (const mode of options.full ? (['iam', 'secret'] as const) : (['iam'] as const)) {
          const fn = await countInstructions(
            [functionScript, options.bundles[c.name], JSON.stringify(c.event)],
            functionEnv(c, mode),
          );
          const floor = await countInstructions([stepsScript, stepsArgs(c, mode, 'floor')], stepsEnv);
          counts.set(`${c.name}:${mode}`, { fn, floor });
        }
      }
    }

    for (const mode of ['iam', 'secret'] as const) {
      for (const c of cases) {
        const entry = samples.get(`${c.name}:${mode}`);
        if (!entry) continue;
        const f = (key: 'boot' | 'init' | 'invoke' | 'total', list: DeployedSample[]) =>
          median(list.map((s) => s[key]));
        rows.push({
          section: '7. deployed',
          figure: `${c.file}, DB_AUTH=${mode}: total (node boot / init / first answer incl. ${mode === 'iam' ? 'token' : 'secret'}, TLS, auth)`,
          value: `${ms(f('total', entry.fn))} ms (${ms(f('boot', entry.fn))} / ${ms(f('init', entry.fn))} / ${ms(f('invoke', entry.fn))})`,
          floor: `${ms(f('total', entry.floor))} ms`,
          ratio: f('total', entry.fn) / f('total', entry.floor),
        });
        const count = counts.get(`${c.name}:${mode}`);
        if (count) {
          rows.push({
            section: '7. deployed',
            figure: `${c.file}, DB_AUTH=${mode}: CPU instructions to the first answer`,
            value: mi(count.fn),
            floor: mi(count.floor),
            ratio: count.fn / count.floor,
            ...(mode === 'iam' ? { target: 1.6, limit: 2 } : {}),
          });
        }
      }
      // Where the deployed path's cost goes, step by step (get-cat's statement).
      const steps = samples.get(`getCat:${mode}`);
      if (!steps) continue;
      const names = Object.keys(steps.steps[0]?.steps ?? {});
      // Signing (or reading the secret) is steps 5 and 6: the quick run counts only those two together.
      const credential = [
        names.indexOf(mode === 'iam' ? 'signer load' : 'SDK load'),
        names.indexOf(mode === 'iam' ? 'token' : 'secret read'),
      ];
      const boundaries = options.full
        ? names.map((_, i) => i + 1)
        : mode === 'iam'
          ? [credential[0] ?? 0, (credential[1] ?? 0) + 1]
          : [];
      const stepCounts =
        options.instructions && boundaries.length > 0
          ? await countSteps(
              [0, ...boundaries].filter((k, i, all) => all.indexOf(k) === i),
              (side) => [stepsScript, stepsArgs(cases[0] as (typeof cases)[number], mode, side)],
              stepsEnv,
              options.full ? ['function', 'floor'] : ['function'],
            )
          : undefined;
      const whole = counts.get(`getCat:${mode}`)?.fn;
      for (const [i, name] of names.entries()) {
        const fnMs = median(steps.steps.map((s) => s.steps?.[name] ?? Number.NaN));
        const floorMs = median(steps.floor.map((s) => s.steps?.[name] ?? Number.NaN));
        const fnCount = options.full ? stepCounts?.function.get(i + 1) : undefined;
        const floorCount = options.full ? stepCounts?.floor.get(i + 1) : undefined;
        const counted = fnCount !== undefined && floorCount !== undefined;
        const share = fnCount !== undefined && whole ? ` (${((fnCount / whole) * 100).toFixed(1)}% of get-cat's)` : '';
        const [a, b] = counted ? [fnCount, floorCount] : [fnMs, floorMs];
        rows.push({
          section: '7. deployed',
          figure: `DB_AUTH=${mode} step ${i + 1}: ${name}${counted ? ' (instructions; ms)' : ' (ms)'}`,
          value: fnCount !== undefined ? `${mi(fnCount)}${share}; ${ms(fnMs)} ms` : `${ms(fnMs)} ms`,
          floor: floorCount !== undefined ? `${mi(floorCount)}; ${ms(floorMs)} ms` : `${ms(floorMs)} ms`,
          // A step the floor hardly has (loading a library) gets no ratio: its size is the figure.
          ...(b > a / 50 ? { ratio: a / b } : {}),
        });
      }
      if (mode === 'iam' && stepCounts && whole) {
        const [load = 0, token = 0] = credential;
        const signer = (stepCounts.total.get(token + 1) ?? 0) - (stepCounts.total.get(load) ?? 0);
        rows.push({
          section: '7. deployed',
          figure: 'DB_AUTH=iam: signer load + token, share of the get-cat cold start (instructions)',
          value: mi(signer),
          floor: `${mi(whole)} (get-cat, IAM)`,
          ratio: signer / whole,
          target: 0.05,
          limit: 0.1,
        });
      }
    }
    return rows;
  } finally {
    await relay.close();
    await secrets.close();
  }
}

/**
 * Instructions by prefix: each side's script stopped after each of
 * `boundaries` steps (0 = before the first). `function` and `floor` map a
 * boundary to the cost of the steps since the previous one; `total` maps it
 * to the function side's count.
 */
async function countSteps(
  boundaries: number[],
  argv: (side: 'function' | 'floor') => string[],
  env: NodeJS.ProcessEnv,
  sides: Array<'function' | 'floor'>,
): Promise<{ function: Map<number, number>; floor: Map<number, number>; total: Map<number, number> }> {
  const out = {
    function: new Map<number, number>(),
    floor: new Map<number, number>(),
    total: new Map<number, number>(),
  };
  for (const side of sides) {
    const [script, json] = argv(side) as [string, string];
    let previous: number | undefined;
    for (const k of boundaries) {
      const count = await countInstructions([script, JSON.stringify({ ...JSON.parse(json), stopAfter: k })], env);
      if (side === 'function') out.total.set(k, count);
      if (previous !== undefined) out[side].set(k, count - previous);
      previous = count;
    }
  }
  return out;
}
