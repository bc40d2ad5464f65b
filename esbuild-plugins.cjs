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

/**
 * Node built-ins that libraries load at import time but use only on paths a
 * request to this API rarely or never takes. Each costs 1-4 ms of every cold
 * start on Node 20 (measured with `process.moduleLoadList` and `--cpu-prof`):
 * middy's streaming-response support (`node:stream/web`,
 * `node:stream/promises`), Powertools' debug-log sampling (`node:crypto`),
 * pg's SCRAM/MD5 password hashing (`crypto`, with WebCrypto) and pg's libpq
 * connection string for the native client (`dns`). They are loaded on first
 * use instead, through `process.getBuiltinModule` (Node >= 20.16), so a
 * function that authenticates with a password still gets crypto, just not
 * before it needs it. Every rewrite checks that the text it replaces is
 * there, so a library upgrade that changes it fails the build instead of
 * silently loading the module again.
 */
const lazyEsmImports = {
  // module -> the names libraries import from it, and how each is used.
  'node:stream/web': { ReadableStream: 'class' },
  'node:stream/promises': { pipeline: 'function' },
  'node:crypto': { randomInt: 'function' },
};
const lazyEsmImporters = /[\\/]node_modules[\\/](@middy[\\/]core|@aws-lambda-powertools[\\/]logger)[\\/]/;

function lazyEsmModule(id) {
  const load = `process.getBuiltinModule(${JSON.stringify(id)})`;
  return Object.entries(lazyEsmImports[id])
    .map(([name, kind]) =>
      kind === 'class'
        ? // instanceof and new both reach the real class, loaded then.
          `export const ${name} = class {
            constructor(...args) { return new (${load}.${name})(...args); }
            static [Symbol.hasInstance](value) { return value instanceof ${load}.${name}; }
          };`
        : `export const ${name} = (...args) => ${load}.${name}(...args);`,
    )
    .join('\n');
}

/** CommonJS files whose top-level `require` of a built-in is made lazy. */
const lazyRequires = [
  {
    // Only the hashing functions use crypto; all of them are called after a
    // server asked for a password.
    file: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]crypto[\\/]utils\.js$/,
    rewrite: (source) => deferModule(source),
  },
  {
    // dns.lookup is only called to build a libpq string for pg-native.
    file: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]connection-parameters\.js$/,
    rewrite: (source) =>
      replaceOnce(
        source,
        "const dns = require('dns')",
        "const dns = { lookup: (...args) => process.getBuiltinModule('dns').lookup(...args) }",
      ),
  },
];

function replaceOnce(source, from, to) {
  const at = source.indexOf(from);
  if (at < 0 || source.indexOf(from, at + 1) >= 0) {
    throw new Error(`lazy-builtins: expected exactly one "${from}"; the library changed, update esbuild-plugins.cjs`);
  }
  return source.slice(0, at) + to + source.slice(at + from.length);
}

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

module.exports = [pgNodeStreams, pgNativeLeftOut, kyselyQueriesOnly, lazyBuiltins];
