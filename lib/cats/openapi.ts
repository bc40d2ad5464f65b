/**
 * The cats in the OpenAPI document: the shape of a cat as the handlers send
 * it, and the routes (the /cats API and the tutorial's aliases), built by
 * lib/openapi/operations.ts from the schemas that validate requests.
 */
import {
  header,
  type JsonSchema,
  type ResourceApi,
  type ResourceDoc,
  ref,
  resourceOperations,
  resourceSchemas,
} from '../openapi/operations.js';
import { catListing, catPatchSchema, listQuerySchema, maxId, maxPrice, maxTextLength, newCatSchema } from './schema.js';

// Response shapes are plain JSON Schema: the handlers build them from typed
// rows, and the contract checks in the test suite hold them to this.
const catSchema: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer', minimum: 1, maximum: maxId },
    name: { type: 'string', maxLength: maxTextLength },
    price: { type: 'integer', minimum: 0, maximum: maxPrice },
    breed: { type: 'string', maxLength: maxTextLength },
    version: { type: 'integer', minimum: 1, description: 'Grows with every change; the ETag is this number, quoted.' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'name', 'price', 'breed', 'version', 'createdAt', 'updatedAt'],
  additionalProperties: false,
};

const cats: ResourceDoc = {
  noun: 'cat',
  name: 'Cat',
  tag: 'cats',
  listing: catListing,
  listQuery: listQuerySchema,
  create: newCatSchema,
  patch: catPatchSchema,
};

function catPaths() {
  const operations = resourceOperations(cats);
  const tutorial = { tags: ['tutorial'] };
  return {
    '/cats': {
      get: operations.list({
        operationId: 'listCats',
        summary: 'A page of cats',
        description:
          'Cats in the requested order, filtered, one page at a time. Pass the nextCursor of a page as cursor, with the same sort, order and filters, to get the next one.',
      }),
      post: operations.create({
        operationId: 'createCat',
        summary: 'Add a cat',
        description: 'Creates a cat. With an Idempotency-Key, a retry gets the first response instead of a second cat.',
      }),
    },
    '/cats/{id}': {
      get: operations.get({
        operationId: 'getCat',
        summary: 'One cat',
        description: 'The cat with its ETag; with If-None-Match, 304 while it is unchanged.',
      }),
      patch: operations.update({
        operationId: 'updateCat',
        summary: 'Change some fields of a cat',
        description: 'Sets the fields sent, leaving the others; with If-Match, only if nobody changed the cat since.',
      }),
      delete: operations.delete({
        operationId: 'deleteCat',
        summary: 'Remove a cat',
        description: 'Deletes the cat; with If-Match, only if nobody changed it since.',
      }),
    },
    '/': {
      get: operations.list(
        {
          operationId: 'listCatsTutorial',
          summary: 'The first page of cats as a bare array (the tutorial route)',
          description: 'As GET /cats, but the page is a bare array and the next page is in a Link header.',
          ...tutorial,
        },
        {
          description: 'Cats; a Link header points to the next page when there is one.',
          schema: { type: 'array', items: ref('Cat') },
          headers: { link: header('RFC 8288 link to the next page: <...>; rel="next"', false) },
        },
      ),
    },
    '/add': {
      post: operations.create({
        operationId: 'addCat',
        summary: 'Add a cat',
        description: 'The tutorial route for POST /cats.',
        ...tutorial,
      }),
    },
    '/edit/{id}': {
      patch: operations.update({
        operationId: 'editCat',
        summary: 'Change some fields of a cat',
        description: 'The tutorial route for PATCH /cats/{id}.',
        ...tutorial,
      }),
    },
    '/remove/{id}': {
      delete: operations.delete({
        operationId: 'removeCat',
        summary: 'Remove a cat',
        description: 'The tutorial route for DELETE /cats/{id}.',
        ...tutorial,
      }),
    },
  };
}

export const catsApi: ResourceApi = {
  resource: cats,
  paths: catPaths,
  schemas: () => resourceSchemas(cats, catSchema),
};
