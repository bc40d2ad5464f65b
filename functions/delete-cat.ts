/** DELETE /cats/{id} (and the tutorial's DELETE /remove/{id}): removes a cat; honours If-Match. */
import { deleteCat } from '../lib/cats/repository.js';
import { catIdSchema } from '../lib/cats/schema.js';
import { httpRoute } from '../lib/http/handler.js';
import { deleteRoute } from '../lib/http/resource-routes.js';

export const handler = httpRoute(deleteRoute({ idSchema: catIdSchema, remove: deleteCat, resource: 'Cats' }));
