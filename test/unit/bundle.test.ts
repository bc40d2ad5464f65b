/**
 * What goes into a function bundle: built with the same esbuild options and
 * plugins as serverless.yml, so a dependency change that drags a large module
 * back in, or undoes a build-time removal, fails here rather than only in
 * `npm run bench`. Contents only: what is left out, what loads lazily. Sizes
 * are the bench's (scripts/bench/bench.ts, its "1. bundle" rows and their
 * limit), so a resource that adds a few bytes does not fail npm test.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
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
