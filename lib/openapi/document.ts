/**
 * The OpenAPI 3.1 document: every resource's routes and schemas, and the
 * documentation routes. Request schemas are generated from the zod schemas
 * that validate requests, so the docs cannot describe input the API would
 * refuse; the test suite checks every response it sees against this document
 * (test/support/contract.ts), so they cannot drift either. Only the `openapi`
 * function imports this module.
 */

import { catsApi } from '../cats/schema.js';
import {
  type ApiAuth,
  type AuthServer,
  problemResponses,
  problemSchemas,
  problems,
  type ResourceApi,
  requestIdHeader,
  securitySchemesOf,
} from './operations.js';

/** Every resource of the API; tests take their lists of resources and listings from here. */
export const resources: ResourceApi[] = [catsApi];

/** The outline of an OpenAPI 3.1 document, enough for a client to tell it from anything else. */
const openApiDocumentSchema = {
  type: 'object',
  description: 'An OpenAPI 3.1 document (the full schema: https://spec.openapis.org/oas/3.1/schema/2022-10-07).',
  properties: {
    openapi: { type: 'string', pattern: '^3\\.1\\.[0-9]+$' },
    info: {
      type: 'object',
      properties: { title: { type: 'string' }, version: { type: 'string' } },
      required: ['title', 'version'],
    },
    servers: { type: 'array', items: { type: 'object' } },
    tags: { type: 'array', items: { type: 'object' } },
    paths: { type: 'object', additionalProperties: { type: 'object' } },
    components: { type: 'object' },
  },
  required: ['openapi', 'info', 'paths'],
};

/** API Gateway's own body, for an answer no function gave (its throttling). */
const gatewayErrorSchema = {
  type: 'object',
  description: 'The body API Gateway sends for an answer of its own, such as {"message":"Too Many Requests"}.',
  properties: { message: { type: 'string' } },
  required: ['message'],
};

/**
 * Every operation can be answered 429 by API Gateway before any function
 * runs: the stage's throttling (apiThrottleRate and apiThrottleBurst in
 * serverless.yml) refuses requests beyond its rate.
 */
function throttled(paths: Record<string, Record<string, unknown>>) {
  for (const operations of Object.values(paths)) {
    for (const operation of Object.values(operations) as { responses: Record<string, unknown> }[]) {
      operation.responses['429'] = {
        description:
          "Too many requests: the stage's throttling refused this one before any code ran; retry later (sent by API Gateway).",
        content: { 'application/json': { schema: { $ref: '#/components/schemas/GatewayError' } } },
      };
    }
  }
  return paths;
}

/**
 * `auth`: which routes need a token on the stage serving the document
 * (API_AUTH); `authServer`: where its tokens come from (API_AUTH_SERVER).
 */
export function openApiDocument(auth: ApiAuth = 'writes', authServer?: AuthServer) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'The Cats API',
      version: '1.0.0',
      description:
        'A small inventory of cats. Errors are RFC 9457 problem documents (application/problem+json). ' +
        'Lists use keyset pagination: pass nextCursor back as cursor. ' +
        (auth === 'open'
          ? 'This stage checks no token: anyone may change the cats. '
          : `Writes need a bearer token with the scope cats/write${auth === 'reads-and-writes' ? ', reads one with cats/read' : ''}. `) +
        'A request no operation here matches is answered as a problem too: 404 for a path the API does not have, ' +
        '405 with an Allow header listing the methods for a path it has with another method.',
      contact: { name: 'The Cats API maintainers' },
      // MIT No Attribution (LICENSE): a team may copy the template without keeping a notice.
      license: { name: 'MIT No Attribution', identifier: 'MIT-0' },
    },
    // Relative: the document is served by the API it describes, on whatever host it was deployed to.
    servers: [{ url: '/', description: 'The API that serves this document' }],
    tags: [
      { name: 'cats', description: 'The cats of the inventory.' },
      { name: 'tutorial', description: 'The routes of the Flask tutorial this API rebuilds, kept as aliases.' },
      { name: 'docs', description: 'This reference.' },
    ],
    paths: throttled({
      ...(Object.assign(
        {},
        ...resources.map((api) =>
          api.paths(
            resources
              .map((other) => other.resource)
              .filter((other) =>
                Object.values(other.references ?? {}).some((target) => target.resource === api.resource.plural),
              ),
            auth,
          ),
        ),
      ) as Record<string, Record<string, unknown>>),
      '/docs': {
        get: {
          operationId: 'docs',
          // Public on every stage (`auth: public` in serverless.yml).
          security: [],
          summary: 'This reference, as an interactive page (Swagger UI)',
          description: 'An HTML page rendering /openapi.json, with "Try it out" to send requests from the page.',
          tags: ['docs'],
          responses: {
            200: {
              description: 'The HTML page.',
              headers: { 'x-request-id': requestIdHeader },
              content: { 'text/html': { schema: { type: 'string' } } },
            },
            ...problemResponses([problems.internal]),
          },
        },
      },
      '/docs/{asset}': {
        get: {
          operationId: 'docsAsset',
          // Public on every stage (`auth: public` in serverless.yml).
          security: [],
          summary: "The page's scripts and styles, served by the API itself (no CDN)",
          description: 'A file of Swagger UI, from the function itself, so the page works offline.',
          tags: ['docs'],
          parameters: [
            {
              name: 'asset',
              in: 'path',
              required: true,
              description: 'The file: the only ones there are (functions/docs.ts); any other is a 404.',
              schema: { type: 'string', enum: ['swagger-ui-bundle.js', 'swagger-ui.css', 'init.js'] },
            },
          ],
          responses: {
            200: {
              description: 'A script or style sheet.',
              headers: { 'x-request-id': requestIdHeader },
              content: {
                'text/javascript': { schema: { type: 'string' } },
                'text/css': { schema: { type: 'string' } },
              },
            },
            ...problemResponses([{ status: 404, description: 'No such asset.' }, problems.internal]),
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openApi',
          // Public on every stage (`auth: public` in serverless.yml).
          security: [],
          summary: 'This document',
          description: 'The OpenAPI 3.1 document of this API.',
          tags: ['docs'],
          responses: {
            200: {
              description: 'The OpenAPI 3.1 document.',
              headers: { 'x-request-id': requestIdHeader },
              content: { 'application/json': { schema: openApiDocumentSchema } },
            },
            ...problemResponses([problems.internal]),
          },
        },
      },
    }),
    components: {
      ...(auth === 'open' ? {} : { securitySchemes: securitySchemesOf(authServer) }),
      schemas: Object.assign({}, ...resources.map((api) => api.schemas()), problemSchemas, {
        GatewayError: gatewayErrorSchema,
      }),
    },
  };
}
