/**
 * `npm run deploy`: package, preflight, deploy that package, then migrate
 * with the same options, and fail loudly when any step fails. The framework
 * is replaced by a stand-in that records its arguments and writes a small
 * package (there is no AWS account here); the preflight's checks themselves
 * are in preflight.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cats-deploy-'));
  writeFileSync(
    path.join(dir, 'sls.cjs'),
    `const fs = require('fs'), path = require('path'), args = process.argv.slice(2);
     fs.appendFileSync(process.env.CALLS, JSON.stringify(args) + '\\n');
     if (args[0] === 'package') {
       const dir = args[args.indexOf('--package') + 1];
       fs.writeFileSync(path.join(dir, 'cloudformation-template-update-stack.json'), JSON.stringify({ Resources: {} }));
       fs.writeFileSync(path.join(dir, 'serverless-state.json'), JSON.stringify({ service: {
         service: 'cats-api', provider: { stage: 'dev', region: 'eu-west-1' }, custom: { database: { connections: 50 } } } }));
     }
     process.exit(args[0] === process.env.FAIL ? 1 : 0);`,
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function deploy(args: string[], fail = '') {
  const calls = path.join(dir, `calls-${Math.random()}`);
  writeFileSync(calls, '');
  const env: NodeJS.ProcessEnv = { ...process.env };
  // No credentials anywhere, and no instance metadata to look for them in.
  for (const name of Object.keys(env)) if (name.startsWith('AWS_')) delete env[name];
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/deploy.ts', ...args], {
    cwd: root,
    env: {
      ...env,
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_EC2_METADATA_DISABLED: 'true',
      CATS_SLS_BIN: path.join(dir, 'sls.cjs'),
      CALLS: calls,
      FAIL: fail,
      NODE_OPTIONS: '',
    },
    encoding: 'utf8',
    timeout: 30000,
  });
  const invoked = readFileSync(calls, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, invoked };
}

const packaged = expect.stringContaining('cats-deploy-');

it('packages, deploys that package, then invokes migrate in AWS with the same stage, region and parameters', () => {
  const options = ['--stage', 'prod', '--region', 'eu-west-1', '--param=rdsProxy=true'];
  const { status, invoked, stdout } = deploy([...options, '--skip-preflight']);
  expect(status).toBe(0);
  expect(invoked).toEqual([
    ['package', ...options, '--package', packaged],
    ['deploy', ...options, '--package', packaged],
    ['invoke', '-f', 'migrate', '--log', ...options],
  ]);
  expect(invoked[0][invoked[0].length - 1]).toBe(invoked[1][invoked[1].length - 1]);
  expect(stdout).toContain('Preflight skipped (--skip-preflight)');
  // The package folder is removed afterwards.
  expect(existsSync(invoked[0][invoked[0].length - 1])).toBe(false);
});

it('runs the preflight on the package and deploys nothing when it fails, saying what to do', () => {
  const { status, invoked, stderr } = deploy(['--stage', 'dev']);
  expect(status).toBe(1);
  expect(invoked.map((call) => call[0])).toEqual(['package']);
  expect(stderr).toContain('Preflight for cats-api-dev in eu-west-1:');
  expect(stderr).toContain('credentials: No usable AWS credentials');
  expect(stderr).toContain('aws configure');
  expect(stderr).toContain('Nothing was deployed.');
});

it('fails, and does not report success, when the migration fails', () => {
  const { status, stderr } = deploy(['--stage', 'dev', '--skip-preflight'], 'invoke');
  expect(status).toBe(1);
  expect(stderr).toContain('The migration failed');
});

it('does not migrate when the deploy failed', () => {
  const { status, invoked, stderr } = deploy(['--stage', 'dev', '--skip-preflight'], 'deploy');
  expect(status).toBe(1);
  expect(invoked.map((call) => call[0])).toEqual(['package', 'deploy']);
  expect(stderr).toContain('The deploy failed');
});

it('deploys nothing when packaging fails', () => {
  const { status, invoked, stderr } = deploy(['--stage', 'dev'], 'package');
  expect(status).toBe(1);
  expect(invoked.map((call) => call[0])).toEqual(['package']);
  expect(stderr).toContain('Packaging failed');
});

it('asks for a stage instead of deploying to a default one', () => {
  const { status, invoked } = deploy([]);
  expect(status).toBe(2);
  expect(invoked).toEqual([]);
});
