/**
 * Idempotent POSTs (the IETF Idempotency-Key header draft): the key, a
 * fingerprint of the request and the response are stored in the same
 * transaction as the write itself, so a client that retries after a timeout
 * gets the original response, never a second cat.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Reply } from './handler.js';
import { fieldProblem, HttpProblem, problemTypes } from './problem.js';
import { header } from './request.js';

const keyPattern = /^[\x21-\x7e]{1,255}$/;

/** The request's Idempotency-Key, or undefined when it sent none. */
export function idempotencyKey(event: APIGatewayProxyEventV2): string | undefined {
  const key = header(event, 'idempotency-key');
  if (key === undefined) return undefined;
  if (!keyPattern.test(key)) {
    throw fieldProblem('header', 'idempotency-key', 'must be 1 to 255 visible ASCII characters, such as a UUID');
  }
  return key;
}

/** Same route and same validated input give the same fingerprint, whatever the JSON spacing or key order. */
export function fingerprint(route: string, input: Record<string, unknown>): string {
  const canonical = JSON.stringify([route, Object.entries(input).sort(([a], [b]) => (a < b ? -1 : 1))]);
  // node:crypto is loaded by the first request with an Idempotency-Key, not
  // at import: a create-cat cold start without one does not pay for it.
  return process.getBuiltinModule('node:crypto').createHash('sha256').update(canonical).digest('hex');
}

export interface IdempotentRequest {
  key: string;
  fingerprint: string;
  ttlSeconds: number;
}

/**
 * Runs `write` once per key: the first request runs it and stores its reply in
 * the same transaction; a retry gets the stored reply. The transaction-scoped
 * advisory lock makes a concurrent retry answer 409 at once instead of waiting
 * on the first request's row lock.
 */
export async function idempotent(
  db: Kysely<Database>,
  request: IdempotentRequest,
  write: (trx: Transaction<Database>) => Promise<Reply>,
): Promise<Reply> {
  return db.transaction().execute(async (trx) => {
    const locked = await sql<{ locked: boolean }>`
      SELECT pg_try_advisory_xact_lock(hashtextextended(${request.key}, 0)) AS locked`.execute(trx);
    if (!locked.rows[0]?.locked) throw inFlight();

    // Expired keys are forgotten here, a few at a time, on the write path that
    // creates them, so the table cannot grow without bound.
    await sql`DELETE FROM idempotency_keys WHERE key IN (
      SELECT key FROM idempotency_keys WHERE expires_at < now() LIMIT 100 FOR UPDATE SKIP LOCKED)`.execute(trx);

    const stored = await trx
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('key', '=', request.key)
      .executeTakeFirst();
    if (stored) {
      if (stored.fingerprint !== request.fingerprint) throw reusedKey();
      return {
        status: stored.status,
        body: stored.body ?? undefined,
        headers: { ...stored.headers, 'idempotent-replayed': 'true' },
      };
    }

    const reply = await write(trx);
    await trx
      .insertInto('idempotency_keys')
      .values({
        key: request.key,
        fingerprint: request.fingerprint,
        status: reply.status,
        headers: JSON.stringify(reply.headers ?? {}),
        body: reply.body === undefined ? null : JSON.stringify(reply.body),
        expires_at: new Date(Date.now() + request.ttlSeconds * 1000),
      })
      .execute();
    return reply;
  });
}

function inFlight(): HttpProblem {
  return new HttpProblem(
    409,
    problemTypes.idempotencyInFlight,
    'Request in progress',
    'idempotency-key is being used by a request that has not finished yet; retry after the time in Retry-After',
    [{ field: 'idempotency-key', in: 'header', detail: 'is in use by a request in progress' }],
    { 'retry-after': '1' },
  );
}

function reusedKey(): HttpProblem {
  return new HttpProblem(
    422,
    problemTypes.idempotencyKeyReused,
    'Idempotency key reused',
    'idempotency-key was already used for a different request; use a new key for a new request',
    [{ field: 'idempotency-key', in: 'header', detail: 'was used with a different request (route or body)' }],
  );
}
