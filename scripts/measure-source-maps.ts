/**
 * `npm run measure:source-maps`: what NODE_OPTIONS=--enable-source-maps costs
 * a cold start of a packaged function. Packages the service, unzips listCats,
 * and in fresh Node processes (alternating with and without the flag) times
 * loading the bundle and a first request that fails with a 500, which logs an
 * error stack (where source maps are applied). Prints medians and ratios from
 * this one run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const runs = Number(process.env.RUNS ?? 15);
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'cats-sourcemaps-'));
const sls = createRequire(import.meta.url).resolve('serverless/bin/serverless.js');

try {
  execFileSync(process.execPath, [sls, 'package', '--stage', 'dev', '--package', path.join(dir, 'pkg')], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: '', CATS_ESBUILD_WORK_FOLDER: `.esbuild-${path.basename(dir)}` },
  });
  execFileSync('unzip', ['-q', path.join(dir, 'pkg', 'listCats.zip'), '-d', path.join(dir, 'fn')]);
  const bundle = path.join(dir, 'fn', 'functions', 'list-cats.js');
  const runner = path.join(dir, 'runner.mjs');
  // No database is configured, so the request fails inside the bundle with a
  // ConfigError: a 500 whose stack the logger writes.
  writeFileSync(
    runner,
    `const t0 = performance.now();
     const { handler } = await import(${JSON.stringify(bundle)});
     const t1 = performance.now();
     const reply = await handler({ rawPath: '/cats', routeKey: 'GET /cats', headers: {}, requestContext: { requestId: 'r', http: { method: 'GET' } } }, { awsRequestId: 'r' });
     const t2 = performance.now();
     if (reply.statusCode !== 500) throw new Error('expected a 500, got ' + reply.statusCode);
     (await import('node:fs')).writeFileSync(process.env.TIMING_FILE, JSON.stringify({ load: t1 - t0, firstError: t2 - t1 }));`,
  );
  const samples: Record<'off' | 'on', { load: number[]; firstError: number[] }> = {
    off: { load: [], firstError: [] },
    on: { load: [], firstError: [] },
  };
  for (let i = 0; i < runs; i++) {
    for (const mode of ['off', 'on'] as const) {
      const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: mode === 'on' ? '--enable-source-maps' : '' };
      for (const name of ['DATABASE_URL', 'POSTGRES_HOST', 'DB_HOST']) delete env[name];
      env.TIMING_FILE = path.join(dir, 'timing.json');
      const result = spawnSync(process.execPath, [runner], { env, encoding: 'utf8' });
      if (result.status !== 0) throw new Error(result.stderr);
      const sample = JSON.parse(readFileSync(env.TIMING_FILE, 'utf8')) as { load: number; firstError: number };
      samples[mode].load.push(sample.load);
      samples[mode].firstError.push(sample.firstError);
      if (mode === 'on' && i === 0 && !`${result.stdout}${result.stderr}`.includes('lib/config.ts')) {
        throw new Error('the logged stack does not point at the TypeScript sources');
      }
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
  const row = (what: 'load' | 'firstError') => {
    const off = median(samples.off[what]);
    const on = median(samples.on[what]);
    return `${what.padEnd(11)} without ${off.toFixed(1)} ms, with ${on.toFixed(1)} ms, ratio ${(on / off).toFixed(2)}`;
  };
  console.log(`listCats bundle, ${runs} fresh processes each (medians):`);
  console.log(row('load'));
  console.log(row('firstError'));
  const total = (mode: 'off' | 'on') => median(samples[mode].load) + median(samples[mode].firstError);
  console.log(
    `total       +${(total('on') - total('off')).toFixed(1)} ms with source maps (ratio ${(total('on') / total('off')).toFixed(2)})`,
  );
} finally {
  rmSync(path.join(root, `.esbuild-${path.basename(dir)}`), { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
}
