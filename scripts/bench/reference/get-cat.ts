/**
 * The reference the bench compares get-cat's cold start with: the same
 * libraries (middy, Powertools Logger, zod, Kysely, pg) written the way the
 * public templates write a handler, built with a plain esbuild bundle
 * (scripts/bench/reference/build.ts): no build plugins, classic `zod`, the
 * Logger made at import and given the context by its middy middleware, and
 * one request line at INFO, as ours writes. It answers the same event with
 * the same query. Not deployed, not imported by anything else.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type Generated, Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { z } from 'zod';

interface Database {
  cats: {
    id: Generated<number>;
    name: string;
    price: number;
    breed: string;
    version: Generated<number>;
    created_at: Generated<Date>;
    updated_at: Generated<Date>;
  };
}

const logger = new Logger({ serviceName: 'cats-api' });
const db = new Kysely<Database>({
  dialect: new PostgresDialect({
    pool: new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX ?? 1) }),
  }),
});
const pathParameters = z.object({ id: z.coerce.number().int().positive() });

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(injectLambdaContext(logger))
  .handler(async (event) => {
    const parsed = pathParameters.safeParse(event.pathParameters);
    if (!parsed.success) {
      return { statusCode: 400, body: JSON.stringify({ title: 'Bad Request', errors: parsed.error.issues }) };
    }
    const cat = await db.selectFrom('cats').selectAll().where('id', '=', parsed.data.id).executeTakeFirst();
    logger.info('request', { route: event.routeKey, status: cat ? 200 : 404 });
    if (!cat) return { statusCode: 404, body: JSON.stringify({ title: 'Not Found' }) };
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(cat) };
  });
