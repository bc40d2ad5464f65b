/** GET /cats/{id}: one cat with its ETag, 304 when If-None-Match still matches, or 404. */
import { findCat } from '../lib/cats/repository.js';
import { catIdSchema, toCat } from '../lib/cats/schema.js';
import { db } from '../lib/db/index.js';
import { etagOf, ifNoneMatchHits } from '../lib/http/conditional.js';
import { httpRoute } from '../lib/http/handler.js';
import { pathParameters, validate } from '../lib/http/request.js';

export const handler = httpRoute(async (event) => {
  const { id } = validate(catIdSchema, pathParameters(event), 'path');
  const cat = toCat(await findCat(db(), id));
  const headers = { etag: etagOf(cat.version) };
  if (ifNoneMatchHits(event, cat.version)) return { status: 304, headers };
  return { status: 200, body: cat, headers };
});
