/**
 * Concurrent writes to one cat from separate containers (one connection
 * each): PATCHes of different fields must not undo each other, and every
 * answer must be a state the row really had.
 */

import { insertCat, updateCat } from '../../lib/cats/repository.js';
import { readDatabaseSettings } from '../../lib/config.js';
import { createDatabase, type DatabaseHandle } from '../../lib/db/index.js';
import { useScratchDatabase } from '../support/scratch-database.js';

// Its own database: its inserts never show up in another file's table comparison.
const databaseUrl = useScratchDatabase('cats_concurrent');
let containers: DatabaseHandle[] = [];

beforeAll(() => {
  containers = Array.from({ length: 8 }, () => createDatabase(readDatabaseSettings({ DATABASE_URL: databaseUrl() })));
});

afterAll(async () => {
  await Promise.all(containers.map((c) => c.db.destroy()));
});

type State = { name: string; price: number };
type Answer = { field: 'name' | 'price'; state: State };

/**
 * Row locks serialize the updates, so the answers plus the initial state must
 * form one chain in which each step changes only the field its PATCH sent,
 * ending at the row as it is now. (Several orders may fit the answers; one
 * ending elsewhere would mean a lost update.)
 */
function serialOrder(state: State, answers: Answer[], end: State, used = 0, deadEnds = new Set<string>()): boolean {
  if (used === 2 ** answers.length - 1) return state.name === end.name && state.price === end.price;
  // Remembering dead ends keeps runs of same-field PATCHes from costing k!.
  const key = `${used}:${state.name}:${state.price}`;
  if (deadEnds.has(key)) return false;
  const found = answers.some((answer, i) => {
    const other = answer.field === 'name' ? 'price' : 'name';
    return (
      (used & (1 << i)) === 0 &&
      answer.state[other] === state[other] &&
      serialOrder(answer.state, answers, end, used | (1 << i), deadEnds)
    );
  });
  if (!found) deadEnds.add(key);
  return found;
}

it('keeps every field update when PATCHes of different fields of one cat run at once', async () => {
  const [first] = containers;
  const cat = await insertCat(first?.db as DatabaseHandle['db'], { name: 'race-0', price: 0, breed: 'concurrent' });
  const answers = await Promise.all(
    Array.from({ length: 16 }, async (_, i): Promise<Answer> => {
      const container = containers[i % containers.length] as DatabaseHandle;
      const field = i % 2 === 0 ? 'name' : 'price';
      const row = await updateCat(
        container.db,
        cat.id,
        field === 'name' ? { name: `race-${i + 1}` } : { price: i + 1 },
      );
      return { field, state: { name: row.name, price: row.price } };
    }),
  );
  const final = await first?.db
    .selectFrom('cats')
    .select(['name', 'price'])
    .where('id', '=', cat.id)
    .executeTakeFirst();

  expect(final).toBeDefined();
  expect(serialOrder({ name: 'race-0', price: 0 }, answers, final as State)).toBe(true);
  // The last name and the last price written both survive: neither PATCH
  // overwrote the other's field with a stale value.
  expect(answers.some((a) => a.field === 'name' && a.state.name === final?.name)).toBe(true);
  expect(answers.some((a) => a.field === 'price' && a.state.price === final?.price)).toBe(true);
});
