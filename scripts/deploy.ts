/**
 * `npm run deploy -- --stage prod [--region ...] [--param="k=v" ...] [--skip-preflight]`:
 * packages the stack, runs the preflight on what was packaged (scripts/preflight.ts:
 * what would make CloudFormation fail late, each with what to do), deploys that
 * package, then runs the `migrate` function in AWS with the same options. Any
 * step failing fails the command (exit code 1) with its message, so a pipeline
 * never reports a deploy whose schema was not migrated as a success.
 *
 * Why not a CloudFormation custom resource for the migration: its function
 * would run inside the VPC and must answer CloudFormation through an S3
 * pre-signed URL, which private subnets without a NAT gateway cannot reach; a
 * stuck custom resource holds the stack for an hour. `sls invoke` goes through
 * the Lambda API from here instead, and the migration can be re-run by hand
 * the same way.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { clientsFor, preflight, readPlan, report } from './preflight.js';

// Tests point this at a stand-in; everyone else gets the project's osls.
const sls = process.env.CATS_SLS_BIN ?? createRequire(import.meta.url).resolve('serverless/bin/serverless.js');
const skipPreflight = process.argv.includes('--skip-preflight');
const options = process.argv.slice(2).filter((option) => option !== '--skip-preflight');

function run(step: string, args: string[]): void {
  console.log(`\n> sls ${args.join(' ')}`);
  const result = spawnSync(process.execPath, [sls, ...args], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`\n${step} failed (exit code ${result.status ?? result.signal}); nothing after it was run.`);
    process.exit(1);
  }
}

if (!options.some((option) => option === '--stage' || option.startsWith('--stage='))) {
  console.error('Say which stage: npm run deploy -- --stage dev (or prod, or any name)');
  process.exit(2);
}
const packageDir = mkdtempSync(path.join(tmpdir(), 'cats-deploy-'));
process.on('exit', () => rmSync(packageDir, { recursive: true, force: true }));
run('Packaging', ['package', ...options, '--package', packageDir]);
if (skipPreflight) {
  console.log('\nPreflight skipped (--skip-preflight).');
} else {
  const plan = await readPlan(packageDir);
  const findings = await preflight(plan, clientsFor(plan.region));
  const text = report(plan, findings);
  if (findings.some((finding) => finding.status === 'fail')) {
    console.error(`\n${text}`);
    process.exit(1);
  }
  console.log(`\n${text}`);
}
run('The deploy', ['deploy', ...options, '--package', packageDir]);
run('The migration', ['invoke', '-f', 'migrate', '--log', ...options]);
console.log('\nDeployed and migrated.');
