/**
 * Packages the service offline (no AWS credentials) into a temporary folder
 * and reads the CloudFormation template it would deploy, with a small
 * evaluator for the template's own Conditions and Fn::If, so a test can ask
 * "which resources exist, with which values, for these parameters".
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  activeResources,
  evaluateConditions,
  type Resource,
  resolveIfs,
  type Template,
} from '../../scripts/cfn-template.js';

export {
  activeResources,
  evaluateConditions,
  type Resource,
  resolveIfs,
  type Template,
} from '../../scripts/cfn-template.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));
const sls = createRequire(import.meta.url).resolve('serverless/bin/serverless.js');

/** A function as serverless.yml declares it (after variables are resolved). */
export interface DeclaredFunction {
  /** Its key in `functions:`, e.g. getCat. */
  name: string;
  /** The prefix of its resources' logical ids, e.g. GetCat (GetCatLambdaFunction, GetCatLogGroup). */
  id: string;
  handler: string;
  database?: { share?: number; migrations?: true };
  /** Its HTTP API routes, e.g. GET /cats/{id}. */
  routes: string[];
}

export interface Packaged {
  template: Template;
  /** The template as deployed, for text searches. */
  text: string;
  dir: string;
  /** The functions serverless.yml declares, from the state file `sls package` writes. */
  functions: DeclaredFunction[];
}

/**
 * One `sls package` of this checkout at a time, across test files and Jest
 * workers: the framework writes <root>/.serverless/serverless-state.json and
 * then moves it to the --package folder, so two packagings at once read or
 * move each other's file (ENOENT .serverless/serverless-state.json, seen with
 * two packagings started together). mkdir is atomic; a lock older than any
 * packaging may take is a crashed run's and is taken over.
 */
export async function packagingLock(): Promise<() => Promise<void>> {
  const lock = path.join(root, '.package-lock');
  for (;;) {
    try {
      await mkdir(lock);
      return () => rm(lock, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > 10 * 60 * 1000) await rm(lock, { recursive: true, force: true });
      else await new Promise((ok) => setTimeout(ok, 250));
    }
  }
}

/**
 * `sls package --stage <stage>` with `--param` overrides, as a user would run
 * it; with `config`, that text instead of serverless.yml (a variant, such as
 * serverless.yml with one more function), from a file next to it; with
 * `region`, for that region.
 */
export async function packageService(
  stage: string,
  params: Record<string, string> = {},
  { config, region }: { config?: string; region?: string } = {},
): Promise<Packaged> {
  const dir = await mkdtemp(path.join(tmpdir(), `cats-package-${stage}-`));
  const configFile = config === undefined ? undefined : `serverless-variant-${path.basename(dir)}.yml`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_OPTIONS: '',
    CATS_ESBUILD_WORK_FOLDER: `.esbuild-${path.basename(dir)}`,
  };
  // Proves that packaging needs no AWS account.
  for (const name of Object.keys(env)) if (name.startsWith('AWS_')) delete env[name];
  env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent';
  env.AWS_CONFIG_FILE = '/nonexistent';
  const args = [sls, 'package', '--stage', stage, '--package', dir];
  if (region) args.push('--region', region);
  for (const [name, value] of Object.entries(params)) args.push(`--param=${name}=${value}`);
  if (configFile) {
    await writeFile(path.join(root, configFile), config as string);
    args.push('--config', configFile);
  }
  const unlock = await packagingLock();
  try {
    const running = promisify(execFile)(process.execPath, args, { cwd: root, env, timeout: 120000 });
    running.child.stdin?.end();
    await running;
  } catch (error) {
    // The framework prints its error on standard output.
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`sls package --stage ${stage} failed:\n${stdout}\n${stderr}`);
  } finally {
    await unlock();
    await rm(path.join(root, env.CATS_ESBUILD_WORK_FOLDER as string), { recursive: true, force: true });
    if (configFile) await rm(path.join(root, configFile), { force: true });
  }
  const text = await readFile(path.join(dir, 'cloudformation-template-update-stack.json'), 'utf8');
  const state = JSON.parse(await readFile(path.join(dir, 'serverless-state.json'), 'utf8')) as {
    service: { functions: Record<string, Omit<DeclaredFunction, 'name' | 'id' | 'routes'> & { events: unknown[] }> };
  };
  const functions = Object.entries(state.service.functions).map(([name, { handler, database, events }]) => ({
    name,
    // The framework's own naming: the first letter upper-cased, dashes and underscores spelt out.
    id: `${name[0]?.toUpperCase()}${name.slice(1)}`.replaceAll('-', 'Dash').replaceAll('_', 'Underscore'),
    handler,
    ...(database ? { database } : {}),
    routes: events.flatMap((event) => {
      // A string in serverless.yml; an object once serverless-per-function.cjs has given it an authorizer.
      const route = (event as { httpApi?: string | { method?: string; path: string } }).httpApi;
      if (typeof route === 'string') return [route];
      return route ? [route.method ? `${route.method.toUpperCase()} ${route.path}` : route.path] : [];
    }),
  }));
  return { template: JSON.parse(text) as Template, text, dir, functions };
}

export function ofType(resources: Record<string, Resource>, type: string): [string, Resource][] {
  return Object.entries(resources).filter(([, resource]) => resource.Type === type);
}

/**
 * The template as CloudFormation would create it: only the active resources
 * and outputs, every Fn::If resolved, no Conditions. Checkers that do not
 * evaluate conditions (cdk-nag) then judge what a deploy makes, not a
 * resource another parameter value would add.
 */
export function resolvedTemplate(template: Template): Template {
  const conditions = evaluateConditions(template);
  const outputs = Object.entries(template.Outputs ?? {}).filter(([, output]) => {
    const condition = (output as { Condition?: string }).Condition;
    return condition === undefined || conditions[condition];
  });
  const strip = <T extends { Condition?: string }>(item: T): T => {
    const { Condition: _, ...rest } = resolveIfs(item, conditions) as T;
    return rest as T;
  };
  return {
    ...template,
    Conditions: undefined,
    Resources: Object.fromEntries(
      Object.entries(activeResources(template)).map(([id, r]) => [id, strip(r as { Condition?: string })]),
    ),
    Outputs: Object.fromEntries(outputs.map(([id, output]) => [id, strip(output as { Condition?: string })])),
  } as Template;
}
