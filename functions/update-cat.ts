/** PATCH /cats/{id} (and the tutorial's PATCH /edit/{id}): changes some fields of a cat. */
import { updateCat } from '../lib/cats/repository.js';
import { catIdSchema, catPatchSchema, toCat } from '../lib/cats/schema.js';
import { db } from '../lib/db/index.js';
import { httpRoute } from '../lib/http/handler.js';
import { jsonBody, pathParameters, validate } from '../lib/http/request.js';

export const handler = httpRoute(async (event) => {
  const { id } = validate(catIdSchema, pathParameters(event), 'path');
  const patch = validate(catPatchSchema, jsonBody(event), 'body');
  return { status: 200, body: toCat(await updateCat(db(), id, patch)) };
});
