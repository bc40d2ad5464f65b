/**
 * esbuild plugins for the Lambda bundles (serverless.yml custom.esbuild.plugins;
 * `npm run bench` builds with them too). CommonJS because serverless-esbuild
 * loads this file with require(). Each stays only while it pays at least 2%
 * of a cold start on Node 24 (`npm run bench:devices` measures each with and
 * without it) and a test fails when it breaks; BENCHMARKS.md lists what was
 * measured and removed (pg-node-streams, pg's lazy dns, middy's lazy streams).
 */

/**
 * pg's native client (pg-native, a C addon we do not install) is required
 * lazily by pg, but esbuild bundles whatever a `require` names: ~8.7 KB of
 * every bundle for code that cannot run, without which list-cats and
 * update-cat are over the 250 KB budget (test/unit/bundle.test.ts). pg treats
 * MODULE_NOT_FOUND as "no native client", which is the truth here, and what
 * it finds from the sources too (pg-native is not installed), so `pg.native`
 * is null in the tests as in the bundles.
 */
const pgNativeLeftOut = {
  name: 'pg-native-left-out',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]native[\\/]index\.js$/ }, () => ({
      loader: 'js',
      contents: `throw Object.assign(new Error("pg's native client is left out of the bundles (esbuild-plugins.cjs)"), { code: 'MODULE_NOT_FOUND' });`,
    }));
  },
};

/**
 * Kysely's `Kysely` class, query creator and expression builder reach many
 * builders from getters and methods, which esbuild cannot tree-shake. The
 * modules below are replaced with classes of the same names whose
 * constructors throw, so a call that was ruled out here fails loudly, naming
 * this file, instead of misbehaving. Each of these classes is only ever
 * constructed (`new X(...)`) by the methods named in `use`; nothing in Kysely
 * reads a static member of one or `instanceof`-tests it, so until such a
 * method is called the stub is never touched. test/unit/bundle.test.ts checks
 * that the stubs throw; test/integration/migrate-bundle.test.ts runs the
 * bundled migrations up, down and up again against a real PostgreSQL.
 *
 * To use one of these, take its entry off the list (and mind the 250 KB
 * budget that test/unit/bundle.test.ts enforces). Keys are paths inside
 * kysely/dist. After a Kysely upgrade: a name some other module now imports
 * from a stubbed file and the stub lacks fails the build; a stub now reached
 * on a path a function takes fails the tests that run bundles (the migrate
 * bundle test, `sls invoke local`, the e2e tests through `npm start`); a file
 * that moved is no longer stubbed, which the bundle test's probe reports.
 */
const kyselyUnused = {
  // No function runs MERGE.
  'query-builder/merge-query-builder.js': {
    names: [
      'MergeQueryBuilder',
      'WheneableMergeQueryBuilder',
      'MatchedThenableMergeQueryBuilder',
      'NotMatchedThenableMergeQueryBuilder',
    ],
    use: 'db.mergeInto()',
  },
  // No CASE expressions (the listing query writes its own SQL with sql``).
  'query-builder/case-builder.js': {
    names: ['CaseBuilder', 'CaseThenBuilder', 'CaseWhenBuilder', 'CaseEndBuilder'],
    use: 'db.case() or eb.case()',
  },
  // jsonb columns are written and read whole, never traversed in SQL.
  'query-builder/json-path-builder.js': {
    names: ['JSONPathBuilder', 'TraversedJSONPathBuilder', 'AliasedJSONPathBuilder'],
    use: "eb.ref(column, '->') or eb.jsonPath()",
  },
  // No aggregates or window functions. eb.fn itself stays (every expression
  // builder creates it) and so does a plain function call, eb.fn('name', args).
  'query-builder/aggregate-function-builder.js': {
    names: ['AggregateFunctionBuilder', 'AliasedAggregateFunctionBuilder'],
    use: 'fn.agg(), fn.count(), fn.countAll(), fn.sum(), fn.avg(), fn.min(), fn.max() or fn.jsonAgg()',
  },
  'query-builder/over-builder.js': { names: ['OverBuilder'], use: 'an aggregate function .over() window' },
  // No upserts (an idempotency key is locked and looked up before its insert).
  'query-builder/on-conflict-builder.js': {
    names: ['OnConflictBuilder', 'OnConflictDoNothingBuilder', 'OnConflictUpdateBuilder'],
    use: 'insertInto().onConflict()',
  },
  // Every table is in the default schema: nothing calls withSchema(), and the
  // Migrator only builds this plugin when given a `migrationTableSchema`,
  // which lib/db/migrations.ts does not set.
  'plugin/with-schema/with-schema-plugin.js': {
    names: ['WithSchemaPlugin'],
    use: 'withSchema() or a migrationTableSchema',
  },
  // With WithSchemaPlugin and the view builder gone, this is the only user of
  // Kysely's OperationNodeTransformer (~22 KB), which then drops out of the
  // bundles. No migration creates a partial index with the schema builder;
  // write one with sql``, as the name-prefix index in lib/db/migrations.ts is.
  'plugin/immediate-value/immediate-value-transformer.js': {
    names: ['ImmediateValueTransformer'],
    use: 'db.schema.createIndex().where() (a partial index)',
  },
  // Schema builders for what the migrations never create: views, schemas
  // (the Migrator only creates one for a migrationTableSchema), and MySQL's
  // ALTER TABLE ... ADD INDEX, which PostgreSQL does not have (createIndex does).
  'schema/create-view-builder.js': { names: ['CreateViewBuilder'], use: 'db.schema.createView()' },
  'schema/drop-view-builder.js': { names: ['DropViewBuilder'], use: 'db.schema.dropView()' },
  'schema/refresh-materialized-view-builder.js': {
    names: ['RefreshMaterializedViewBuilder'],
    use: 'db.schema.refreshMaterializedView()',
  },
  'schema/create-schema-builder.js': { names: ['CreateSchemaBuilder'], use: 'db.schema.createSchema()' },
  'schema/drop-schema-builder.js': { names: ['DropSchemaBuilder'], use: 'db.schema.dropSchema()' },
  'schema/alter-table-add-index-builder.js': {
    names: ['AlterTableAddIndexBuilder'],
    use: "db.schema.alterTable().addIndex() (MySQL's; use db.schema.createIndex())",
  },
};

/**
 * The HTTP functions only build queries: they never create tables or list the
 * database's tables, so the schema module and the introspector are left out
 * of them as well; the migrate function, whose Migrator needs both, keeps them.
 */
const kyselyMigrateOnly = {
  'schema/schema-module.js': { names: ['SchemaModule'], use: 'db.schema' },
  'dialect/postgres/postgres-introspector.js': { names: ['PostgresIntrospector'], use: 'db.introspection' },
};

function throwingClasses(names, message) {
  return names
    .map((name) => {
      const text = JSON.stringify(`${name} ${message}`);
      return `export class ${name} { constructor() { throw new Error(${text}); } }`;
    })
    .join('\n');
}

/**
 * The stub that replaces the file at `path` inside kysely/dist, or undefined
 * when it is not left out. `queriesOnly`: for an HTTP function (not migrate).
 * The tests run from the sources get the same stubs for every function
 * (test/support/kysely-resolver.cjs), so a left-out builder fails there too.
 */
function kyselyStub(path, queriesOnly) {
  const relative = path.replace(/\\/g, '/').replace(/^.*\/kysely\/dist\/(esm\/)?/, '');
  const unused = kyselyUnused[relative];
  if (unused) {
    const why = `no function uses ${unused.use}; take it off the list there to use it`;
    return throwingClasses(unused.names, `is left out of every function bundle (esbuild-plugins.cjs): ${why}`);
  }
  const migrateOnly = queriesOnly ? kyselyMigrateOnly[relative] : undefined;
  if (migrateOnly) {
    const why = `only the migrate function has ${migrateOnly.use}`;
    return throwingClasses(migrateOnly.names, `is left out of the HTTP function bundles (esbuild-plugins.cjs); ${why}`);
  }
  return undefined;
}

const kyselyLeftOut = {
  name: 'kysely-left-out',
  setup(build) {
    const entries = Object.values(build.initialOptions.entryPoints ?? {}).map((entry) =>
      typeof entry === 'string' ? entry : entry.in,
    );
    // An unnamed entry (stdin) could be the migrate function: it keeps the schema module.
    const queriesOnly = entries.length > 0 && !entries.some((entry) => /migrate\.[jt]s$/.test(entry));
    build.onLoad({ filter: /[\\/]node_modules[\\/]kysely[\\/]dist[\\/].*\.js$/ }, (args) => {
      const contents = kyselyStub(args.path, queriesOnly);
      return contents === undefined ? undefined : { loader: 'js', contents };
    });
  },
};

/**
 * Node built-ins that libraries load at import time but use only on paths a
 * request to this API rarely or never takes: Powertools' debug-log sampling
 * (`node:crypto`) and pg's SCRAM/MD5 password hashing (`crypto`, with
 * WebCrypto). Loading crypto is ~55 M instructions of a cold start on Node 24
 * (19% of get-cat; `npm run bench:devices`), and either library alone loads
 * it. They are loaded on first use instead, through
 * `process.getBuiltinModule`, so a function that authenticates with a
 * password still gets crypto, just not before it needs it. Every rewrite
 * checks that the text it replaces is there, so a library upgrade that
 * changes it fails the build instead of silently loading the module again;
 * test/unit/lazy-builtins.test.ts checks that no bundle loads crypto at import.
 *
 * Measured on Node 24 and removed because each paid under 2% of a cold start:
 * middy's `node:stream/web` and `node:stream/promises` (middy 7 no longer
 * imports them) and pg's `dns` (1.2%, 3.4 M).
 */
const lazyEsmImports = {
  // module -> the functions libraries import from it.
  'node:crypto': ['randomInt'],
};
const lazyEsmImporters = /[\\/]node_modules[\\/]@aws-lambda-powertools[\\/]logger[\\/]/;

function lazyEsmModule(id) {
  const load = `process.getBuiltinModule(${JSON.stringify(id)})`;
  return lazyEsmImports[id].map((name) => `export const ${name} = (...args) => ${load}.${name}(...args);`).join('\n');
}

/** CommonJS files whose top-level `require` of a built-in is made lazy. */
const lazyRequires = [
  {
    // Only the hashing functions use crypto; all of them are called after a
    // server asked for a password.
    file: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]crypto[\\/]utils\.js$/,
    rewrite: (source) => deferModule(source),
  },
];

/**
 * Runs a CommonJS module whose exports are all functions only when one of
 * them is first called: the module object keeps the same function names.
 */
function deferModule(source) {
  const exported = /^module\.exports = \{([^}]*)\}/m.exec(source);
  if (!exported) throw new Error('lazy-builtins: expected `module.exports = { ... }`; update esbuild-plugins.cjs');
  const names = exported[1]
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  return `
    let loaded;
    const load = () => {
      if (!loaded) {
        const module = { exports: {} };
        (function (module, exports) {\n${source}\n})(module, module.exports);
        loaded = module.exports;
      }
      return loaded;
    };
    module.exports = {
      ${names.map((name) => `${name}: (...args) => load().${name}(...args)`).join(',\n')}
    };`;
}

const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(build) {
    const ids = Object.keys(lazyEsmImports).map((id) => id.replace(/[/]/g, '\\/'));
    build.onResolve({ filter: new RegExp(`^(${ids.join('|')})$`) }, (args) =>
      lazyEsmImporters.test(args.importer) ? { path: args.path, namespace: 'lazy-builtin' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      loader: 'js',
      contents: lazyEsmModule(args.path),
    }));
    for (const { file, rewrite } of lazyRequires) {
      build.onLoad({ filter: file }, async (args) => ({
        loader: 'js',
        contents: rewrite(await require('node:fs/promises').readFile(args.path, 'utf8')),
      }));
    }
  },
};

module.exports = [pgNativeLeftOut, kyselyLeftOut, lazyBuiltins];
// For test/support/kysely-resolver.cjs (serverless-esbuild and esbuild see an array of plugins).
module.exports.kyselyStub = kyselyStub;
