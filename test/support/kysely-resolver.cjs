/**
 * Jest resolver: the tests that run the sources get the Kysely stubs the
 * bundles get (esbuild-plugins.cjs, kysely-left-out), so calling a builder
 * left out of every function fails in `npm test` with the same error as in a
 * deployed function, not only once bundled. (The schema module and the
 * introspector, left out of the HTTP functions only, stay real here: the
 * migrations run from the sources need them; test/unit/bundle.test.ts and
 * the e2e tests, which run bundles, cover those.)
 */
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { kyselyStub } = require('../../plugins/esbuild-plugins.cjs');

const folder = join(__dirname, '../../node_modules/.cache/cats-kysely-stubs');

function stubFile(resolved, contents) {
  const relative = resolved.replace(/\\/g, '/').replace(/^.*\/kysely\/dist\//, '');
  const file = join(folder, relative);
  let current;
  try {
    current = readFileSync(file, 'utf8');
  } catch {}
  if (current !== contents) {
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(join(folder, 'package.json'), '{"type":"module"}');
    // Jest runs test files in parallel workers: write, then rename into place.
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, contents);
    renameSync(temporary, file);
  }
  return file;
}

module.exports = (request, options) => {
  const resolved = options.defaultResolver(request, options);
  if (!/[\\/]node_modules[\\/]kysely[\\/]dist[\\/]/.test(resolved)) return resolved;
  const contents = kyselyStub(resolved, false);
  return contents === undefined ? resolved : stubFile(resolved, contents);
};
