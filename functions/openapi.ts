/** GET /openapi.json: the OpenAPI 3.1 document of this API, generated from its schemas. */
import { httpRoute } from '../lib/http/handler.js';
import { openApiDocument } from '../lib/openapi/document.js';
import { apiAuthFrom, authServerFrom } from '../lib/openapi/operations.js';

let document: ReturnType<typeof openApiDocument> | undefined;

export const handler = httpRoute(async () => {
  // Built on first use, not at start, and then kept for the container's life.
  // API_AUTH: which routes this stage closes; API_AUTH_SERVER: where its
  // tokens come from (both from serverless-per-function.cjs).
  document ??= openApiDocument(apiAuthFrom(process.env.API_AUTH), authServerFrom(process.env.API_AUTH_SERVER));
  return { status: 200, body: document };
});
