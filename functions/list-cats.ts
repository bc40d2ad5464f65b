/** GET /cats (and the tutorial's GET /): one page of cats, in id order. */
import { listCatPage } from '../lib/cats/repository.js';
import { listQuerySchema } from '../lib/cats/schema.js';
import { db } from '../lib/db/index.js';
import { httpRoute } from '../lib/http/handler.js';
import { queryParameters, validate } from '../lib/http/request.js';

// Written out rather than lib/http/resource-routes.ts's listRoute: the
// tutorial's GET / answers the same page differently.
export const handler = httpRoute(async (event) => {
  const query = validate(listQuerySchema, queryParameters(event), 'query');
  const page = await listCatPage(db(), query);
  if (event.routeKey !== 'GET /') return { status: 200, body: page };

  // The tutorial's route answers a bare array, so the next page travels in an
  // RFC 8288 Link header instead of the body.
  if (page.nextCursor === null) return { status: 200, body: page.items };
  const next = new URLSearchParams({ ...queryParameters(event), limit: String(query.limit) } as Record<string, string>);
  next.set('cursor', page.nextCursor);
  return { status: 200, body: page.items, headers: { link: `<${event.rawPath}?${next}>; rel="next"` } };
});
