/**
 * esbuild plugins for the Lambda bundles (serverless.yml custom.esbuild.plugins;
 * `npm run bench` builds with them too). CommonJS because serverless-esbuild
 * loads this file with require().
 */

/**
 * pg decides at import time whether it runs in a Cloudflare Worker; on Node
 * without a global `navigator` (Node 20) it does so by constructing a
 * `Response`, which makes Node load its whole fetch implementation (undici):
 * ~15-20 ms of every cold start for nothing. Lambda is always Node, so the
 * bundle gets pg's own Node stream functions and no probe (and no
 * pg-cloudflare).
 */
const pgNodeStreams = {
  name: 'pg-node-streams',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]stream\.js$/ }, () => ({
      loader: 'js',
      contents: `
        module.exports = {
          getStream: () => new (require('net').Socket)(),
          getSecureStream: (options) => require('tls').connect(options),
        };`,
    }));
  },
};

/**
 * pg's native client (pg-native, a C addon we do not install) is required
 * lazily by pg, but esbuild bundles whatever a `require` names: ~8 KB of every
 * bundle for code that cannot run. pg treats MODULE_NOT_FOUND as "no native
 * client", which is the truth here.
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
 * The HTTP functions only build queries; they never create tables, look up a
 * schema or switch schemas. Kysely's `Kysely` class still references all of
 * that from getters and methods, which esbuild cannot tree-shake, so those
 * modules (and the operation-node transformer only they use) are replaced
 * with stubs that fail loudly if ever called: ~60 KB less per bundle. The
 * migrate function, which needs the schema builder, gets the real modules.
 */
const kyselyLeftOut = {
  'schema/schema-module.js': 'SchemaModule',
  'plugin/with-schema/with-schema-plugin.js': 'WithSchemaPlugin',
  'dialect/postgres/postgres-introspector.js': 'PostgresIntrospector',
  // No function runs MERGE (`db.mergeInto`): ~3.5 KB per bundle.
  'query-builder/merge-query-builder.js': 'MergeQueryBuilder',
};
const kyselyQueriesOnly = {
  name: 'kysely-queries-only',
  setup(build) {
    const entries = Object.values(build.initialOptions.entryPoints ?? {}).map((entry) =>
      typeof entry === 'string' ? entry : entry.in,
    );
    if (entries.length === 0 || entries.some((entry) => /migrate\.[jt]s$/.test(entry))) return;
    build.onLoad({ filter: /[\\/]node_modules[\\/]kysely[\\/]dist[\\/].*\.js$/ }, (args) => {
      const relative = args.path.replace(/\\/g, '/').replace(/^.*\/kysely\/dist\/(esm\/)?/, '');
      const name = kyselyLeftOut[relative];
      if (!name) return undefined;
      return {
        loader: 'js',
        contents: `export class ${name} {
          constructor() {
            throw new Error('${name} is left out of the HTTP function bundles (esbuild-plugins.cjs); only the migrate function has it');
          }
        }`,
      };
    });
  },
};

module.exports = [pgNodeStreams, pgNativeLeftOut, kyselyQueriesOnly];
