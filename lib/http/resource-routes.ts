/**
 * The standard routes of a resource, for a handler to pass to httpRoute():
 * each validates its input at the edge, calls one repository function and
 * says what to answer. A handler names the pieces (its schemas, its
 * repository function, its row-to-JSON mapping); what the route does with
 * them is the same for every resource. A route particular to a resource is
 * written out in its handler instead (functions/list-cats.ts's tutorial page).
 * The writes count their domain events by the resource's name (`resource:
 * 'Cats'` gives the metrics CatsCreated, CatsChanged, CatsDeleted), so a new
 * resource gets them without code of its own.
 */
import type { Kysely } from 'kysely';
import { readIdempotencyTtlSeconds } from '../config.js';
import { db } from '../db/index.js';
import type { Database } from '../db/schema.js';
import type { ListQuery, Page } from '../listing.js';
import { countEvent } from '../metrics.js';
import type * as z from '../validation.js';
import { etagOf, ifMatchVersions, ifNoneMatchHits } from './conditional.js';
import type { Reply, Route } from './handler.js';
import { fingerprint, idempotencyKey, idempotent } from './idempotency.js';
import { jsonBody, pathParameters, queryParameters, validate } from './request.js';

type IdSchema = z.ZodMiniType<{ id: number }, unknown>;
/** What every item a route returns has: its id, and its version (the ETag). */
type Versioned = { id: number; version: number };

/** GET /<items>: one page, after the query's cursor. */
export function listRoute<Q extends ListQuery, Item>(options: {
  querySchema: z.ZodMiniType<Q, unknown>;
  page: (db: Kysely<Database>, query: Q) => Promise<Page<Item>>;
}): Route {
  return async (event) => {
    const query = validate(options.querySchema, queryParameters(event), 'query');
    return { status: 200, body: await options.page(db(), query) };
  };
}

/** GET /<items>/{id}: the item with its ETag, 304 when If-None-Match still matches, or 404. */
export function getRoute<Row, Item extends Versioned>(options: {
  idSchema: IdSchema;
  find: (db: Kysely<Database>, id: number) => Promise<Row>;
  toJson: (row: Row) => Item;
}): Route {
  return async (event) => {
    const { id } = validate(options.idSchema, pathParameters(event), 'path');
    const item = options.toJson(await options.find(db(), id));
    const headers = { etag: etagOf(item.version) };
    if (ifNoneMatchHits(event, item.version)) return { status: 304, headers };
    return { status: 200, body: item, headers };
  };
}

/**
 * POST /<items>: adds an item, 201 with its Location; with an Idempotency-Key
 * header, a retry gets the first answer instead of a second item.
 */
export function createRoute<Input extends Record<string, unknown>, Row, Item extends Versioned>(options: {
  bodySchema: z.ZodMiniType<Input, unknown>;
  insert: (db: Kysely<Database>, input: Input) => Promise<Row>;
  toJson: (row: Row) => Item;
  /** Its name in metrics, plural and capitalised: `Owners` counts OwnersCreated. */
  resource: string;
  /** The collection's path, e.g. /owners: a new item is at /owners/{id}. */
  path: string;
  /**
   * What an Idempotency-Key's stored request is told apart by, with the body;
   * the same for every alias of the route. Default: `POST <path>`.
   */
  operation?: string;
}): Route {
  const ttlSeconds = readIdempotencyTtlSeconds();
  const operation = options.operation ?? `POST ${options.path}`;
  return async (event) => {
    const key = idempotencyKey(event);
    const input = validate(options.bodySchema, jsonBody(event), 'body');
    const create = async (database: Kysely<Database>): Promise<Reply> => {
      const item = options.toJson(await options.insert(database, input));
      return {
        status: 201,
        body: item,
        headers: { location: `${options.path}/${item.id}`, etag: etagOf(item.version) },
      };
    };
    const reply =
      key === undefined
        ? await create(db())
        : await idempotent(db(), { key, fingerprint: fingerprint(operation, input), ttlSeconds }, create);
    // A replay created nothing (it is counted as IdempotentReplays).
    if (reply.headers?.['idempotent-replayed'] === undefined) countEvent(options.resource, 'Created');
    return reply;
  };
}

/** PATCH /<items>/{id}: sets the fields sent; with If-Match, only on that version (else 412). */
export function updateRoute<Patch, Row, Item extends Versioned>(options: {
  idSchema: IdSchema;
  bodySchema: z.ZodMiniType<Patch, unknown>;
  update: (db: Kysely<Database>, id: number, patch: Patch, ifMatch?: number[]) => Promise<Row>;
  toJson: (row: Row) => Item;
  /** Its name in metrics: `Owners` counts OwnersChanged. */
  resource: string;
}): Route {
  return async (event) => {
    const { id } = validate(options.idSchema, pathParameters(event), 'path');
    const ifMatch = ifMatchVersions(event);
    const patch = validate(options.bodySchema, jsonBody(event), 'body');
    const item = options.toJson(await options.update(db(), id, patch, ifMatch));
    countEvent(options.resource, 'Changed');
    return { status: 200, body: item, headers: { etag: etagOf(item.version) } };
  };
}

/** DELETE /<items>/{id}: 204; with If-Match, only that version (else 412). */
export function deleteRoute(options: {
  idSchema: IdSchema;
  remove: (db: Kysely<Database>, id: number, ifMatch?: number[]) => Promise<void>;
  /** Its name in metrics: `Owners` counts OwnersDeleted. */
  resource: string;
}): Route {
  return async (event) => {
    const { id } = validate(options.idSchema, pathParameters(event), 'path');
    await options.remove(db(), id, ifMatchVersions(event));
    countEvent(options.resource, 'Deleted');
    return { status: 204 };
  };
}
