/**
 * `npm run deploy -- --stage prod [--region ...] [--param="k=v" ...]`:
 * deploys the stack, then runs the `migrate` function in AWS with the same
 * options. Either step failing fails the command (exit code 1) with the
 * framework's message, so a pipeline never reports a deploy whose schema was
 * not migrated as a success.
 *
 * Why not a CloudFormation custom resource: its function would run inside the
 * VPC and must answer CloudFormation through an S3 pre-signed URL, which
 * private subnets without a NAT gateway cannot reach; a stuck custom resource
 * holds the stack for an hour. `sls invoke` goes through the Lambda API from
 * here instead, and the migration can be re-run by hand the same way.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

// Tests point this at a stand-in; everyone else gets the project's osls.
const sls = process.env.CATS_SLS_BIN ?? createRequire(import.meta.url).resolve('serverless/bin/serverless.js');
const options = process.argv.slice(2);

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
run('The deploy', ['deploy', ...options]);
run('The migration', ['invoke', '-f', 'migrate', '--log', ...options]);
console.log('\nDeployed and migrated.');
