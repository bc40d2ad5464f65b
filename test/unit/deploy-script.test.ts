/**
 * `npm run deploy`: deploy, then migrate with the same options, and fail
 * loudly when either fails. The framework is replaced by a stand-in that
 * records its arguments (there is no AWS account here).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cats-deploy-'));
  writeFileSync(
    path.join(dir, 'sls.cjs'),
    `require('fs').appendFileSync(process.env.CALLS, JSON.stringify(process.argv.slice(2)) + '\\n');
     process.exit(process.argv[2] === process.env.FAIL ? 1 : 0);`,
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function deploy(args: string[], fail = '') {
  const calls = path.join(dir, `calls-${Math.random()}`);
  writeFileSync(calls, '');
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/deploy.ts', ...args], {
    cwd: root,
    env: { ...process.env, CATS_SLS_BIN: path.join(dir, 'sls.cjs'), CALLS: calls, FAIL: fail, NODE_OPTIONS: '' },
    encoding: 'utf8',
    timeout: 30000,
  });
  const invoked = readFileSync(calls, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  return { status: result.status, stderr: result.stderr, invoked };
}

it('deploys, then invokes migrate in AWS with the same stage, region and parameters', () => {
  const options = ['--stage', 'prod', '--region', 'eu-west-1', '--param=rdsProxy=true'];
  const { status, invoked } = deploy(options);
  expect(status).toBe(0);
  expect(invoked).toEqual([
    ['deploy', ...options],
    ['invoke', '-f', 'migrate', '--log', ...options],
  ]);
});

it('fails, and does not report success, when the migration fails', () => {
  const { status, stderr } = deploy(['--stage', 'dev'], 'invoke');
  expect(status).toBe(1);
  expect(stderr).toContain('The migration failed');
});

it('does not migrate when the deploy failed', () => {
  const { status, invoked, stderr } = deploy(['--stage', 'dev'], 'deploy');
  expect(status).toBe(1);
  expect(invoked).toEqual([['deploy', '--stage', 'dev']]);
  expect(stderr).toContain('The deploy failed');
});

it('asks for a stage instead of deploying to a default one', () => {
  const { status, invoked } = deploy([]);
  expect(status).toBe(2);
  expect(invoked).toEqual([]);
});
