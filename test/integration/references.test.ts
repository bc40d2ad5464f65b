/**
 * The migration helpers for references (lib/db/migrations.ts): the foreign
 * key carries its delete rule, and a row the database changes under `set
 * null` gets a new version and updatedAt, as a write through the API would,
 * so its ETag changes. Tables of their own in a database of its own; the
 * API's side of each rule is the conformance suite's (test/support/conformance.ts).
 */
import { type Kysely, sql } from 'kysely';
import { readDatabaseSettings } from '../../lib/config.js';
import { createDatabase, type DatabaseHandle, db } from '../../lib/db/index.js';
import { addReference, createVersionedTable, type DeleteRule, dropReference } from '../../lib/db/migrations.js';
import { useScratchDatabase } from '../support/scratch-database.js';

const ownerUrl = useScratchDatabase('cats_references');
/** Tables are the owner's to make (as a migration does); rows are the API's role's to write (db()). */
let ownerHandle: DatabaseHandle | undefined;
const owner = () => {
  ownerHandle ??= createDatabase(readDatabaseSettings({ DATABASE_URL: ownerUrl() }));
  return ownerHandle.db as unknown as Kysely<any>;
};
afterAll(async () => {
  await ownerHandle?.db.destroy();
});

const rules: DeleteRule[] = ['restrict', 'set null', 'cascade'];
const any = () => db() as unknown as Kysely<any>;
const tableFor = (rule: DeleteRule) => `children_${rule.replace(' ', '_')}`;

beforeAll(async () => {
  await createVersionedTable(owner(), 'parents')
    .addColumn('name', 'text', (col) => col.notNull())
    .execute();
  for (const rule of rules) {
    await createVersionedTable(owner(), tableFor(rule))
      .addColumn('name', 'text', (col) => col.notNull())
      .execute();
    await addReference(owner(), { table: tableFor(rule), column: 'parent_id', target: 'parents', onDelete: rule });
  }
});

async function parentWithChild(rule: DeleteRule) {
  const parent = await any().insertInto('parents').values({ name: 'p' }).returning('id').executeTakeFirstOrThrow();
  const child = await any()
    .insertInto(tableFor(rule))
    .values({ name: 'c', parent_id: parent.id, updated_at: sql`now() - interval '1 hour'` })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { parentId: parent.id as number, child };
}

const childRow = (rule: DeleteRule, id: number) =>
  any().selectFrom(tableFor(rule)).selectAll().where('id', '=', id).executeTakeFirst();

it.each([
  ['restrict', 'r'],
  ['set null', 'n'],
  ['cascade', 'c'],
] as const)('makes the foreign key with ON DELETE %s', async (rule, code) => {
  const { rows } = await sql<{ rule: string }>`SELECT confdeltype AS rule FROM pg_constraint
    WHERE contype = 'f' AND conrelid = ${tableFor(rule)}::regclass`.execute(db());
  expect(rows).toEqual([{ rule: code }]);
});

it('refuses to delete a row still named under restrict (foreign_key_violation), changing nothing', async () => {
  const { parentId, child } = await parentWithChild('restrict');
  await expect(any().deleteFrom('parents').where('id', '=', parentId).execute()).rejects.toMatchObject({
    code: '23503',
  });
  expect(await childRow('restrict', child.id)).toEqual(child);
});

it('clears the reference under set null and bumps the row version and updated_at', async () => {
  const { parentId, child } = await parentWithChild('set null');
  await any().deleteFrom('parents').where('id', '=', parentId).execute();
  const after = await childRow('set null', child.id);
  expect(after).toMatchObject({ parent_id: null, version: child.version + 1, name: 'c' });
  expect(after?.updated_at.getTime()).toBeGreaterThan(child.updated_at.getTime());
});

it('leaves an update that bumps the version itself (as the API does) at one bump', async () => {
  const { child } = await parentWithChild('set null');
  await any()
    .updateTable(tableFor('set null'))
    .set({ parent_id: null, version: sql`version + 1` })
    .where('id', '=', child.id)
    .execute();
  expect(await childRow('set null', child.id)).toMatchObject({ parent_id: null, version: child.version + 1 });
});

it('deletes the naming rows under cascade', async () => {
  const { parentId, child } = await parentWithChild('cascade');
  await any().deleteFrom('parents').where('id', '=', parentId).execute();
  expect(await childRow('cascade', child.id)).toBeUndefined();
});

it('indexes the reference column, and dropReference takes the column and its trigger away', async () => {
  const { rows } = await sql<{ name: string }>`SELECT indexname AS name FROM pg_indexes
    WHERE tablename = ${tableFor('set null')} AND indexdef LIKE '%(parent_id)'`.execute(db());
  expect(rows).toEqual([{ name: `${tableFor('set null')}_parent_id_idx` }]);
  // A table of its own: the other tests use children_set_null's column, in any order (--randomize).
  await createVersionedTable(owner(), 'children_dropped')
    .addColumn('name', 'text', (col) => col.notNull())
    .execute();
  await addReference(owner(), {
    table: 'children_dropped',
    column: 'parent_id',
    target: 'parents',
    onDelete: 'set null',
  });
  await dropReference(owner(), 'children_dropped', 'parent_id');
  const triggers = await sql`SELECT 1 FROM pg_trigger WHERE tgrelid = 'children_dropped'::regclass
    AND NOT tgisinternal`.execute(db());
  expect(triggers.rows).toEqual([]);
  const columns = await sql`SELECT 1 FROM information_schema.columns
    WHERE table_name = 'children_dropped' AND column_name = 'parent_id'`.execute(db());
  expect(columns.rows).toEqual([]);
});
