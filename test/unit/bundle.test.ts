/**
 * What goes into a function bundle: built with the same esbuild options and
 * plugins as serverless.yml, so a dependency change that drags a large module
 * back in, or undoes a build-time removal, fails here rather than only in
 * `npm run bench`. Sizes and contents only; no timings.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('../..', import.meta.url));
const plugins = createRequire(import.meta.url)('../../esbuild-plugins.cjs') as esbuild.Plugin[];

async function build(entry: string): Promise<{ code: string; inputs: string[] }> {
  const result = await esbuild.build({
    entryPoints: [`${root}functions/${entry}.ts`],
    bundle: true,
    minify: true,
    target: 'node22',
    platform: 'node',
    format: 'esm',
    external: ['@aws-sdk/*', 'pg-native'],
    plugins,
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  // Files esbuild read but tree-shook away are listed with 0 bytes; only
  // what reached the output counts.
  const inputs = Object.values(result.metafile?.outputs ?? {}).flatMap((output) =>
    Object.entries(output.inputs)
      .filter(([, { bytesInOutput }]) => bytesInOutput > 0)
      .map(([input]) => input),
  );
  return { code: result.outputFiles?.[0]?.text ?? '', inputs };
}

describe('function bundles', () => {
  let getCat: { code: string; inputs: string[] };
  let migrate: { code: string; inputs: string[] };

  beforeAll(async () => {
    [getCat, migrate] = await Promise.all([build('get-cat'), build('migrate')]);
  });

  it('keeps an HTTP function under 250 KB minified', () => {
    expect(Buffer.byteLength(getCat.code)).toBeLessThan(250 * 1024);
  });

  it('bundles zod/mini with the English locale only, not classic zod or other locales', () => {
    const zodFiles = getCat.inputs.filter((input) => input.includes('node_modules/zod/'));
    expect(zodFiles.some((input) => input.includes('/v4/mini/'))).toBe(true);
    expect(zodFiles.filter((input) => input.includes('/v4/classic/'))).toEqual([]);
    expect(zodFiles.filter((input) => input.includes('/locales/') && !input.endsWith('/en.js'))).toEqual([]);
  });

  it("leaves out pg's Cloudflare probe, which loads Node's fetch at import on Node 20", () => {
    expect(getCat.code).not.toContain('Cloudflare-Workers');
    expect(getCat.inputs.filter((input) => input.includes('pg-cloudflare'))).toEqual([]);
  });

  it("leaves out pg's native client, whose C addon is not installed", () => {
    expect(getCat.code).toContain("pg's native client is left out of the bundles");
    expect(getCat.code).not.toContain('pg-native');
  });

  it("leaves Kysely's schema module out of HTTP functions but keeps it in migrate", () => {
    // schema-module.js itself stays, as the stub that replaces it.
    const schemaFiles = getCat.inputs.filter((input) => input.includes('kysely/dist/schema/'));
    expect(schemaFiles).toEqual(['node_modules/kysely/dist/schema/schema-module.js']);
    expect(getCat.code).toContain('SchemaModule is left out of the HTTP function bundles');
    expect(migrate.inputs.some((input) => input.includes('kysely/dist/schema/create-table-builder'))).toBe(true);
  });
});
