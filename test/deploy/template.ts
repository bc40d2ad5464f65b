/**
 * Packages the service offline (no AWS credentials) into a temporary folder
 * and reads the CloudFormation template it would deploy, with a small
 * evaluator for the template's own Conditions and Fn::If, so a test can ask
 * "which resources exist, with which values, for these parameters".
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const root = fileURLToPath(new URL('../..', import.meta.url));
const sls = createRequire(import.meta.url).resolve('serverless/bin/serverless.js');

export interface Resource {
  Type: string;
  Condition?: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  [key: string]: unknown;
}

export interface Template {
  Conditions?: Record<string, unknown>;
  Resources: Record<string, Resource>;
  Outputs?: Record<string, unknown>;
}

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

/** `sls package --stage <stage>` with `--param` overrides, as a user would run it. */
export async function packageService(
  stage: string,
  params: Record<string, string> = {},
  options: { region?: string } = {},
): Promise<Packaged> {
  const dir = await mkdtemp(path.join(tmpdir(), `cats-package-${stage}-`));
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
  if (options.region) args.push('--region', options.region);
  for (const [name, value] of Object.entries(params)) args.push(`--param=${name}=${value}`);
  const running = promisify(execFile)(process.execPath, args, { cwd: root, env, timeout: 120000 });
  running.child.stdin?.end();
  try {
    await running;
  } catch (error) {
    // The framework prints its error on standard output.
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`sls package --stage ${stage} failed:\n${stdout}\n${stderr}`);
  } finally {
    await rm(path.join(root, env.CATS_ESBUILD_WORK_FOLDER as string), { recursive: true, force: true });
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

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Evaluates the template's Conditions (Equals on literals, Not, And, Or, Condition). */
export function evaluateConditions(template: Template): Record<string, boolean> {
  const definitions = template.Conditions ?? {};
  const results: Record<string, boolean> = {};
  const evaluate = (expression: unknown): boolean => {
    if (!isObject(expression)) throw new Error(`not a condition: ${JSON.stringify(expression)}`);
    const [[fn, args]] = Object.entries(expression) as [[string, unknown]];
    switch (fn) {
      case 'Condition':
        return condition(args as string);
      case 'Fn::Not':
        return !evaluate((args as unknown[])[0]);
      case 'Fn::And':
        return (args as unknown[]).every(evaluate);
      case 'Fn::Or':
        return (args as unknown[]).some(evaluate);
      case 'Fn::Equals': {
        const [a, b] = args as unknown[];
        if (typeof a !== 'string' || typeof b !== 'string') throw new Error(`Equals on non-literals: ${args}`);
        return a === b;
      }
      default:
        throw new Error(`unsupported condition function ${fn}`);
    }
  };
  const condition = (name: string): boolean => {
    if (!(name in definitions)) throw new Error(`unknown condition ${name}`);
    results[name] ??= evaluate(definitions[name]);
    return results[name] as boolean;
  };
  for (const name of Object.keys(definitions)) condition(name);
  return results;
}

/** Replaces every Fn::If by the branch the conditions choose. */
export function resolveIfs(value: unknown, conditions: Record<string, boolean>): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveIfs(item, conditions));
  if (!isObject(value)) return value;
  const choice = value['Fn::If'];
  if (Array.isArray(choice) && Object.keys(value).length === 1) {
    const [name, whenTrue, whenFalse] = choice as [string, unknown, unknown];
    if (!(name in conditions)) throw new Error(`Fn::If on unknown condition ${name}`);
    return resolveIfs(conditions[name] ? whenTrue : whenFalse, conditions);
  }
  // A property whose value resolves to AWS::NoValue is left out, as CloudFormation does.
  const isNoValue = (item: unknown) => isObject(item) && item.Ref === 'AWS::NoValue';
  return Object.fromEntries(
    Object.entries(value)
      .map(([key, item]) => [key, resolveIfs(item, conditions)] as const)
      .filter(([, item]) => !isNoValue(item)),
  );
}

/** The resources CloudFormation would create, with every Fn::If resolved. */
export function activeResources(template: Template): Record<string, Resource> {
  const conditions = evaluateConditions(template);
  return Object.fromEntries(
    Object.entries(template.Resources)
      .filter(([, resource]) => resource.Condition === undefined || conditions[resource.Condition])
      .map(([id, resource]) => [id, resolveIfs(resource, conditions) as Resource]),
  );
}

export function ofType(resources: Record<string, Resource>, type: string): [string, Resource][] {
  return Object.entries(resources).filter(([, resource]) => resource.Type === type);
}
