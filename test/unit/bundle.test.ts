/**
 * What goes into a function bundle: built with the same esbuild options and
 * plugins as serverless.yml, so a dependency change that drags a large module
 * back in, or undoes a build-time removal, fails here rather than only in
 * `npm run bench`. Sizes and contents only; no timings.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';
import {
  buildFunction,
  deployedFunctions,
  type FunctionBundle,
  functionBuildOptions,
  root,
} from '../support/bundle.js';
import { leftOutCalls, probeBody } from '../support/kysely-probe.js';

// The RDS IAM token signer is a chunk of its own (esbuild splitting), loaded
// only with DB_AUTH=iam: it does not count against a bundle.
const budget = 250 * 1024;
/** How much a bundle may grow past test/bundle-sizes.json before a test says so. */
const tolerance = 1024;
const recorded = JSON.parse(readFileSync(join(root, 'test/bundle-sizes.json'), 'utf8')) as Record<
  string,
  { bytes: number; composition: Record<string, number> }
>;

const kb = (bytes: number) => (bytes / 1024).toFixed(1);

/** Which packages and files a bundle's growth came from, largest first. */
function growthReport(
  name: string,
  record: { bytes: number; composition: Record<string, number> },
  bytes: number,
  composition: Record<string, number>,
): string {
  const grown = Object.entries(composition)
    .map(([origin, size]) => [origin, size, record.composition[origin]] as const)
    .filter(([, size, before]) => size > (before ?? 0))
    .sort(([, a, x], [, b, y]) => b - (y ?? 0) - (a - (x ?? 0)))
    .map(([origin, size, before]) =>
      before === undefined
        ? `  ${origin}: +${kb(size)} KB (new)`
        : `  ${origin}: +${kb(size - before)} KB (${kb(before)} -> ${kb(size)} KB)`,
    );
  return [
    `${name} is ${kb(bytes)} KB, ${kb(bytes - record.bytes)} KB more than recorded in test/bundle-sizes.json. It grew in:`,
    ...grown,
    'A schema or builder called at module level outside a /* @__PURE__ */ arrow is kept in every bundle that imports its',
    'module (lib/fields.ts). If the growth is intended, run `npm run bundle-sizes` and commit test/bundle-sizes.json.',
  ].join('\n');
}
const functions = deployedFunctions();
const bundles = new Map<string, FunctionBundle>();
const bundle = (name: string): FunctionBundle => {
  const built = bundles.get(name);
  if (!built) throw new Error(`${name} was not built`);
  return built;
};

beforeAll(async () => {
  const built = await Promise.all(functions.map(async (name) => [name, await buildFunction(name)] as const));
  for (const [name, result] of built) bundles.set(name, result);
}, 60000);

describe('function bundles', () => {
  it('are checked for every function in functions/, each of which serverless.yml deploys', () => {
    const files = readdirSync(join(root, 'functions'))
      .filter((file) => file.endsWith('.ts'))
      .map((file) => file.replace(/\.ts$/, ''));
    expect([...functions].sort()).toEqual(files.sort());
    expect(functions).toEqual(expect.arrayContaining(['list-cats', 'get-cat', 'create-cat', 'update-cat']));
    expect(functions).toEqual(expect.arrayContaining(['delete-cat', 'migrate', 'openapi', 'docs']));
  });

  it.each(functions)('keep the %s function under 260 KB minified', (name) => {
    const { code, composition } = bundle(name);
    const bytes = Buffer.byteLength(code);
    if (bytes >= budget) {
      const largest = Object.entries(composition)
        .sort(([, a], [, b]) => b - a)
        .slice(0, 12)
        .map(([origin, size]) => `  ${origin}: ${kb(size)} KB`);
      throw new Error(
        [`${name} is ${kb(bytes)} KB, over the ${kb(budget)} KB budget. Its largest parts:`, ...largest].join('\n'),
      );
    }
  });

  it.each(functions.filter((name) => name !== 'openapi'))(
    'keep the OpenAPI document and its JSON Schema conversion out of the %s function',
    (name) => {
      // A module-level resourceApi(), problems or jsonSchema() call without
      // /* @__PURE__ */ pulls them into every handler of its resource.
      const documentation = bundle(name).inputs.filter(
        (input) => input.startsWith('lib/openapi/') || input.includes('zod/v4/core/to-json-schema'),
      );
      expect(documentation).toEqual([]);
    },
  );

  it.each(functions)(
    'keep the %s function within 1 KB of its recorded size, or say where the bytes came from',
    (name) => {
      const record = recorded[name];
      if (!record) throw new Error(`${name} has no recorded size in test/bundle-sizes.json: run npm run bundle-sizes`);
      const { code, composition } = bundle(name);
      const bytes = Buffer.byteLength(code);
      if (bytes > record.bytes + tolerance) throw new Error(growthReport(name, record, bytes, composition));
    },
  );

  it('explains a growth by the packages and files it came from', () => {
    const report = growthReport('get-cat', { bytes: 10000, composition: { zod: 5000, 'lib/fields.ts': 1000 } }, 14900, {
      zod: 9800,
      'lib/fields.ts': 1000,
      'lib/owners/schema.ts': 100,
    });
    expect(report).toContain('get-cat is 14.6 KB, 4.8 KB more than recorded');
    expect(report).toMatch(/zod: \+4\.7 KB \(4\.9 -> 9\.6 KB\)\n {2}lib\/owners\/schema\.ts: \+0\.1 KB \(new\)/);
    expect(report).toContain('npm run bundle-sizes');
  });

  it('bundles zod/mini with the English locale only, not classic zod or other locales', () => {
    const zodFiles = bundle('get-cat').inputs.filter((input) => input.includes('node_modules/zod/'));
    expect(zodFiles.some((input) => input.includes('/v4/mini/'))).toBe(true);
    expect(zodFiles.filter((input) => input.includes('/v4/classic/'))).toEqual([]);
    expect(zodFiles.filter((input) => input.includes('/locales/') && !input.endsWith('/en.js'))).toEqual([]);
  });

  it("leaves out pg's native client, whose C addon is not installed", () => {
    expect(bundle('get-cat').code).toContain("pg's native client is left out of the bundles");
    expect(bundle('get-cat').code).not.toContain('pg-native');
  });

  it("leaves Kysely's schema module out of HTTP functions but keeps it in migrate", () => {
    // schema-module.js itself stays, as the stub that replaces it.
    const schemaFiles = bundle('get-cat').inputs.filter((input) => input.includes('kysely/dist/schema/'));
    expect(schemaFiles).toEqual(['node_modules/kysely/dist/schema/schema-module.js']);
    expect(bundle('get-cat').code).toContain('SchemaModule is left out of the HTTP function bundles');
    const migrate = bundle('migrate').inputs;
    expect(migrate.some((input) => input.includes('kysely/dist/schema/create-table-builder'))).toBe(true);
    expect(migrate.some((input) => input.includes('kysely/dist/dialect/postgres/postgres-introspector'))).toBe(true);
  });

  it("leaves Kysely's unused builders and its operation-node transformer out of every function", () => {
    for (const name of ['get-cat', 'create-cat', 'migrate']) {
      const { code, inputs } = bundle(name);
      expect(code).toContain('MergeQueryBuilder is left out of every function bundle (esbuild-plugins.cjs)');
      expect(inputs.filter((input) => input.includes('operation-node-transformer'))).toEqual([]);
      expect(inputs.filter((input) => input.includes('with-schema-transformer'))).toEqual([]);
    }
  });
});

/** The probe, in a bundle built with the functions' options; prints what each call threw. */
const probe = `
import { Kysely, PostgresDialect } from 'kysely';
${probeBody}
console.log(JSON.stringify(thrown));
`;

describe('Kysely builders left out of the bundles', () => {
  let folder: string;
  // What each call threw in a bundle built as the migrate function, and as an HTTP one.
  let asMigrate: Record<string, string>;
  let asHttp: Record<string, string>;

  async function runProbe(name: string): Promise<Record<string, string>> {
    const entry = join(folder, `${name}.js`);
    await writeFile(entry, probe);
    const outfile = join(folder, `${name}.mjs`);
    // nodePaths: the probe lives outside the project but imports its kysely.
    await esbuild.build({
      ...functionBuildOptions,
      entryPoints: [entry],
      outfile,
      nodePaths: [join(root, 'node_modules')],
    });
    const { stdout } = await promisify(execFile)(process.execPath, [outfile], {
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    return JSON.parse(stdout);
  }

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'cats-bundle-probe-'));
    // esbuild-plugins.cjs tells the migrate function by its file name.
    [asMigrate, asHttp] = await Promise.all([runProbe('migrate'), runProbe('get-cat')]);
  }, 60000);

  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('leave queries, tables and plain function calls working in every function', () => {
    expect(asMigrate['db.selectFrom()']).toBe('nothing');
    expect(asMigrate["db.fn('lower')"]).toBe('nothing');
    expect(asMigrate['db.schema.createTable()']).toBe('nothing');
    expect(asHttp['db.selectFrom()']).toBe('nothing');
  });

  it('throw an error naming esbuild-plugins.cjs and the method when one is called', () => {
    const leftOut =
      /^\w+ is left out of every function bundle \(esbuild-plugins\.cjs\): no function uses .+; take it off the list there to use it$/;
    // The call is in the compared object so that a failure names it.
    for (const call of leftOutCalls) {
      expect({ call, thrown: asMigrate[call] }).toEqual({ call, thrown: expect.stringMatching(leftOut) });
    }
    for (const call of leftOutCalls.filter((c) => !c.startsWith('db.schema.'))) {
      expect({ call, thrown: asHttp[call] }).toEqual({ call, thrown: expect.stringMatching(leftOut) });
    }
    expect(asMigrate['db.mergeInto()']).toMatch(
      /^MergeQueryBuilder is left out .* no function uses db\.mergeInto\(\);/,
    );
    expect(asMigrate['db.schema.createIndex().where()']).toMatch(/^ImmediateValueTransformer is left out/);
  });

  it('throw in the HTTP functions when the schema module or the introspector is used', () => {
    expect(asHttp['db.schema']).toBe(
      'SchemaModule is left out of the HTTP function bundles (esbuild-plugins.cjs); only the migrate function has db.schema',
    );
    expect(asHttp['db.introspection']).toMatch(/^PostgresIntrospector is left out of the HTTP function bundles/);
    expect(asMigrate['db.schema']).toBe('nothing');
    expect(asMigrate['db.introspection']).toBe('nothing');
  });
});
