/**
 * Building blocks of the OpenAPI 3.1 document, for any resource: request
 * schemas derived from the zod schemas that validate requests (with the
 * field documentation lib/fields.ts registers), the problems an operation can
 * answer, and the standard operations of a resource (list, get, create,
 * update, delete) made from a small description of it. Only the `openapi`
 * function bundles this module.
 */
import type { DeleteRule } from '../db/migrations.js';
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
    unsupportedMediaType: {
      status: 415,
      description: 'The body is not sent as application/json or application/*+json.',
    },
    idempotencyKeyReused: {
      status: 422,
      description: 'The Idempotency-Key was used before for a different request.',
    },
    /** A reference to a row that does not exist (lib/http/errors.ts, from the foreign key's name). */
    unknownReference: (description: string): ProblemDoc => ({ status: 422, description }),
    /**
     * A value a CHECK constraint refused (lib/http/errors.ts, naming the field by the constraint's name): for
     * a resource whose table checks more than its fields' schemas do, listed in its `problems`.
     */
    constraintViolation: (description: string): ProblemDoc => ({ status: 422, description }),
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
      description: kinds.map((k) => k.description).join(' Or: '),
      headers,
      content: { 'application/problem+json': { schema: ref('Problem') } },
    };
  }
  return responses;
}

/**
 * API Gateway's own answers when its authorizer refuses a request: no
 * function runs, so they are not problem documents and cannot be changed.
 */
const authorizerErrorSchema = {
  type: 'object',
  description:
    'The body API Gateway sends when its JWT authorizer refuses a request ({"message":"Unauthorized"} or {"message":"Forbidden"}); ' +
    'an HTTP API cannot customise it. npm start (serverless-offline) adds statusCode and error.',
  properties: { message: { type: 'string' } },
  required: ['message'],
};

export const problemSchemas: Record<string, JsonSchema> = {
  AuthorizerError: authorizerErrorSchema,
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

/**
 * Which routes need a token, as the deployed stage (or `npm start`) enforces
 * them: API_AUTH, set on the functions by serverless-per-function.cjs from
 * the authReads and authOpen parameters.
 */
export type ApiAuth = 'writes' | 'reads-and-writes' | 'open';

export function apiAuthFrom(value: string | undefined): ApiAuth {
  // Unset (a handler called outside serverless): the default deploy's rules.
  if (value === undefined || value === '') return 'writes';
  if (value === 'writes' || value === 'reads-and-writes' || value === 'open') return value;
  throw new Error(`API_AUTH must be writes, reads-and-writes or open, got "${value}"`);
}

/** The scopes of the API's resource server (serverless.yml custom.auth, the Cognito resource server). */
export const scopes = { read: 'cats/read', write: 'cats/write' } as const;

export const securitySchemeName = 'oauth2';

/**
 * Where a stage's tokens come from (API_AUTH_SERVER, set on the openapi
 * function by serverless-per-function.cjs): the token endpoint of its
 * Cognito domain, or the discovery document of the external issuer it
 * trusts. Without it (npm start, `npm run openapi`), the local token
 * endpoint npm start serves, relative to the API's own URL.
 */
export type AuthServer = { tokenUrl: string } | { openIdConnectUrl: string };

export const localTokenPath = '/oauth2/token';

export function authServerFrom(value: string | undefined): AuthServer {
  if (value === undefined || value === '') return { tokenUrl: localTokenPath };
  if (value.endsWith('/.well-known/openid-configuration')) return { openIdConnectUrl: value };
  return { tokenUrl: value };
}

/* @__NO_SIDE_EFFECTS__ */
export function securitySchemesOf(server: AuthServer = { tokenUrl: localTokenPath }) {
  const description =
    `An OAuth 2.0 access token (a JWT) from the stage's issuer, checked by API Gateway (signature against the issuer's keys, ` +
    `issuer, audience or client_id, expiry, not-before) before any code runs. Writes need the scope ${scopes.write}; ` +
    `reads need ${scopes.read} only where the stage requires it.`;
  if ('openIdConnectUrl' in server) {
    return { [securitySchemeName]: { type: 'openIdConnect', openIdConnectUrl: server.openIdConnectUrl, description } };
  }
  return {
    [securitySchemeName]: {
      type: 'oauth2',
      description:
        `${description} Get one with the client credentials grant: POST the app client's id and secret to the token URL ` +
        '(`npm run -s token -- --stage <stage>` does it; npm start serves a local token endpoint for its local client).',
      flows: {
        clientCredentials: {
          tokenUrl: server.tokenUrl,
          scopes: {
            [scopes.read]: 'Read the cats (needed only where the stage closes reads).',
            [scopes.write]: 'Add, change and delete cats.',
          },
        },
      },
    },
  };
}

function authorizerResponse(description: string) {
  return { description, content: { 'application/json': { schema: ref('AuthorizerError') } } };
}

/** `security` and the 401/403 of an operation that reads or writes, under these rules. */
export function securityOf(kind: 'read' | 'write', auth: ApiAuth) {
  const needed = auth === 'open' || (kind === 'read' && auth === 'writes') ? undefined : scopes[kind];
  if (!needed) return { security: [] as Record<string, string[]>[], responses: {} };
  return {
    security: [{ [securitySchemeName]: [needed] }],
    responses: {
      401: {
        ...authorizerResponse(
          'No token, or one that is malformed, expired, not signed by the issuer, or for another issuer or audience (sent by API Gateway).',
        ),
        headers: {
          'www-authenticate': header(
            'Why the token was refused, e.g. Bearer error="invalid_token" (API Gateway only).',
            false,
          ),
        },
      },
      403: authorizerResponse(`The token lacks the scope ${needed} (sent by API Gateway).`),
    },
  };
}

/* @__NO_SIDE_EFFECTS__ */
export function headerParameter(name: string, description: string, schema: JsonSchema = { type: 'string' }) {
  return { name, in: 'header', required: false, schema, description };
}

/** `*` or a list of entity tags, as lib/http/conditional.ts reads If-Match and If-None-Match. */
const entityTags = {
  type: 'string',
  pattern: '^(\\*|(W/)?"[\\x21\\x23-\\x7e]*"( *, *(W/)?"[\\x21\\x23-\\x7e]*")*)$',
};

export const idempotencyKeyParameter = headerParameter(
  'Idempotency-Key',
  'Any unique string (a UUID): a retry with the same key gets the original response instead of creating a second one.',
  { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
);

// The API takes application/json and any application/<name>+json type
// (lib/http/request.ts), with parameters such as charset.
const jsonBody = (schemaName: string) => ({
  required: true,
  description: `JSON, sent as application/json or any application/*+json media type, at most ${maxBodyBytes} bytes.`,
  content: {
    'application/json': { schema: ref(schemaName) },
    'application/*+json': { schema: ref(schemaName) },
  },
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
 * schemas of what clients send, and what is particular to it.
 */
export interface ResourceDoc {
  /** Singular, lower case: "owner". */
  noun: string;
  /** Plural, lower case: "owners"; also its path (/owners) and its tag. */
  plural: string;
  /** Its schema's name in components ("Owner"); `<Name>List`, `New<Name>` and `<Name>Patch` go beside it. */
  name: string;
  /** The noun with its article, when "a"/"an" by the first letter is wrong: "a user". */
  article?: string;
  listing: ListingSpec;
  listQuery: z.core.$ZodType;
  create: z.core.$ZodType;
  patch: z.core.$ZodType;
  /**
   * Fields holding the id of another resource's row: that resource's plural
   * (its table) and what deleting the row does, as its migration made the
   * foreign key (lib/db/migrations.ts, addReference). A write naming a row
   * that does not exist is a 422; deleting a row still named is a 409 under
   * `restrict`, and a 204 under `set null` (the naming rows lose the
   * reference and get a new version) or `cascade` (they are deleted too).
   */
  references?: Record<string, Reference>;
  /**
   * The n-th (n = 1, 2, ...) of any number of valid create bodies, each
   * distinct from the others in every unique field; values may repeat in
   * sort keys. Reference fields are left out: a test that needs one sets it
   * to an id that exists. The document shows the first as the example, and
   * the shared tests make their items with it (test/support/conformance.ts).
   */
  sample: (n: number) => Record<string, unknown>;
  /**
   * Row i (1, 2, ...) of a bulk load: an SQL expression of `i` for each
   * column to fill (test/support/bulk-data.ts loads every resource with it,
   * reference columns with ids of rows loaded before).
   */
  bulkRow: Record<string, string>;
  /** Problems particular to the resource, by operation (a unique email's 409). */
  problems?: Partial<Record<'list' | 'get' | 'create' | 'update' | 'delete', ProblemDoc[]>>;
  /** The response's JSON Schema, when it is not the create body's fields plus id, version and times. */
  response?: JsonSchema;
}

export interface Reference {
  /** The referenced resource's plural, which is its table. */
  resource: string;
  onDelete: DeleteRule;
}

/** Names and words of one operation, so aliases of a route (the tutorial's) can differ from it. */
export interface OperationNames {
  operationId: string;
  summary: string;
  description: string;
  tags?: string[];
}

const capitalized = (word: string) => `${word[0]?.toUpperCase() ?? ''}${word.slice(1)}`;

/**
 * The standard operations of a resource, each taking its names (by default
 * made from the resource's: listOwners, "A page of owners"...).
 * `referencedBy`: the resources whose rows may name one of this one's.
 */
export function resourceOperations(resource: ResourceDoc, referencedBy: ResourceDoc[] = [], auth: ApiAuth = 'writes') {
  const { noun, name, plural } = resource;
  const read = securityOf('read', auth);
  const write = securityOf('write', auth);
  const a = resource.article ?? `${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`;
  const idParameter = {
    name: 'id',
    in: 'path',
    required: true,
    schema: { type: 'integer', minimum: 1, maximum: 2147483647 },
    description: `The ${noun}'s id.`,
  };
  const etag = etagHeader(noun);
  // In the words of the problems lib/http/errors.ts makes of PostgreSQL's errors (a table is its resource's plural).
  const references = Object.entries(resource.references ?? {}).map(([field, target]) =>
    problems.unknownReference(`${field} must be the id of an existing row of ${target.resource}.`),
  );
  // What deleting one of these does to the rows of other resources that name it.
  const rulesOver = referencedBy.flatMap((other) =>
    Object.entries(other.references ?? {})
      .filter(([, target]) => target.resource === plural)
      .map(([field, target]) => ({ other: other.plural, field, onDelete: target.onDelete })),
  );
  const stillReferenced = rulesOver
    .filter(({ onDelete }) => onDelete === 'restrict')
    .map(({ other }) => problems.conflict(`Rows of ${other} still refer to it: change or remove them first.`));
  const deleteEffects = rulesOver
    .filter(({ onDelete }) => onDelete !== 'restrict')
    .map(({ other, field, onDelete }) =>
      onDelete === 'cascade'
        ? ` The ${other} whose ${field} is this ${noun} are deleted with it.`
        : ` The ${other} whose ${field} is this ${noun} get ${field} null and a new version (ETag).`,
    )
    .join('');
  const extra = (operation: keyof NonNullable<ResourceDoc['problems']>) => resource.problems?.[operation] ?? [];
  const named = (names: Partial<OperationNames>, defaults: OperationNames) => ({
    tags: [plural],
    ...defaults,
    ...names,
  });
  const jsonResponse = (description: string, schema: unknown, headers: Record<string, HeaderDoc> = {}) => ({
    description,
    headers: { 'x-request-id': requestIdHeader, ...headers },
    content: { 'application/json': { schema } },
  });

  return {
    list: (
      names: Partial<OperationNames> = {},
      success?: { description: string; schema: unknown; headers?: Record<string, HeaderDoc> },
    ) => ({
      ...named(names, {
        operationId: `list${capitalized(plural)}`,
        summary: `A page of ${plural}`,
        description: `${capitalized(plural)} in the requested order, filtered, one page at a time. Pass the nextCursor of a page as cursor, with the same sort, order and filters, to get the next one.`,
      }),
      security: read.security,
      parameters: listParameters(resource.listing, resource.listQuery, plural),
      responses: {
        200: jsonResponse(
          success?.description ?? `A page of ${plural}.`,
          success?.schema ?? ref(`${name}List`),
          success?.headers,
        ),
        ...read.responses,
        ...problemResponses([problems.validation, ...extra('list'), problems.internal, problems.unavailable]),
      },
    }),
    get: (names: Partial<OperationNames> = {}) => ({
      ...named(names, {
        operationId: `get${name}`,
        summary: `One ${noun}`,
        description: `The ${noun} with its ETag; with If-None-Match, 304 while it is unchanged.`,
      }),
      security: read.security,
      parameters: [
        idParameter,
        headerParameter('If-None-Match', `Answer 304 if the ${noun} still has this ETag.`, entityTags),
      ],
      responses: {
        200: jsonResponse(`The ${noun}.`, ref(name), { etag }),
        304: { description: 'Not modified since the ETag in If-None-Match.', headers: { etag } },
        ...read.responses,
        ...problemResponses([
          problems.validation,
          problems.notFound(noun),
          ...extra('get'),
          problems.internal,
          problems.unavailable,
        ]),
      },
    }),
    create: (names: Partial<OperationNames> = {}) => ({
      ...named(names, {
        operationId: `create${name}`,
        summary: `Add ${a}`,
        description: `Creates ${a}. With an Idempotency-Key, a retry gets the first response instead of a second ${noun}.`,
      }),
      security: write.security,
      parameters: [idempotencyKeyParameter],
      requestBody: jsonBody(`New${name}`),
      responses: {
        201: jsonResponse(`The ${noun} was created (or, with a replayed Idempotency-Key, had been).`, ref(name), {
          location: header(`The new ${noun}'s URL.`),
          etag,
          'idempotent-replayed': header('"true" when this is the stored response to an earlier request.', false),
        }),
        ...write.responses,
        ...problemResponses([
          problems.validation,
          problems.idempotencyKeyInUse,
          problems.payloadTooLarge,
          problems.unsupportedMediaType,
          problems.idempotencyKeyReused,
          ...references,
          ...extra('create'),
          problems.internal,
          problems.unavailable,
        ]),
      },
    }),
    update: (names: Partial<OperationNames> = {}) => ({
      ...named(names, {
        operationId: `update${name}`,
        summary: `Change some fields of ${a}`,
        description: `Sets the fields sent, leaving the others; with If-Match, only if nobody changed the ${noun} since.`,
      }),
      security: write.security,
      parameters: [
        idParameter,
        headerParameter('If-Match', `Apply only if the ${noun} still has this ETag (else 412).`, entityTags),
      ],
      requestBody: jsonBody(`${name}Patch`),
      responses: {
        200: jsonResponse(`The updated ${noun}.`, ref(name), { etag }),
        ...write.responses,
        ...problemResponses([
          problems.validation,
          problems.notFound(noun),
          problems.preconditionFailed(noun),
          problems.payloadTooLarge,
          problems.unsupportedMediaType,
          ...references,
          ...extra('update'),
          problems.internal,
          problems.unavailable,
        ]),
      },
    }),
    delete: (names: Partial<OperationNames> = {}) => ({
      ...named(names, {
        operationId: `delete${name}`,
        summary: `Remove ${a}`,
        description: `Deletes the ${noun}; with If-Match, only if nobody changed it since.${deleteEffects}`,
      }),
      security: write.security,
      parameters: [
        idParameter,
        headerParameter('If-Match', `Delete only if the ${noun} still has this ETag (else 412).`, entityTags),
      ],
      responses: {
        204: { description: `The ${noun} was removed.`, headers: { 'x-request-id': requestIdHeader } },
        ...write.responses,
        ...problemResponses([
          problems.validation,
          problems.notFound(noun),
          ...stillReferenced,
          problems.preconditionFailed(noun),
          ...extra('delete'),
          problems.internal,
          problems.unavailable,
        ]),
      },
    }),
  };
}

export type ResourceOperations = ReturnType<typeof resourceOperations>;

/** A resource in the document: its description, its routes and its schemas (lib/openapi/document.ts lists them). */
export interface ResourceApi {
  resource: ResourceDoc;
  paths(referencedBy: ResourceDoc[], auth?: ApiAuth): Record<string, Record<string, unknown>>;
  schemas(): Record<string, JsonSchema>;
}

/**
 * A resource's part of the document: the standard routes at /<plural> and
 * /<plural>/{id}, and `more` (aliases, routes of its own) made from the same
 * operations.
 */
/* @__NO_SIDE_EFFECTS__ */
export function resourceApi(
  resource: ResourceDoc,
  more: (operations: ResourceOperations) => Record<string, Record<string, unknown>> = () => ({}),
): ResourceApi {
  return {
    resource,
    paths(referencedBy, auth) {
      const operations = resourceOperations(resource, referencedBy, auth);
      return {
        [`/${resource.plural}`]: { get: operations.list(), post: operations.create() },
        [`/${resource.plural}/{id}`]: {
          get: operations.get(),
          patch: operations.update(),
          delete: operations.delete(),
        },
        ...more(operations),
      };
    },
    schemas: () => resourceSchemas(resource),
  };
}

/** The first sample, with each reference naming row 1 of its resource, for the document's example. */
function exampleOf(resource: ResourceDoc): Record<string, unknown> {
  const references = Object.keys(resource.references ?? {}).map((field) => [field, 1]);
  return { ...resource.sample(1), ...Object.fromEntries(references) };
}

/** The response and request schemas of a resource, for components.schemas. */
export function resourceSchemas(resource: ResourceDoc): Record<string, JsonSchema> {
  const create = jsonSchema(resource.create);
  const fields = (create.properties ?? {}) as Record<string, JsonSchema>;
  const response = resource.response ?? {
    type: 'object',
    properties: {
      id: { type: 'integer', minimum: 1, maximum: 2147483647 },
      ...fields,
      version: {
        type: 'integer',
        minimum: 1,
        description: 'Grows with every change; the ETag is this number, quoted.',
      },
      createdAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
    },
    // Every member is always there; an optional field of the body is null when not set.
    required: ['id', ...Object.keys(fields), 'version', 'createdAt', 'updatedAt'],
    additionalProperties: false,
  };
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
    [`New${resource.name}`]: { ...create, examples: [exampleOf(resource)] },
    [`${resource.name}Patch`]: jsonSchema(resource.patch),
  };
}
