import pg from 'pg';

interface ProblemLike {
  status: number;
  headers: Record<string, string>;
  body: any;
}

/**
 * Asserts an RFC 9457 response: the media type, the members, the status, the
 * field at fault, and that nothing internal (stack, SQL) leaked.
 */
export function expectProblem(reply: ProblemLike, status: number, field?: string): void {
  expect(reply.status).toBe(status);
  expect(reply.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(reply.body).toMatchObject({
    status,
    type: expect.any(String),
    title: expect.any(String),
    detail: expect.any(String),
  });
  expect(reply.body.requestId).toEqual(expect.any(String));
  const text = JSON.stringify(reply.body);
  expect(text).not.toMatch(/\bat .+\.(ts|js|mjs):\d+/); // stack frames
  expect(text).not.toMatch(/\b(select|insert into|update|delete from)\b.*\b(from|set|values|where)\b/i);
  if (field !== undefined) {
    expect(reply.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    expect(reply.body.detail).toContain(field);
  }
}

/** Every row of `cats`, to compare before and after a request that must change nothing. */
export async function catsTable(databaseUrl = process.env.DATABASE_URL): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query('SELECT * FROM cats ORDER BY id')).rows;
  } finally {
    await client.end();
  }
}
