/** GET /cats/{id}: one cat, or 404. */
import { findCat } from '../lib/cats/repository.js';
import { catIdSchema, toCat } from '../lib/cats/schema.js';
import { db } from '../lib/db/index.js';
import { httpRoute } from '../lib/http/handler.js';
import { pathParameters, validate } from '../lib/http/request.js';

export const handler = httpRoute(async (event) => {
  const { id } = validate(catIdSchema, pathParameters(event), 'path');
  return { status: 200, body: toCat(await findCat(db(), id)) };
});
