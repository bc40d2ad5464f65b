/**
 * A write that breaks a unique, foreign key or CHECK constraint is the
 * client's doing, so it gets a 4xx problem naming the field, never a 500, and the
 * values it sent are not echoed back. The errors come from a real PostgreSQL
 * (tables of this test's own database), as the handlers would see them.
 */
import pg from 'pg';
import { toProblem } from '../../lib/http/errors.js';
import { useScratchDatabase } from '../support/scratch-database.js';

const databaseUrl = useScratchDatabase('cats_constraints');
let client: pg.Client;

// In a describe block, so that the client ends before the scratch database is dropped.
describe('constraint violations', () => {
  beforeAll(async () => {
    client = new pg.Client({ connectionString: databaseUrl() });
    await client.connect();
    await client.query(`
    CREATE TABLE people (id integer PRIMARY KEY, email text UNIQUE NOT NULL, nick text);
    CREATE UNIQUE INDEX people_nick_key ON people (lower(nick));
    CREATE TABLE pets (id integer PRIMARY KEY, owner_id integer REFERENCES people (id));
    INSERT INTO people VALUES (1, 'ann@example.com', 'Annie');
    INSERT INTO pets VALUES (1, 1);
    CREATE TABLE visits (
      id integer PRIMARY KEY,
      cost_cents integer NOT NULL CHECK (cost_cents >= 0),
      weight_grams integer CHECK (weight_grams > 0) CHECK (weight_grams < 100000),
      starts_on date, ends_on date, CHECK (ends_on >= starts_on)
    );`);
  });
  afterAll(() => client.end());

  async function failure(statement: string): Promise<unknown> {
    try {
      await client.query(statement);
    } catch (error) {
      return error;
    }
    throw new Error(`${statement} succeeded`);
  }

  it('answers a duplicate unique value with a 409 naming the field, without the value', async () => {
    const problem = toProblem(await failure(`INSERT INTO people VALUES (2, 'ann@example.com', NULL)`));
    expect(problem).toMatchObject({
      status: 409,
      type: '/problems/conflict',
      detail: 'email is already taken: it must be unique',
    });
    expect(problem.errors).toEqual([
      { field: 'email', in: 'body', detail: 'is already taken: it must be unique', pointer: '#/email' },
    ]);
    expect(JSON.stringify(problem)).not.toContain('ann@example.com');
  });

  it('names the column of a unique expression index, such as a case-insensitive one', async () => {
    const problem = toProblem(await failure(`INSERT INTO people VALUES (2, 'bob@example.com', 'ANNIE')`));
    expect(problem).toMatchObject({ status: 409, detail: 'nick is already taken: it must be unique' });
    expect(JSON.stringify(problem)).not.toMatch(/annie/i);
  });

  it('answers a reference to a row that does not exist with a 422 naming the field in camelCase', async () => {
    const problem = toProblem(await failure('INSERT INTO pets VALUES (2, 42)'));
    expect(problem).toMatchObject({ status: 422, type: '/problems/unknown-reference' });
    expect(problem.detail).toBe('ownerId must be the id of an existing row of people');
    expect(problem.errors).toEqual([
      { field: 'ownerId', in: 'body', detail: 'must be the id of an existing row of people', pointer: '#/ownerId' },
    ]);
  });

  it('answers the deletion of a row others still refer to with a 409', async () => {
    const problem = toProblem(await failure('DELETE FROM people WHERE id = 1'));
    expect(problem).toMatchObject({ status: 409, type: '/problems/conflict' });
    expect(problem.detail).toBe('rows of pets still refer to it: change or remove them first');
  });

  it('answers a value a column CHECK refuses with a 422 naming the field in camelCase, without the value or the SQL', async () => {
    const problem = toProblem(await failure('INSERT INTO visits (id, cost_cents) VALUES (1, -417)'));
    expect(problem).toMatchObject({
      status: 422,
      type: '/problems/constraint-violation',
      detail: 'costCents breaks a rule the stored data must follow',
    });
    expect(problem.errors).toEqual([
      { field: 'costCents', in: 'body', detail: 'breaks a rule the stored data must follow', pointer: '#/costCents' },
    ]);
    expect(JSON.stringify(problem)).not.toMatch(/-417|>=|visits_cost_cents_check|Failing row/);
  });

  it("names the field of a column's second CHECK, which PostgreSQL numbers", async () => {
    const problem = toProblem(await failure('INSERT INTO visits (id, cost_cents, weight_grams) VALUES (1, 5, 100000)'));
    expect(problem).toMatchObject({ status: 422, errors: [{ field: 'weightGrams' }] });
  });

  it('answers a CHECK over several columns with a 422 that names no field', async () => {
    const failed = await failure(
      "INSERT INTO visits (id, cost_cents, starts_on, ends_on) VALUES (1, 5, '2026-03-02', '2026-03-01')",
    );
    expect((failed as { constraint?: string }).constraint).toBe('visits_check');
    const problem = toProblem(failed);
    expect(problem).toMatchObject({ status: 422, type: '/problems/constraint-violation' });
    expect(problem.errors).toBeUndefined();
    expect(problem.detail).not.toContain('2026');
  });

  it('leaves other database errors to be a 500', async () => {
    expect(toProblem(await failure('SELECT * FROM no_such_table')).status).toBe(500);
    expect(toProblem(await failure("INSERT INTO pets VALUES (3, 'x')")).status).toBe(500);
  });
});
