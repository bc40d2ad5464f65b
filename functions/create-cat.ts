/** POST /cats (and the tutorial's POST /add): adds a cat. */
import { insertCat } from '../lib/cats/repository.js';
import { newCatSchema, toCat } from '../lib/cats/schema.js';
import { db } from '../lib/db/index.js';
import { etagOf } from '../lib/http/conditional.js';
import { httpRoute } from '../lib/http/handler.js';
import { jsonBody, validate } from '../lib/http/request.js';

export const handler = httpRoute(async (event) => {
  const input = validate(newCatSchema, jsonBody(event), 'body');
  const cat = toCat(await insertCat(db(), input));
  return { status: 201, body: cat, headers: { location: `/cats/${cat.id}`, etag: etagOf(cat.version) } };
});
