/** GET /cats/{id}: one cat with its ETag, 304 when If-None-Match still matches, or 404. */
import { findCat } from '../lib/cats/repository.js';
import { catIdSchema, toCat } from '../lib/cats/schema.js';
import { httpRoute } from '../lib/http/handler.js';
import { getRoute } from '../lib/http/resource-routes.js';

export const handler = httpRoute(getRoute({ idSchema: catIdSchema, find: findCat, toJson: toCat }));
