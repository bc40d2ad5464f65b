/** PATCH /cats/{id} (and the tutorial's PATCH /edit/{id}): changes some fields of a cat; honours If-Match. */
import { updateCat } from '../lib/cats/repository.js';
import { catIdSchema, catPatchSchema, toCat } from '../lib/cats/schema.js';
import { httpRoute } from '../lib/http/handler.js';
import { updateRoute } from '../lib/http/resource-routes.js';

export const handler = httpRoute(
  updateRoute({
    idSchema: catIdSchema,
    bodySchema: catPatchSchema,
    update: updateCat,
    toJson: toCat,
    resource: 'Cats',
  }),
);
