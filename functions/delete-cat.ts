/** DELETE /cats/{id} (and the tutorial's DELETE /remove/{id}): removes a cat. */
import { deleteCat } from '../lib/cats/repository.js';
import { catIdSchema } from '../lib/cats/schema.js';
import { db } from '../lib/db/index.js';
import { httpRoute } from '../lib/http/handler.js';
import { pathParameters, validate } from '../lib/http/request.js';

export const handler = httpRoute(async (event) => {
  const { id } = validate(catIdSchema, pathParameters(event), 'path');
  await deleteCat(db(), id);
  return { status: 204 };
});
