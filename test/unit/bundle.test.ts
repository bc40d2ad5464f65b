/**
 * What goes into a function bundle: built with the same esbuild options and
 * plugins as serverless.yml, so a dependency change that drags a large module
 * back in, or undoes a build-time removal, fails here rather than only in
 * `npm run bench`. Sizes and contents only; no timings.
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

const budget = 250 * 1024;
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

  it.each(functions)('keep the %s function under 250 KB minified', (name) => {
    expect(Buffer.byteLength(bundle(name).code)).toBeLessThan(budget);
  });

  it('bundles zod/mini with the English locale only, not classic zod or other locales', () => {
    const zodFiles = bundle('get-cat').inputs.filter((input) => input.includes('node_modules/zod/'));
    expect(zodFiles.some((input) => input.includes('/v4/mini/'))).toBe(true);
    expect(zodFiles.filter((input) => input.includes('/v4/classic/'))).toEqual([]);
    expect(zodFiles.filter((input) => input.includes('/locales/') && !input.endsWith('/en.js'))).toEqual([]);
  });

  it("leaves out pg's Cloudflare probe, which loads Node's fetch at import on Node 20", () => {
    expect(bundle('get-cat').code).not.toContain('Cloudflare-Workers');
    expect(bundle('get-cat').inputs.filter((input) => input.includes('pg-cloudflare'))).toEqual([]);
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

/**
 * Calls every Kysely method whose builder esbuild-plugins.cjs leaves out, in a
 * bundle built with the functions' options, and prints what each threw.
 * Plain JavaScript (written to a file at run time, so tsc never sees it).
 */
const probe = `
import { Kysely, PostgresDialect } from 'kysely';
// No query is ever run: building one needs no connection.
const db = new Kysely({ dialect: new PostgresDialect({ pool: {} }) });
const calls = {
  'db.selectFrom()': () => db.selectFrom('cats').selectAll().where('id', '=', 1).compile(),
  'db.mergeInto()': () => db.mergeInto('cats'),
  'db.case()': () => db.case(),
  'eb.case()': () => db.selectFrom('cats').select((eb) => eb.case().when('id', '=', 1).then(1).end().as('one')),
  "eb.ref(column, '->')": () => db.selectFrom('cats').select((eb) => eb.ref('headers', '->').key('a').as('a')),
  'eb.jsonPath()': () => db.selectFrom('cats').select((eb) => eb.jsonPath()),
  'db.fn.count()': () => db.fn.count('id'),
  "db.fn('lower')": () => db.fn('lower', ['name']),
  'insertInto().onConflict()': () => db.insertInto('cats').values({ id: 1 }).onConflict((oc) => oc.doNothing()),
  'db.withSchema()': () => db.withSchema('other'),
  'db.schema': () => db.schema,
  'db.introspection': () => db.introspection,
};
const schemaCalls = {
  'db.schema.createTable()': () => db.schema.createTable('t').addColumn('id', 'integer', (col) => col.primaryKey()).compile(),
  'db.schema.createIndex().where()': () => db.schema.createIndex('i').on('cats').column('id').where('id', '>', 1),
  'db.schema.createView()': () => db.schema.createView('v'),
  'db.schema.dropView()': () => db.schema.dropView('v'),
  'db.schema.refreshMaterializedView()': () => db.schema.refreshMaterializedView('v'),
  'db.schema.createSchema()': () => db.schema.createSchema('s'),
  'db.schema.dropSchema()': () => db.schema.dropSchema('s'),
  'db.schema.alterTable().addIndex()': () => db.schema.alterTable('cats').addIndex('i'),
  'db.schema.withSchema()': () => db.schema.withSchema('other'),
};
const thrown = {};
for (const [name, call] of Object.entries({ ...calls, ...schemaCalls })) {
  try {
    call();
    thrown[name] = 'nothing';
  } catch (error) {
    thrown[name] = error.message;
  }
}
console.log(JSON.stringify(thrown));
`;

/** Every call in the probe that reaches a left-out builder. */
const leftOutCalls = [
  'db.mergeInto()',
  'db.case()',
  'eb.case()',
  "eb.ref(column, '->')",
  'eb.jsonPath()',
  'db.fn.count()',
  'insertInto().onConflict()',
  'db.withSchema()',
  'db.schema.createIndex().where()',
  'db.schema.createView()',
  'db.schema.dropView()',
  'db.schema.refreshMaterializedView()',
  'db.schema.createSchema()',
  'db.schema.dropSchema()',
  'db.schema.alterTable().addIndex()',
  'db.schema.withSchema()',
];

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
