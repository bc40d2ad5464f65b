/**
 * Building a function the way `sls package` does: the esbuild options of
 * serverless.yml's `custom.esbuild` (its banner and plugins file are read from
 * there), for tests that look into a bundle or run it.
 */

import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { declaredFunctions } from './serverless-config.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));
const yml = readFileSync(`${root}serverless.yml`, 'utf8');
const banner = /^\s+js: "(.*)"$/m.exec(yml)?.[1] ?? '';
const pluginsFile = /^\s+plugins: (\.\/[\w./-]+)$/m.exec(yml)?.[1] ?? './plugins/esbuild-plugins.cjs';
const plugins = createRequire(import.meta.url)(`${root}${pluginsFile}`) as esbuild.Plugin[];

export const functionBuildOptions = {
  bundle: true,
  minify: true,
  target: 'node24',
  platform: 'node',
  format: 'esm',
  mainFields: ['module', 'main'],
  banner: { js: banner },
  external: ['@aws-sdk/*', 'pg-native'],
  plugins,
  logLevel: 'silent',
} satisfies esbuild.BuildOptions;

/** The functions serverless.yml deploys, by file name (functions/<name>.ts). */
export function deployedFunctions(): string[] {
  return declaredFunctions().map((fn) => fn.file);
}

export interface FunctionBundle {
  /** The function's own file (functions/<name>.js), what the 250 KB budget counts. */
  code: string;
  /**
   * Every file of the build, by name: the function's, and the chunks its
   * dynamic imports of our code became (serverless.yml `splitting: true`),
   * which it loads from its own folder.
   */
  files: Record<string, string>;
  /** Input files with at least one byte in the output (relative to the project). */
  inputs: string[];
  /** Bytes in the output by origin: a package name, or a project file (lib/fields.ts). */
  composition: Record<string, number>;
}

/** `node_modules/@scope/pkg/x.js` -> `@scope/pkg`; a project file stays as it is. */
function origin(input: string): string {
  const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  return match?.[1] ?? input;
}

/** Builds functions/<name>.ts in memory, split into chunks as `sls package` does. */
export async function buildFunction(name: string): Promise<FunctionBundle> {
  const outdir = `${root}.bundle-out`;
  const result = await esbuild.build({
    ...functionBuildOptions,
    splitting: true,
    outdir,
    entryPoints: [`${root}functions/${name}.ts`],
    absWorkingDir: root,
    metafile: true,
    write: false,
  });
  const files = Object.fromEntries(result.outputFiles.map((file) => [file.path.slice(outdir.length + 1), file.text]));
  // Files esbuild read but tree-shook away are listed with 0 bytes; only
  // what reached the function's own file counts.
  const own = result.metafile.outputs[`.bundle-out/${name}.js`];
  const composition: Record<string, number> = {};
  const inputs = Object.entries(own?.inputs ?? {}).filter(([, { bytesInOutput }]) => bytesInOutput > 0);
  for (const [input, { bytesInOutput }] of inputs) {
    composition[origin(input)] = (composition[origin(input)] ?? 0) + bytesInOutput;
  }
  return { code: files[`${name}.js`] ?? '', files, inputs: inputs.map(([input]) => input), composition };
}

/** Writes a built function and its chunks into `folder`; returns the path of its own file, to import. */
export async function writeFunction(bundle: FunctionBundle, name: string, folder: string): Promise<string> {
  await mkdir(folder, { recursive: true });
  await Promise.all(Object.entries(bundle.files).map(([file, text]) => writeFile(join(folder, file), text)));
  // As functions/package.json tells Lambda's Node: the .js files are ES modules.
  await writeFile(join(folder, 'package.json'), '{"type":"module"}\n');
  return join(folder, `${name}.js`);
}
