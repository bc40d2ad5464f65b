/**
 * Building a function the way `sls package` does: the esbuild options of
 * serverless.yml's `custom.esbuild` (its banner and plugins file are read from
 * there), for tests that look into a bundle or run it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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
  code: string;
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

/** Builds functions/<name>.ts in memory. */
export async function buildFunction(name: string): Promise<FunctionBundle> {
  const result = await esbuild.build({
    ...functionBuildOptions,
    entryPoints: [`${root}functions/${name}.ts`],
    absWorkingDir: root,
    metafile: true,
    write: false,
  });
  // Files esbuild read but tree-shook away are listed with 0 bytes; only
  // what reached the output counts.
  const used = Object.values(result.metafile.outputs).flatMap((output) =>
    Object.entries(output.inputs).filter(([, { bytesInOutput }]) => bytesInOutput > 0),
  );
  const composition: Record<string, number> = {};
  for (const [input, { bytesInOutput }] of used) {
    composition[origin(input)] = (composition[origin(input)] ?? 0) + bytesInOutput;
  }
  return { code: result.outputFiles[0]?.text ?? '', inputs: used.map(([input]) => input), composition };
}
