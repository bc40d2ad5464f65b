/**
 * The cat resource as the API speaks it: what a client may send, what it gets
 * back, and the query and path parameters of the routes.
 */
import { z } from 'zod';
import type { CatRow } from '../db/schema.js';

export const maxTextLength = 100;
export const maxPrice = 2147483647; // Postgres integer
export const maxId = 2147483647;

/**
 * Stored as sent, so what a client writes is what it reads back; checked the
 * way Postgres will see it: length in code points (varchar counts characters,
 * JavaScript counts UTF-16 units), and no NUL or lone surrogate, which a UTF-8
 * database cannot store and would reject with an error.
 */
const text = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
  .refine((s) => s.trim().length > 0, 'must not be empty or only white space')
  .refine((s) => [...s].length <= maxTextLength, `must be at most ${maxTextLength} characters`)
  .refine((s) => s.isWellFormed() && !s.includes('\u0000'), 'must be valid Unicode text without NUL characters');

const price = z
  .number({
    error: (issue) =>
      issue.input === undefined ? 'is required' : `must be an integer from 0 to ${maxPrice}, sent as a JSON number`,
  })
  .int(`must be an integer from 0 to ${maxPrice}`)
  .min(0, `must be an integer from 0 to ${maxPrice}`)
  .max(maxPrice, `must be an integer from 0 to ${maxPrice}`);

const catFields = { name: text, price, breed: text };

const objectError = { error: 'must be a JSON object' };

/** Body of `POST /cats`; unknown fields (id, createdAt...) are refused, not ignored. */
export const newCatSchema = z.strictObject(catFields, objectError);
export type NewCat = z.infer<typeof newCatSchema>;

/** Body of `PATCH /cats/{id}`: any non-empty subset of the fields. */
export const catPatchSchema = z
  .strictObject(
    {
      name: catFields.name.optional(),
      price: catFields.price.optional(),
      breed: catFields.breed.optional(),
    },
    objectError,
  )
  .refine((patch) => Object.keys(patch).length > 0, 'must set at least one of name, price, breed');
export type CatPatch = z.infer<typeof catPatchSchema>;

export const catIdSchema = z.object({
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,9}$/, `must be a positive integer up to ${maxId}`)
    .transform(Number)
    .refine((id) => id <= maxId, `must be a positive integer up to ${maxId}`),
});

export const defaultPageSize = 20;
export const maxPageSize = 100;

const priceParameter = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,9})$/, `must be an integer from 0 to ${maxPrice}`)
  .transform(Number)
  .refine((n) => n <= maxPrice, `must be an integer from 0 to ${maxPrice}`);

export const sortKeys = ['id', 'name', 'price', 'createdAt'] as const;
export type SortKey = (typeof sortKeys)[number];

export const listQuerySchema = z
  .strictObject({
    limit: z
      .string()
      .regex(/^[0-9]{1,3}$/, `must be an integer from 1 to ${maxPageSize}`)
      .transform(Number)
      .refine((n) => n >= 1 && n <= maxPageSize, `must be an integer from 1 to ${maxPageSize}`)
      .default(defaultPageSize),
    cursor: z.string().max(1000, 'is not a cursor this API issued').optional(),
    sort: z.enum(sortKeys, { error: `must be one of ${sortKeys.join(', ')}` }).default('id'),
    order: z.enum(['asc', 'desc'], { error: 'must be asc or desc' }).default('asc'),
    breed: text.optional(),
    minPrice: priceParameter.optional(),
    maxPrice: priceParameter.optional(),
    /** Case-insensitive prefix of the name. */
    name: text.optional(),
  })
  .refine((q) => q.minPrice === undefined || q.maxPrice === undefined || q.minPrice <= q.maxPrice, {
    message: 'must not be less than minPrice',
    path: ['maxPrice'],
  });
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
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
