/** POST /cats (and the tutorial's POST /add): adds a cat; idempotent with an Idempotency-Key header. */
import { insertCat } from '../lib/cats/repository.js';
import { newCatSchema, toCat } from '../lib/cats/schema.js';
import { httpRoute } from '../lib/http/handler.js';
import { createRoute } from '../lib/http/resource-routes.js';

export const handler = httpRoute(
  // One operation for both routes: a key used with POST /add replays on POST /cats too.
  createRoute({
    bodySchema: newCatSchema,
    insert: insertCat,
    toJson: toCat,
    resource: 'Cats',
    path: '/cats',
    operation: 'POST /cats',
  }),
);
