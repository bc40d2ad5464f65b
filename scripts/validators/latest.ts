/**
 * `npm run validators:latest`: the validators at their latest versions on
 * the same packaged templates (dev, prod) and OpenAPI document, and what
 * that changes against the pinned versions the tests use. It installs the
 * latest versions into a temporary folder (so it needs the npm registry; a
 * manual check before updating the pins, not part of CI's verdict), runs
 * ./findings.ts with each set and prints the difference. It exits 0 either
 * way: the report is the result.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { openApiDocument } from '../../lib/openapi/document.js';
import { packageService } from '../../test/deploy/template.js';
import { diffFindings, formatDiff, versionLines } from './diff.js';
import { validationTools } from './tools.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

async function versions(folder: string): Promise<Record<string, string>> {
  const entries = await Promise.all(
    validationTools.map(async (name) => {
      const manifest = JSON.parse(await readFile(path.join(folder, 'node_modules', name, 'package.json'), 'utf8'));
      return [name, (manifest as { version: string }).version] as const;
    }),
  );
  return Object.fromEntries(entries);
}

async function findings(args: string[], latestFolder?: string): Promise<string[]> {
  const hooks = latestFolder ? ['--import', here('./resolve-from.ts')] : [];
  const env = { ...process.env, NODE_OPTIONS: '', ...(latestFolder ? { CATS_VALIDATORS_FROM: latestFolder } : {}) };
  const { stdout } = await run(process.execPath, ['--import', 'tsx', ...hooks, here('./findings.ts'), ...args], {
    cwd: root,
    env,
    maxBuffer: 64 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '[]') as string[];
}

const work = await mkdtemp(path.join(tmpdir(), 'cats-validators-latest-'));
const packaged = [];
try {
  console.log('Packaging dev and prod, writing the OpenAPI document...');
  for (const stage of ['dev', 'prod']) packaged.push({ stage, ...(await packageService(stage)) });
  const document = path.join(work, 'openapi.json');
  await writeFile(document, JSON.stringify(openApiDocument(), null, 2));
  const args = [
    document,
    ...packaged.map(({ stage, dir }) => `${stage}=${path.join(dir, 'cloudformation-template-update-stack.json')}`),
  ];
  console.log('Running the pinned validators...');
  const pinned = await findings(args);
  const latestFolder = path.join(work, 'latest');
  console.log(`Installing the latest ${validationTools.join(', ')} into ${latestFolder}...`);
  await mkdir(latestFolder);
  await writeFile(path.join(latestFolder, 'package.json'), '{"private":true}\n');
  await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--ignore-scripts', ...validationTools.map((name) => `${name}@latest`)],
    { cwd: latestFolder, maxBuffer: 64 << 20 },
  );
  console.log('Running the latest validators...');
  const latest = await findings(args, latestFolder);
  console.log(
    `\n${formatDiff(diffFindings(pinned, latest), versionLines(await versions(root), await versions(latestFolder)))}`,
  );
} finally {
  for (const { dir } of packaged) await rm(dir, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
}
