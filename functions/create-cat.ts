/** POST /cats (and the tutorial's POST /add): adds a cat; idempotent with an Idempotency-Key header. */

import type { Kysely } from 'kysely';
import { insertCat } from '../lib/cats/repository.js';
import { newCatSchema, toCat } from '../lib/cats/schema.js';
import { readIdempotencyTtlSeconds } from '../lib/config.js';
import { db } from '../lib/db/index.js';
import type { Database } from '../lib/db/schema.js';
import { etagOf } from '../lib/http/conditional.js';
import { httpRoute, type Reply } from '../lib/http/handler.js';
import { fingerprint, idempotencyKey, idempotent } from '../lib/http/idempotency.js';
import { jsonBody, validate } from '../lib/http/request.js';

const ttlSeconds = readIdempotencyTtlSeconds();

export const handler = httpRoute(async (event) => {
  const key = idempotencyKey(event);
  const input = validate(newCatSchema, jsonBody(event), 'body');
  const create = async (database: Kysely<Database>): Promise<Reply> => {
    const cat = toCat(await insertCat(database, input));
    return { status: 201, body: cat, headers: { location: `/cats/${cat.id}`, etag: etagOf(cat.version) } };
  };
  if (key === undefined) return create(db());
  return idempotent(db(), { key, fingerprint: fingerprint('POST /cats', input), ttlSeconds }, create);
});
