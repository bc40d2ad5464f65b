/**
 * Builds the reference handler (./get-cat.ts) as a public template would:
 * one esbuild bundle, minified, ESM with the usual createRequire banner for
 * CommonJS dependencies, no plugins. Returns the bundle's path.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

export async function buildReference(outDir: string): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'package.json'), '{"type":"module"}');
  const outfile = join(outDir, 'reference-get-cat.js');
  await esbuild.build({
    entryPoints: [fileURLToPath(new URL('./get-cat.ts', import.meta.url))],
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    sourcemap: 'linked',
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    external: ['@aws-sdk/*', 'pg-native'],
    logLevel: 'silent',
  });
  return outfile;
}
