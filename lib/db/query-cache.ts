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
import { logger } from '../logger.js';
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

/**
 * A query run with each call's values. `shapes()` tells how many shapes it
 * has compiled and kept, and how many calls found no room for theirs.
 */
export type CachedQuery<O, R> = ((db: Kysely<Database>, options: O) => Promise<R[]>) & {
  shapes(): { kept: number; refused: number };
};

export interface CacheOptions {
  /**
   * The most shapes kept; a shape past it is compiled per call (and logged
   * once), so no client can grow the cache. Size it from the query's own
   * shape count: a listing computes its own (lib/listing.ts).
   */
  maxShapes?: number;
}

// A long list (an If-Match with hundreds of tags) is compiled per call
// instead, for the same reason.
const maxListLength = 4;

/** Returns the rows; `build` must only use `options` as described above. */
export function cachedQuery<O extends object, R>(
  build: (db: Kysely<Database>, options: O) => Compilable<R>,
  shapeFields: ReadonlyArray<keyof O & string> = [],
  { maxShapes = 64 }: CacheOptions = {},
): CachedQuery<O, R> {
  const plans = new Map<string, Plan>();
  let refused = 0;
  const run = async (db: Kysely<Database>, options: O) => {
    const values = options as Options;
    let shape = '';
    let keep = true;
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
      if (keep && plans.size < maxShapes) plans.set(shape, plan);
      else if (keep && refused++ === 0) {
        logger.warn('query cache full: this shape is compiled on every call', { shape, maxShapes, sql: plan.sql });
      }
    }
    const parameters = plan.placeholders.map(({ field, index }) =>
      index === undefined ? values[field] : (values[field] as unknown[])[index],
    );
    const result = await db.executeQuery<R>({ sql: plan.sql, query: plan.query, parameters, queryId: createQueryId() });
    return result.rows;
  };
  return Object.assign(run, { shapes: () => ({ kept: plans.size, refused }) });
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
