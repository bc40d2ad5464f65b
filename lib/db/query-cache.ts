/**
 * Queries built and compiled once per shape, then run with each call's values
 * (Kysely's "compile once, execute many"): building a Kysely query (a tree of
 * frozen nodes) and compiling it (a visitor over that tree) was about a fifth
 * of a warm primary-key read's JavaScript time, spent making SQL text that only
 * changes with the query's shape. The builder runs once per shape with
 * placeholders for the values, and the parameter order comes from the
 * compiler, not from us. Every run still sends the same unnamed statement and
 * parameters through Kysely's executor; nothing is prepared on the server.
 *
 * A query's shape is the values of its `shapeFields`, which other fields are
 * present (not undefined) and the length of each array: a builder may branch on
 * those and on nothing else. Every parameter of its SQL must be a placeholder,
 * so a value computed inside it (`limit + 1`) throws on the first compile
 * rather than freezing one request's value into the cache.
 */
import { type Compilable, createQueryId, type Kysely, type RootOperationNode } from 'kysely';
import type { Database } from './schema.js';

type Options = Record<string, unknown>;

class Placeholder {
  constructor(
    readonly field: string,
    readonly index?: number,
  ) {}
}

interface Plan {
  sql: string;
  query: RootOperationNode;
  placeholders: Placeholder[];
}

// The routes make at most 256 shapes a query (the listing: 4 sorts, 2 orders,
// 32 filter combinations); a long list (an If-Match with hundreds of tags) is
// compiled per call instead, so no client can grow the cache.
const maxShapes = 300;
const maxListLength = 4;

/** Returns the rows; `build` must only use `options` as described above. */
export function cachedQuery<O extends object, R>(
  build: (db: Kysely<Database>, options: O) => Compilable<R>,
  shapeFields: ReadonlyArray<keyof O & string> = [],
): (db: Kysely<Database>, options: O) => Promise<R[]> {
  const plans = new Map<string, Plan>();
  return async (db, options) => {
    const values = options as Options;
    let shape = '';
    let keep = plans.size < maxShapes;
    for (const field in values) {
      const value = values[field];
      if (value === undefined) continue;
      if (shapeFields.includes(field as keyof O & string)) shape += `${field}=${JSON.stringify(value)};`;
      else if (!Array.isArray(value)) shape += `${field};`;
      else {
        shape += `${field}[${value.length}];`;
        keep &&= value.length <= maxListLength;
      }
    }
    let plan = plans.get(shape);
    if (plan === undefined) {
      plan = compile(db, values, shapeFields as readonly string[], build as never);
      if (keep) plans.set(shape, plan);
    }
    const parameters = plan.placeholders.map(({ field, index }) =>
      index === undefined ? values[field] : (values[field] as unknown[])[index],
    );
    const result = await db.executeQuery<R>({ sql: plan.sql, query: plan.query, parameters, queryId: createQueryId() });
    return result.rows;
  };
}

function compile(
  db: Kysely<Database>,
  values: Options,
  shapeFields: readonly string[],
  build: (db: Kysely<Database>, options: Options) => Compilable<unknown>,
): Plan {
  const standIns: Options = {};
  for (const field in values) {
    const value = values[field];
    standIns[field] =
      value === undefined || shapeFields.includes(field)
        ? value
        : Array.isArray(value)
          ? value.map((_, index) => new Placeholder(field, index))
          : new Placeholder(field);
  }
  const { sql, query, parameters } = build(db, standIns).compile();
  const placeholders = parameters.map((parameter) => {
    if (parameter instanceof Placeholder) return parameter;
    throw new Error(`cachedQuery: a parameter of "${sql}" was computed inside the builder`);
  });
  return { sql, query, placeholders };
}
