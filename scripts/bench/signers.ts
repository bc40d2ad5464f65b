/**
 * `npm run bench:signers`: which RDS IAM token signer a cold start should
 * load, measured on this Node in one run. Each candidate, in a fresh `node`,
 * imports its signer and signs one token from the credentials in the
 * environment (as Lambda provides them); its cost is its count minus that of
 * a `node` that imports nothing:
 *
 *   smithy, bundled        lib/db/iam-token.ts: @smithy/signature-v4 with the environment's credentials, built as the functions are
 *   rds-signer, bundled    @aws-sdk/rds-signer (default credential chain), built as the functions are but with the SDK bundled
 *   rds-signer, unbundled  the same from node_modules, as a function would load the runtime's copy
 *
 * Printed: CPU instructions (valgrind, deterministic) and the median wall
 * clock of the import and the signing, and the bundled size.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { functionBuildOptions, root } from '../../test/support/bundle.js';
import { countInstructions } from './instructions.js';

const runs = Number(process.env.SIGNER_RUNS ?? 9);
const work = mkdtempSync(join(tmpdir(), 'cats-signers-'));
const env = {
  PATH: process.env.PATH,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'bench-secret-key-not-real',
  AWS_SESSION_TOKEN: 'IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==',
};
const options = {
  host: 'cats.abcdefghijkl.us-east-1.rds.amazonaws.com',
  port: 5432,
  user: 'cats_app',
  region: 'us-east-1',
};

// Each script prints the milliseconds from before its import to the signed token.
const timing = (body: string) => `const t0 = performance.now();
${body}
if (!/^cats\\..*:5432\\/\\?Action=connect&DBUser=cats_app&X-Amz-Algorithm=AWS4-HMAC-SHA256&.*X-Amz-Signature=[0-9a-f]{64}/.test(token)) throw new Error('bad token ' + token);
console.log(JSON.stringify({ ms: performance.now() - t0, bytes: token.length }));`;

const smithyEntry = `import { signIamToken } from ${JSON.stringify(join(root, 'lib/db/iam-signer.ts'))};
export const sign = () => signIamToken(${JSON.stringify(options)});`;
const rdsSignerEntry = `import { Signer } from '@aws-sdk/rds-signer';
export const sign = () => new Signer({ hostname: ${JSON.stringify(options.host)}, port: ${options.port}, username: ${JSON.stringify(options.user)}, region: ${JSON.stringify(options.region)} }).getAuthToken();`;

async function bundle(name: string, contents: string, sdkBundled: boolean): Promise<{ file: string; bytes: number }> {
  const file = join(work, `${name}.mjs`);
  const result = await esbuild.build({
    ...functionBuildOptions,
    external: sdkBundled ? ['pg-native'] : functionBuildOptions.external,
    stdin: { contents, resolveDir: root, loader: 'ts' },
    outfile: file,
    metafile: true,
  });
  const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
  return { file, bytes };
}

function script(name: string, importPath: string): string {
  const file = join(work, `${name}-run.mjs`);
  writeFileSync(
    file,
    timing(`const { sign } = await import(${JSON.stringify(importPath)});
const token = await sign();`),
  );
  return file;
}

async function main() {
  const smithy = await bundle('smithy', smithyEntry, false);
  const rdsBundled = await bundle('rds-signer', rdsSignerEntry, true);
  // Unbundled: a module next to node_modules, as the runtime's copy would be found.
  const unbundledEntry = join(root, 'node_modules', '.cats-rds-signer-unbundled.mjs');
  writeFileSync(unbundledEntry, rdsSignerEntry);
  const empty = join(work, 'empty.mjs');
  writeFileSync(empty, 'const token = ""; console.log("{}");');
  const candidates = [
    { name: 'smithy signature-v4, env credentials, bundled', file: script('smithy', smithy.file), bytes: smithy.bytes },
    {
      name: '@aws-sdk/rds-signer, bundled',
      file: script('rds-signer', rdsBundled.file),
      bytes: rdsBundled.bytes,
    },
    {
      name: '@aws-sdk/rds-signer from node_modules (the runtime copy)',
      file: script('rds-unbundled', unbundledEntry),
      bytes: undefined,
    },
  ];
  try {
    const base = await countInstructions([empty], env);
    console.log(`Node ${process.version}; empty node: ${(base / 1e6).toFixed(1)} M instructions\n`);
    console.log('| Signer | Bundled size | CPU instructions (import + one token) | Wall clock, median of runs |');
    console.log('| --- | --- | --- | --- |');
    for (const candidate of candidates) {
      const count = (await countInstructions([candidate.file], env)) - base;
      const times: number[] = [];
      for (let i = 0; i < runs; i += 1) {
        const out = spawnSync(process.execPath, [candidate.file], { env, encoding: 'utf8' });
        if (out.status !== 0) throw new Error(`${candidate.name}: ${out.stderr}`);
        times.push(JSON.parse(out.stdout.trim()).ms);
      }
      times.sort((a, b) => a - b);
      const median = times[Math.floor(times.length / 2)] ?? Number.NaN;
      const size = candidate.bytes === undefined ? '(node_modules)' : `${(candidate.bytes / 1024).toFixed(1)} KB`;
      console.log(`| ${candidate.name} | ${size} | ${(count / 1e6).toFixed(1)} M | ${median.toFixed(1)} ms |`);
    }
  } finally {
    rmSync(unbundledEntry, { force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
