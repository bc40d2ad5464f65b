/**
 * The cat resource as the API speaks it: what a client may send, what it gets
 * back, and the query and path parameters of the routes.
 */

import type { CatRow } from '../db/schema.js';
import * as z from '../validation.js';

// Every schema below is built in a /* @__PURE__ */ arrow: zod marks its own
// constructors free of side effects, but not `.check()`, so without it esbuild
// would keep (and every function would build at import) all the schemas of
// the API; with it, a function's bundle has only the ones it uses.

export const maxTextLength = 100;
export const maxPrice = 2147483647; // Postgres integer
export const maxId = 2147483647;

/**
 * Stored as sent, so what a client writes is what it reads back; checked the
 * way Postgres will see it: length in code points (varchar counts characters,
 * JavaScript counts UTF-16 units), and no NUL or lone surrogate, which a UTF-8
 * database cannot store and would reject with an error.
 */
const text = /* @__PURE__ */ (() =>
  z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') }).check(
    z.refine((s) => s.trim().length > 0, 'must not be empty or only white space'),
    z.refine((s) => [...s].length <= maxTextLength, `must be at most ${maxTextLength} characters`),
    z.refine((s) => s.isWellFormed() && !s.includes('\u0000'), 'must be valid Unicode text without NUL characters'),
  ))();

const priceRange = `must be an integer from 0 to ${maxPrice}`;
const price = /* @__PURE__ */ (() =>
  z
    .number({
      error: (issue) => (issue.input === undefined ? 'is required' : `${priceRange}, sent as a JSON number`),
    })
    .check(z.int(priceRange), z.gte(0, priceRange), z.lte(maxPrice, priceRange)))();

const catFields = { name: text, price, breed: text };

const objectError = { error: 'must be a JSON object' };

/** Body of `POST /cats`; unknown fields (id, createdAt...) are refused, not ignored. */
export const newCatSchema = /* @__PURE__ */ (() => z.strictObject(catFields, objectError))();
export type NewCat = z.infer<typeof newCatSchema>;

/** Body of `PATCH /cats/{id}`: any non-empty subset of the fields. */
export const catPatchSchema = /* @__PURE__ */ (() =>
  z
    .strictObject(
      {
        name: z.optional(catFields.name),
        price: z.optional(catFields.price),
        breed: z.optional(catFields.breed),
      },
      objectError,
    )
    .check(z.refine((patch) => Object.keys(patch).length > 0, 'must set at least one of name, price, breed')))();
export type CatPatch = z.infer<typeof catPatchSchema>;

const idRange = `must be a positive integer up to ${maxId}`;
export const catIdSchema = /* @__PURE__ */ (() =>
  z.object({
    id: z
      .pipe(z.string().check(z.regex(/^[1-9][0-9]{0,9}$/, idRange)), z.transform(Number))
      .check(z.refine((id) => id <= maxId, idRange)),
  }))();

export const defaultPageSize = 20;
export const maxPageSize = 100;

const limitRange = `must be an integer from 1 to ${maxPageSize}`;
const priceParameterRange = `must be an integer from 0 to ${maxPrice}`;
const priceParameter = /* @__PURE__ */ (() =>
  z
    .pipe(z.string().check(z.regex(/^(0|[1-9][0-9]{0,9})$/, priceParameterRange)), z.transform(Number))
    .check(z.refine((n) => n <= maxPrice, priceParameterRange)))();

export const sortKeys = ['id', 'name', 'price', 'createdAt'] as const;
export type SortKey = (typeof sortKeys)[number];

export const listQuerySchema = /* @__PURE__ */ (() =>
  z
    .strictObject({
      limit: z._default(
        z
          .pipe(z.string().check(z.regex(/^[0-9]{1,3}$/, limitRange)), z.transform(Number))
          .check(z.refine((n) => n >= 1 && n <= maxPageSize, limitRange)),
        defaultPageSize,
      ),
      cursor: z.optional(z.string().check(z.maxLength(1000, 'is not a cursor this API issued'))),
      sort: z._default(z.enum(sortKeys, { error: `must be one of ${sortKeys.join(', ')}` }), 'id'),
      order: z._default(z.enum(['asc', 'desc'], { error: 'must be asc or desc' }), 'asc'),
      breed: z.optional(text),
      minPrice: z.optional(priceParameter),
      maxPrice: z.optional(priceParameter),
      /** Case-insensitive prefix of the name. */
      name: z.optional(text),
    })
    .check(
      z.refine((q) => q.minPrice === undefined || q.maxPrice === undefined || q.minPrice <= q.maxPrice, {
        message: 'must not be less than minPrice',
        path: ['maxPrice'],
      }),
    ))();
export type ListQuery = z.infer<typeof listQuerySchema>;

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

const tens = (n: number) => 48 + (((n / 10) | 0) % 10);
const ones = (n: number) => 48 + (n % 10);

/**
 * `date.toISOString()`, for four-digit years (others, and invalid dates, are
 * left to it): V8's own takes ~0.5 µs, and a page of 20 cats formats 40.
 * One `fromCharCode` makes the string flat, where concatenating its pieces
 * would make a rope that JSON.stringify then has to flatten.
 */
export function isoTime(date: Date): string {
  const year = date.getUTCFullYear();
  if (!(year >= 1000 && year <= 9999)) return date.toISOString();
  const month = date.getUTCMonth() + 1;
  const day = date.getUTCDate();
  const hours = date.getUTCHours();
  const minutes = date.getUTCMinutes();
  const seconds = date.getUTCSeconds();
  const millis = date.getUTCMilliseconds();
  return String.fromCharCode(
    tens(year / 100),
    ones((year / 100) | 0),
    tens(year),
    ones(year),
    0x2d, // -
    tens(month),
    ones(month),
    0x2d,
    tens(day),
    ones(day),
    0x54, // T
    tens(hours),
    ones(hours),
    0x3a, // :
    tens(minutes),
    ones(minutes),
    0x3a,
    tens(seconds),
    ones(seconds),
    0x2e, // .
    tens(millis / 10),
    tens(millis),
    ones(millis),
    0x5a, // Z
  );
}
