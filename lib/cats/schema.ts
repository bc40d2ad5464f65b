/**
 * The cat resource as the API speaks it: what a client may send, what it gets
 * back, how it may list cats, and how the OpenAPI document describes its
 * routes. Field rules come from lib/fields.ts, the listing machinery from
 * lib/listing.ts and the operations from lib/openapi/operations.ts; this
 * module says only what is particular to cats. (A handler's bundle keeps only
 * what it uses: the OpenAPI part goes into the openapi function alone.)
 */

import type { CatRow } from '../db/schema.js';
import {
  body,
  idParameters,
  integer,
  integerParameter,
  isoTime,
  maxInteger,
  patchBody,
  printableText,
  text,
} from '../fields.js';
import { type ListingSpec, listQuerySchema as listQuerySchemaOf, type SortKey as SortKeySpec } from '../listing.js';
import { header, type ResourceDoc, ref, resourceApi } from '../openapi/operations.js';
import * as z from '../validation.js';

// Every schema below is built in a /* @__PURE__ */ arrow: zod marks its own
// constructors free of side effects, but not `.check()` or `z.optional()`, so
// without it esbuild would keep (and every function would build at import)
// all the schemas of the API; with it, a function's bundle has only the ones
// it uses.

export const maxTextLength = 100;
export const maxPrice = maxInteger;
export const maxId = maxInteger;

const catFields = /* @__PURE__ */ (() => ({
  name: printableText(maxTextLength),
  price: integer(0, maxPrice),
  breed: printableText(maxTextLength),
}))();

/** Body of `POST /cats`; unknown fields (id, createdAt...) are refused, not ignored. */
export const newCatSchema = /* @__PURE__ */ (() => body(catFields))();
export type NewCat = z.infer<typeof newCatSchema>;

/** Body of `PATCH /cats/{id}`: any non-empty subset of the fields. */
export const catPatchSchema = /* @__PURE__ */ (() => patchBody(catFields))();
export type CatPatch = z.infer<typeof catPatchSchema>;

export const catIdSchema = /* @__PURE__ */ (() => idParameters())();

export const defaultPageSize = 20;
export const maxPageSize = 100;
export const sortKeys = ['id', 'name', 'price', 'createdAt'] as const;
export type SortKey = (typeof sortKeys)[number];

/** `GET /cats`: sorts, filters and page sizes; every combination has an index (lib/db/migrations.ts). */
export const catListing = /* @__PURE__ */ ((): ListingSpec => ({
  table: 'cats',
  sorts: {
    id: { column: 'id', type: 'integer' },
    name: { column: 'name', type: 'text', maxLength: maxTextLength },
    price: { column: 'price', type: 'integer' },
    createdAt: { column: 'created_at', type: 'timestamptz' },
  } satisfies Record<SortKey, SortKeySpec>,
  filters: {
    breed: {
      column: 'breed',
      operator: 'equals',
      schema: text(maxTextLength),
      description: 'Only cats of this breed (exact match).',
    },
    minPrice: {
      column: 'price',
      operator: 'atLeast',
      schema: integerParameter(0, maxPrice),
      description: 'Only cats at this price or more; not above maxPrice (a 400 naming maxPrice).',
    },
    maxPrice: {
      column: 'price',
      operator: 'atMost',
      schema: integerParameter(0, maxPrice),
      description: 'Only cats at this price or less; not below minPrice (a 400 naming maxPrice).',
    },
    name: {
      column: 'name',
      operator: 'startsWith',
      schema: text(maxTextLength),
      description: 'Only cats whose name starts with this, ignoring case.',
    },
  },
  defaultPageSize,
  maxPageSize,
  checks: [
    z.refine(
      (q: { minPrice?: number; maxPrice?: number }) =>
        q.minPrice === undefined || q.maxPrice === undefined || q.minPrice <= q.maxPrice,
      { message: 'must not be less than minPrice', path: ['maxPrice'] },
    ),
  ],
}))();

/** The query of `GET /cats` (and `GET /`). */
export const listQuerySchema = /* @__PURE__ */ (() =>
  listQuerySchemaOf(catListing) as unknown as z.ZodMiniType<ListQuery, Record<string, string | undefined>>)();
export type ListQuery = {
  limit: number;
  cursor?: string | undefined;
  sort: SortKey;
  order: 'asc' | 'desc';
  breed?: string | undefined;
  minPrice?: number | undefined;
  maxPrice?: number | undefined;
  /** Case-insensitive prefix of the name. */
  name?: string | undefined;
};

/** The cat as clients see it: camelCase, ISO 8601 times. */
export interface Cat {
  id: number;
  name: string;
  price: number;
  breed: string;
  /** Starts at 1 and grows with every change; the ETag is this number, quoted. */
  version: number;
  createdAt: string;
  updatedAt: string;
}

export function toCat(row: CatRow): Cat {
  return {
    id: row.id,
    name: row.name,
    price: row.price,
    breed: row.breed,
    version: row.version,
    createdAt: isoTime(row.created_at),
    updatedAt: isoTime(row.updated_at),
  };
}

export { isoTime };

/** The cats in the OpenAPI document (lib/openapi/document.ts). */
const cats: ResourceDoc = {
  noun: 'cat',
  plural: 'cats',
  name: 'Cat',
  listing: catListing,
  listQuery: listQuerySchema,
  create: newCatSchema,
  patch: catPatchSchema,
  // Names and prices repeat (every third, every fourth): sorts meet ties.
  sample: (n) => ({ name: `Tom ${n % 3}`, price: (n % 4) * 100, breed: n % 2 ? 'tabby' : 'bengal' }),
  // Distinct names, 100,000 prices, 50 breeds, one creation time per second back from now.
  bulkRow: {
    name: `'cat ' || md5(i::text)`,
    price: '(i * 7919) % 100000',
    breed: `'breed ' || (i % 50)`,
    created_at: `now() - i * interval '1 second'`,
  },
};

/** The standard routes at /cats and /cats/{id}, and the tutorial's aliases of them. */
export const catsApi = /* @__PURE__ */ resourceApi(cats, (operations) => {
  const tags = ['tutorial'];
  return {
    '/': {
      get: operations.list(
        {
          operationId: 'listCatsTutorial',
          summary: 'The first page of cats as a bare array (the tutorial route)',
          description: 'As GET /cats, but the page is a bare array and the next page is in a Link header.',
          tags,
        },
        {
          description: 'Cats; a Link header points to the next page when there is one.',
          schema: { type: 'array', items: ref('Cat') },
          headers: { link: header('RFC 8288 link to the next page: <...>; rel="next"', false) },
        },
      ),
    },
    '/add': {
      post: operations.create({ operationId: 'addCat', description: 'The tutorial route for POST /cats.', tags }),
    },
    '/edit/{id}': {
      patch: operations.update({
        operationId: 'editCat',
        description: 'The tutorial route for PATCH /cats/{id}.',
        tags,
      }),
    },
    '/remove/{id}': {
      delete: operations.delete({
        operationId: 'removeCat',
        description: 'The tutorial route for DELETE /cats/{id}.',
        tags,
      }),
    },
  };
});
