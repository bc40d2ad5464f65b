/**
 * The OpenAPI 3.1 document, generated from the same zod schemas that validate
 * requests, so the docs cannot describe input the API would refuse. Response
 * schemas are written here; the test suite checks every response it sees
 * against this document (test/support/contract.ts), so they cannot drift
 * either. Only the `openapi` function imports this module.
 */

import { catPatchSchema, listQuerySchema, maxId, maxPrice, newCatSchema } from './cats/schema.js';
import { maxBodyBytes } from './http/request.js';
import * as z from './validation.js';

type JsonSchema = Record<string, unknown>;

// What zod's refinements check cannot be derived from them; stated here for
// the document (JSON Schema also counts string length in code points).
const text: JsonSchema = { type: 'string', minLength: 1, maxLength: 100, pattern: '\\S' };
const catFieldSchemas: Record<string, JsonSchema> = { name: text, breed: text };
const parameterDescriptions: Record<string, string> = {
  limit: 'Cats per page, 1 to 100 (default 20).',
  cursor: 'The nextCursor of the previous page, with the same sort, order and filters.',
  sort: 'Sort key (default id); ties are broken by id.',
  order: 'asc (default) or desc.',
  breed: 'Only cats of this breed (exact match).',
  minPrice: 'Only cats at this price or more.',
  maxPrice: 'Only cats at this price or less.',
  name: 'Only cats whose name starts with this, ignoring case.',
};
const parameterSchemas: Record<string, JsonSchema> = { breed: text, name: text };

function jsonSchema(schema: z.core.$ZodType, overrides: Record<string, JsonSchema> = {}): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  const properties = rest.properties as Record<string, JsonSchema> | undefined;
  for (const [name, override] of Object.entries(overrides)) {
    if (properties?.[name]) properties[name] = { ...properties[name], ...override };
  }
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

// Response shapes are plain JSON Schema: the handlers build them from typed
// rows, and the contract checks in the test suite hold them to this.
const catSchema: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer', minimum: 1, maximum: maxId },
    name: { type: 'string', maxLength: 100 },
    price: { type: 'integer', minimum: 0, maximum: maxPrice },
    breed: { type: 'string', maxLength: 100 },
    version: { type: 'integer', minimum: 1, description: 'Grows with every change; the ETag is this number, quoted.' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'name', 'price', 'breed', 'version', 'createdAt', 'updatedAt'],
  additionalProperties: false,
};

const problemSchema: JsonSchema = {
  type: 'object',
  properties: {
    type: { type: 'string', description: 'Identifies the kind of problem, e.g. /problems/validation-error.' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string' },
    instance: { type: 'string' },
    requestId: { type: 'string', description: 'Quote it when reporting a problem: the server log has the details.' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          field: { type: 'string' },
          in: { enum: ['body', 'query', 'path', 'header'] },
          detail: { type: 'string' },
          pointer: { type: 'string', description: 'RFC 6901 JSON Pointer into the body.' },
        },
        required: ['field', 'in', 'detail'],
        additionalProperties: false,
      },
    },
  },
  required: ['type', 'title', 'status', 'detail', 'requestId'],
  additionalProperties: false,
};

const header = (description: string, required = true, schema: JsonSchema = { type: 'string' }) => ({
  description,
  required,
  schema,
});
const requestIdHeader = header('The request id, also in problem bodies and the server log.');
const etagHeader = header('The cat\'s version, quoted (e.g. "3").', true, { type: 'string', pattern: '^"[0-9]+"$' });

const problemResponse = (description: string, extraHeaders: Record<string, unknown> = {}) => ({
  description,
  headers: { 'x-request-id': requestIdHeader, ...extraHeaders },
  content: { 'application/problem+json': { schema: ref('Problem') } },
});
const retryAfter = {
  'retry-after': header('Seconds to wait before retrying.', true, { type: 'string', pattern: '^[0-9]+$' }),
};

const problems = {
  400: problemResponse('A field, parameter or header is invalid; `errors` names each one.'),
  404: problemResponse('No cat with that id.'),
  409: problemResponse('A request with the same Idempotency-Key is still in progress.', retryAfter),
  412: problemResponse('If-Match does not match the current version.', { etag: etagHeader }),
  413: problemResponse(`The body is larger than ${maxBodyBytes} bytes.`),
  415: problemResponse('The body is not sent as application/json.'),
  422: problemResponse('The Idempotency-Key was used before for a different request.'),
  500: problemResponse('An unexpected error; nothing internal is disclosed.'),
  503: problemResponse('The database is unreachable, overloaded or timed out.', retryAfter),
};
const pick = (...codes: Array<keyof typeof problems>) =>
  Object.fromEntries(codes.map((code) => [code, problems[code]]));

const idParameter = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: `^[1-9][0-9]{0,9}$` },
  description: `A positive integer up to ${maxId}.`,
};
const listParameters = Object.entries(
  jsonSchema(listQuerySchema, parameterSchemas).properties as Record<string, JsonSchema>,
).map(([name, schema]) => ({ name, in: 'query', required: false, schema, description: parameterDescriptions[name] }));
const headerParameter = (name: string, description: string) => ({
  name,
  in: 'header',
  required: false,
  schema: { type: 'string' },
  description,
});
const jsonBody = (schemaName: string) => ({
  required: true,
  content: { 'application/json': { schema: ref(schemaName) } },
});

const listOperation = (tutorial: boolean) => ({
  operationId: tutorial ? 'listCatsTutorial' : 'listCats',
  summary: tutorial ? 'The first page of cats as a bare array (the tutorial route)' : 'A page of cats',
  tags: [tutorial ? 'tutorial' : 'cats'],
  parameters: listParameters,
  responses: {
    200: {
      description: tutorial ? 'Cats; a Link header points to the next page when there is one.' : 'A page of cats.',
      headers: {
        'x-request-id': requestIdHeader,
        ...(tutorial ? { link: header('RFC 8288 link to the next page: <...>; rel="next"', false) } : {}),
      },
      content: {
        'application/json': { schema: tutorial ? { type: 'array', items: ref('Cat') } : ref('CatList') },
      },
    },
    ...pick(400, 500, 503),
  },
});

const createOperation = (tutorial: boolean) => ({
  operationId: tutorial ? 'addCat' : 'createCat',
  summary: 'Add a cat',
  tags: [tutorial ? 'tutorial' : 'cats'],
  parameters: [
    headerParameter(
      'Idempotency-Key',
      'Any unique string (a UUID): a retry with the same key gets the original response instead of creating a second cat.',
    ),
  ],
  requestBody: jsonBody('NewCat'),
  responses: {
    201: {
      description: 'The cat was created (or, with a replayed Idempotency-Key, had been).',
      headers: {
        'x-request-id': requestIdHeader,
        location: header("The new cat's URL: /cats/{id}."),
        etag: etagHeader,
        'idempotent-replayed': header('"true" when this is the stored response to an earlier request.', false),
      },
      content: { 'application/json': { schema: ref('Cat') } },
    },
    ...pick(400, 409, 413, 415, 422, 500, 503),
  },
});

const updateOperation = (tutorial: boolean) => ({
  operationId: tutorial ? 'editCat' : 'updateCat',
  summary: 'Change some fields of a cat',
  tags: [tutorial ? 'tutorial' : 'cats'],
  parameters: [idParameter, headerParameter('If-Match', 'Apply only if the cat still has this ETag (else 412).')],
  requestBody: jsonBody('CatPatch'),
  responses: {
    200: {
      description: 'The updated cat.',
      headers: { 'x-request-id': requestIdHeader, etag: etagHeader },
      content: { 'application/json': { schema: ref('Cat') } },
    },
    ...pick(400, 404, 412, 413, 415, 500, 503),
  },
});

const deleteOperation = (tutorial: boolean) => ({
  operationId: tutorial ? 'removeCat' : 'deleteCat',
  summary: 'Remove a cat',
  tags: [tutorial ? 'tutorial' : 'cats'],
  parameters: [idParameter, headerParameter('If-Match', 'Delete only if the cat still has this ETag (else 412).')],
  responses: {
    204: { description: 'The cat was removed.', headers: { 'x-request-id': requestIdHeader } },
    ...pick(400, 404, 412, 500, 503),
  },
});

export function openApiDocument() {
  return {
    openapi: '3.1.0',
    info: {
      title: 'The Cats API',
      version: '1.0.0',
      description:
        'A small inventory of cats. Errors are RFC 9457 problem documents (application/problem+json). ' +
        'Lists use keyset pagination: pass nextCursor back as cursor.',
    },
    tags: [
      { name: 'cats', description: 'The full API.' },
      { name: 'tutorial', description: 'The routes of the Flask tutorial this API rebuilds, kept as aliases.' },
      { name: 'docs', description: 'This reference.' },
    ],
    paths: {
      '/cats': { get: listOperation(false), post: createOperation(false) },
      '/cats/{id}': {
        get: {
          operationId: 'getCat',
          summary: 'One cat',
          tags: ['cats'],
          parameters: [idParameter, headerParameter('If-None-Match', 'Answer 304 if the cat still has this ETag.')],
          responses: {
            200: {
              description: 'The cat.',
              headers: { 'x-request-id': requestIdHeader, etag: etagHeader },
              content: { 'application/json': { schema: ref('Cat') } },
            },
            304: { description: 'Not modified since the ETag in If-None-Match.', headers: { etag: etagHeader } },
            ...pick(400, 404, 500, 503),
          },
        },
        patch: updateOperation(false),
        delete: deleteOperation(false),
      },
      '/': { get: listOperation(true) },
      '/add': { post: createOperation(true) },
      '/edit/{id}': { patch: updateOperation(true) },
      '/remove/{id}': { delete: deleteOperation(true) },
      '/docs': {
        get: {
          operationId: 'docs',
          summary: 'This reference, as an interactive page (Swagger UI)',
          tags: ['docs'],
          responses: {
            200: {
              description: 'The HTML page.',
              headers: { 'x-request-id': requestIdHeader },
              content: { 'text/html': { schema: { type: 'string' } } },
            },
            ...pick(500),
          },
        },
      },
      '/docs/{asset}': {
        get: {
          operationId: 'docsAsset',
          summary: "The page's scripts and styles, served by the API itself (no CDN)",
          tags: ['docs'],
          parameters: [{ name: 'asset', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            200: {
              description: 'A script or style sheet.',
              headers: { 'x-request-id': requestIdHeader },
              content: {
                'text/javascript': { schema: { type: 'string' } },
                'text/css': { schema: { type: 'string' } },
              },
            },
            ...pick(404, 500),
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openApi',
          summary: 'This document',
          tags: ['cats'],
          responses: {
            200: {
              description: 'The OpenAPI 3.1 document.',
              headers: { 'x-request-id': requestIdHeader },
              content: { 'application/json': { schema: { type: 'object' } } },
            },
            ...pick(500),
          },
        },
      },
    },
    components: {
      schemas: {
        Cat: catSchema,
        CatList: {
          type: 'object',
          properties: {
            items: { type: 'array', items: ref('Cat') },
            nextCursor: {
              type: ['string', 'null'],
              description: 'Pass as cursor for the next page; null on the last.',
            },
          },
          required: ['items', 'nextCursor'],
          additionalProperties: false,
        },
        NewCat: jsonSchema(newCatSchema, catFieldSchemas),
        CatPatch: { ...jsonSchema(catPatchSchema, catFieldSchemas), minProperties: 1 },
        Problem: problemSchema,
      },
    },
  };
}
