/** PATCH /cats/{id} (and the tutorial's PATCH /edit/{id}): changes some fields of a cat; honours If-Match. */
import { updateCat } from '../lib/cats/repository.js';
import { catIdSchema, catPatchSchema, toCat } from '../lib/cats/schema.js';
import { db } from '../lib/db/index.js';
import { etagOf, ifMatchVersions } from '../lib/http/conditional.js';
import { httpRoute } from '../lib/http/handler.js';
import { jsonBody, pathParameters, validate } from '../lib/http/request.js';

export const handler = httpRoute(async (event) => {
  const { id } = validate(catIdSchema, pathParameters(event), 'path');
  const ifMatch = ifMatchVersions(event);
  const patch = validate(catPatchSchema, jsonBody(event), 'body');
  const cat = toCat(await updateCat(db(), id, patch, ifMatch));
  return { status: 200, body: cat, headers: { etag: etagOf(cat.version) } };
});
