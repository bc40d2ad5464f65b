/**
 * Building blocks of the OpenAPI 3.1 document, for any resource: request
 * schemas derived from the zod schemas that validate requests (with the
 * field documentation lib/fields.ts registers), the problems an operation can
 * answer, and the standard operations of a resource (list, get, create,
 * update, delete) made from a small description of it. Only the `openapi`
 * function bundles this module.
 */
import { fieldDocs } from '../fields.js';
import { maxBodyBytes } from '../http/request.js';
import type { ListingSpec } from '../listing.js';
import * as z from '../validation.js';

export type JsonSchema = Record<string, unknown>;

/** The JSON Schema of a request schema, as a client sees it (the input side of each transform). */
export function jsonSchema(schema: z.core.$ZodType): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema: derived }) => {
      const doc = fieldDocs.get(zodSchema as unknown as z.ZodMiniType);
      if (doc?.replace) {
        for (const key of Object.keys(derived)) delete derived[key];
        Object.assign(derived, doc.replace);
      }
      if (doc?.add) Object.assign(derived, doc.add);
    },
  });
  return rest;
}

/* @__NO_SIDE_EFFECTS__ */
export function ref(name: string) {
  return { $ref: `#/components/schemas/${name}` };
}

export interface HeaderDoc {
  description: string;
  required: boolean;
  schema: JsonSchema;
}

/* @__NO_SIDE_EFFECTS__ */
export function header(description: string, required = true, schema: JsonSchema = { type: 'string' }): HeaderDoc {
  return { description, required, schema };
}

export const requestIdHeader = header('The request id, also in problem bodies and the server log.');
/* @__NO_SIDE_EFFECTS__ */
export function etagHeader(noun: string) {
  return header(`The ${noun}'s version, quoted (e.g. "3").`, true, { type: 'string', pattern: '^"[0-9]+"$' });
}
const retryAfter = header('Seconds to wait before retrying.', true, { type: 'string', pattern: '^[0-9]+$' });

/** One kind of problem an operation may answer (lib/http/problem.ts has the types). */
export interface ProblemDoc {
  status: number;
  /** When it happens, one sentence. */
  description: string;
  headers?: Record<string, HeaderDoc>;
}

/** The problems every resource shares; an operation lists the ones it can answer. */
export const problems = /* @__PURE__ */ (() =>
  ({
    validation: { status: 400, description: 'A field, parameter or header is invalid; `errors` names each one.' },
    notFound: (noun: string): ProblemDoc => ({ status: 404, description: `No ${noun} with that id.` }),
    idempotencyKeyInUse: {
      status: 409,
      description: 'A request with the same Idempotency-Key is still in progress.',
      headers: { 'retry-after': retryAfter },
    },
    /** A unique value taken by another row (lib/http/errors.ts, from the constraint's name). */
    conflict: (description: string): ProblemDoc => ({ status: 409, description }),
    preconditionFailed: (noun: string): ProblemDoc => ({
      status: 412,
      description: 'If-Match does not match the current version.',
      headers: { etag: etagHeader(noun) },
    }),
    payloadTooLarge: { status: 413, description: `The body is larger than ${maxBodyBytes} bytes.` },
    unsupportedMediaType: { status: 415, description: 'The body is not sent as application/json.' },
    idempotencyKeyReused: {
      status: 422,
      description: 'The Idempotency-Key was used before for a different request.',
    },
    /** A reference to a row that does not exist (lib/http/errors.ts, from the foreign key's name). */
    unknownReference: (description: string): ProblemDoc => ({ status: 422, description }),
    internal: { status: 500, description: 'An unexpected error; nothing internal is disclosed.' },
    unavailable: {
      status: 503,
      description: 'The database is unreachable, overloaded or timed out.',
      headers: { 'retry-after': retryAfter },
    },
  }) satisfies Record<string, ProblemDoc | ((what: string) => ProblemDoc)>)();

/**
 * The responses for these problems. Problems that share a status (two
 * meanings of 409) become one response that describes both, and a header is
 * required only if every one of them sends it.
 */
export function problemResponses(list: ProblemDoc[]): Record<string, unknown> {
  const byStatus = new Map<number, ProblemDoc[]>();
  for (const problem of list) byStatus.set(problem.status, [...(byStatus.get(problem.status) ?? []), problem]);
  const responses: Record<string, unknown> = {};
  for (const [status, kinds] of [...byStatus].sort(([a], [b]) => a - b)) {
    const headers: Record<string, HeaderDoc> = { 'x-request-id': requestIdHeader };
    for (const kind of kinds) {
      for (const [name, doc] of Object.entries(kind.headers ?? {})) {
        headers[name] = { ...doc, required: kinds.every((k) => k.headers?.[name]?.required === true) };
      }
    }
    responses[status] = {
      description: kinds.length === 1 ? kinds[0]?.description : kinds.map((k) => `Either: ${k.description}`).join(' '),
      headers,
      content: { 'application/problem+json': { schema: ref('Problem') } },
    };
  }
  return responses;
}

export const problemSchemas: Record<string, JsonSchema> = {
  FieldError: {
    type: 'object',
    description: 'One field, parameter or header at fault.',
    properties: {
      field: { type: 'string', description: 'A body member (dotted path), query or path parameter, or header name.' },
      in: { type: 'string', enum: ['body', 'query', 'path', 'header'] },
      detail: { type: 'string', description: 'What is wrong with it, following the field name.' },
      pointer: { type: 'string', description: 'RFC 6901 JSON Pointer into the body.' },
    },
    required: ['field', 'in', 'detail'],
    additionalProperties: false,
  },
  Problem: {
    type: 'object',
    description: 'An RFC 9457 problem document.',
    properties: {
      type: { type: 'string', description: 'Identifies the kind of problem, e.g. /problems/validation-error.' },
      title: { type: 'string' },
      status: { type: 'integer', minimum: 400, maximum: 599 },
      detail: { type: 'string' },
      instance: { type: 'string' },
      requestId: { type: 'string', description: 'Quote it when reporting a problem: the server log has the details.' },
      errors: { type: 'array', items: ref('FieldError') },
    },
    required: ['type', 'title', 'status', 'detail', 'requestId'],
    additionalProperties: false,
  },
};

/* @__NO_SIDE_EFFECTS__ */
export function headerParameter(name: string, description: string, schema: JsonSchema = { type: 'string' }) {
  return { name, in: 'header', required: false, schema, description };
}

export const idempotencyKeyParameter = headerParameter(
  'Idempotency-Key',
  'Any unique string (a UUID): a retry with the same key gets the original response instead of creating a second one.',
  { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
);

const jsonBody = (schemaName: string) => ({
  required: true,
  content: { 'application/json': { schema: ref(schemaName) } },
});

/** The query parameters of a listing, from the schema that validates them. */
export function listParameters(spec: ListingSpec, querySchema: z.core.$ZodType, plural: string) {
  const [defaultSort] = Object.keys(spec.sorts);
  const descriptions: Record<string, string> = {
    limit: `${plural[0]?.toUpperCase()}${plural.slice(1)} per page, 1 to ${spec.maxPageSize} (default ${spec.defaultPageSize}).`,
    cursor: 'The nextCursor of the previous page, with the same sort, order and filters.',
    sort: `Sort key (default ${defaultSort}); ties are broken by id.`,
    order: 'asc (default) or desc.',
  };
  const properties = jsonSchema(querySchema).properties as Record<string, JsonSchema>;
  return Object.entries(properties).map(([name, schema]) => ({
    name,
    in: 'query',
    required: false,
    schema,
    description: spec.filters[name]?.description ?? descriptions[name],
  }));
}

/**
 * What the standard operations need to know about a resource: its names, the
 * schemas of what clients send and get, and any problem particular to it.
 */
export interface ResourceDoc {
  /** Singular, lower case: "cat". */
  noun: string;
  /** The response schema's name in components ("Cat"); `<Name>List`, `New<Name>` and `<Name>Patch` go beside it. */
  name: string;
  /** Tag of its operations. */
  tag: string;
  listing: ListingSpec;
  listQuery: z.core.$ZodType;
  create: z.core.$ZodType;
  patch: z.core.$ZodType;
  /** Path parameter of the item routes. */
  idParameter?: string;
  /** Problems particular to the resource, by operation (a unique email's 409, an unknown reference's 422). */
  problems?: Partial<Record<'list' | 'get' | 'create' | 'update' | 'delete', ProblemDoc[]>>;
}

/** A resource in the document: its description, its routes and its schemas (lib/openapi/document.ts lists them). */
export interface ResourceApi {
  resource: ResourceDoc;
  paths(): Record<string, Record<string, unknown>>;
  schemas(): Record<string, JsonSchema>;
}

/** Names and words of one operation, so aliases of a route (the tutorial's) can differ from it. */
export interface OperationNames {
  operationId: string;
  summary: string;
  description: string;
  tags?: string[];
}

/** The standard operations of a resource, each taking its operation id, summary and description. */
export function resourceOperations(resource: ResourceDoc) {
  const { noun, name } = resource;
  const idName = resource.idParameter ?? 'id';
  const idParameter = {
    name: idName,
    in: 'path',
    required: true,
    schema: { type: 'integer', minimum: 1, maximum: 2147483647 },
    description: `The ${noun}'s id.`,
  };
  const etag = etagHeader(noun);
  const extra = (operation: keyof NonNullable<ResourceDoc['problems']>) => resource.problems?.[operation] ?? [];
  const named = (names: OperationNames) => ({ tags: [resource.tag], ...names });
  const jsonResponse = (description: string, schema: unknown, headers: Record<string, HeaderDoc> = {}) => ({
    description,
    headers: { 'x-request-id': requestIdHeader, ...headers },
    content: { 'application/json': { schema } },
  });

  return {
    list: (
      names: OperationNames,
      success?: { description: string; schema: unknown; headers?: Record<string, HeaderDoc> },
    ) => ({
      ...named(names),
      parameters: listParameters(resource.listing, resource.listQuery, resource.tag),
      responses: {
        200: jsonResponse(
          success?.description ?? `A page of ${resource.tag}.`,
          success?.schema ?? ref(`${name}List`),
          success?.headers,
        ),
        ...problemResponses([problems.validation, ...extra('list'), problems.internal, problems.unavailable]),
      },
    }),
    get: (names: OperationNames) => ({
      ...named(names),
      parameters: [idParameter, headerParameter('If-None-Match', `Answer 304 if the ${noun} still has this ETag.`)],
      responses: {
        200: jsonResponse(`The ${noun}.`, ref(name), { etag }),
        304: { description: 'Not modified since the ETag in If-None-Match.', headers: { etag } },
        ...problemResponses([
          problems.validation,
          problems.notFound(noun),
          ...extra('get'),
          problems.internal,
          problems.unavailable,
        ]),
      },
    }),
    create: (names: OperationNames) => ({
      ...named(names),
      parameters: [idempotencyKeyParameter],
      requestBody: jsonBody(`New${name}`),
      responses: {
        201: jsonResponse(`The ${noun} was created (or, with a replayed Idempotency-Key, had been).`, ref(name), {
          location: header(`The new ${noun}'s URL.`),
          etag,
          'idempotent-replayed': header('"true" when this is the stored response to an earlier request.', false),
        }),
        ...problemResponses([
          problems.validation,
          problems.idempotencyKeyInUse,
          problems.payloadTooLarge,
          problems.unsupportedMediaType,
          problems.idempotencyKeyReused,
          ...extra('create'),
          problems.internal,
          problems.unavailable,
        ]),
      },
    }),
    update: (names: OperationNames) => ({
      ...named(names),
      parameters: [
        idParameter,
        headerParameter('If-Match', `Apply only if the ${noun} still has this ETag (else 412).`),
      ],
      requestBody: jsonBody(`${name}Patch`),
      responses: {
        200: jsonResponse(`The updated ${noun}.`, ref(name), { etag }),
        ...problemResponses([
          problems.validation,
          problems.notFound(noun),
          problems.preconditionFailed(noun),
          problems.payloadTooLarge,
          problems.unsupportedMediaType,
          ...extra('update'),
          problems.internal,
          problems.unavailable,
        ]),
      },
    }),
    delete: (names: OperationNames) => ({
      ...named(names),
      parameters: [
        idParameter,
        headerParameter('If-Match', `Delete only if the ${noun} still has this ETag (else 412).`),
      ],
      responses: {
        204: { description: `The ${noun} was removed.`, headers: { 'x-request-id': requestIdHeader } },
        ...problemResponses([
          problems.validation,
          problems.notFound(noun),
          problems.preconditionFailed(noun),
          ...extra('delete'),
          problems.internal,
          problems.unavailable,
        ]),
      },
    }),
  };
}

/** The request and list schemas of a resource, for components.schemas; `response` is its JSON Schema. */
export function resourceSchemas(resource: ResourceDoc, response: JsonSchema): Record<string, JsonSchema> {
  return {
    [resource.name]: response,
    [`${resource.name}List`]: {
      type: 'object',
      properties: {
        items: { type: 'array', items: ref(resource.name) },
        nextCursor: { type: ['string', 'null'], description: 'Pass as cursor for the next page; null on the last.' },
      },
      required: ['items', 'nextCursor'],
      additionalProperties: false,
    },
    [`New${resource.name}`]: jsonSchema(resource.create),
    [`${resource.name}Patch`]: jsonSchema(resource.patch),
  };
}
