/**
 * Calls every Kysely method whose builder esbuild-plugins.cjs leaves out and
 * records what each threw (`thrown`, by call): run in a bundle built with the
 * functions' options (test/unit/bundle.test.ts) and from the sources, where
 * test/support/kysely-resolver.cjs applies the same stubs
 * (test/unit/kysely-left-out.test.ts). Plain JavaScript in a string, which
 * expects `Kysely` and `PostgresDialect` in scope.
 */
export const probeBody = `
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
`;

/** Every call in the probe that reaches a left-out builder. */
export const leftOutCalls = [
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
