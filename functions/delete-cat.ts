/** DELETE /cats/{id} (and the tutorial's DELETE /remove/{id}): removes a cat; honours If-Match. */
import { deleteCat } from '../lib/cats/repository.js';
import { catIdSchema } from '../lib/cats/schema.js';
import { db } from '../lib/db/index.js';
import { ifMatchVersions } from '../lib/http/conditional.js';
import { httpRoute } from '../lib/http/handler.js';
import { pathParameters, validate } from '../lib/http/request.js';

export const handler = httpRoute(async (event) => {
  const { id } = validate(catIdSchema, pathParameters(event), 'path');
  await deleteCat(db(), id, ifMatchVersions(event));
  return { status: 204 };
});
