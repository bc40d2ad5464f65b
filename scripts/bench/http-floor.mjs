// The floor for HTTP: a bare node:http server that answers GET /cats/{id} and
// GET /cats with one raw `pg` query each, no framework, no validation, no
// Lambda emulation. `npm start` (serverless-offline) is compared to it.
import { createServer } from 'node:http';
import pg from 'pg';

const [databaseUrl, portText] = process.argv.slice(2);
const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url ?? '/', 'http://x');
    const match = /^\/cats\/([0-9]+)$/.exec(url.pathname);
    const result = match
      ? await pool.query('select * from "cats" where "id" = $1', [Number(match[1])])
      : await pool.query('select * from "cats" order by "id" limit $1', [
          Number(url.searchParams.get('limit') ?? 20) + 1,
        ]);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(match ? result.rows[0] : { items: result.rows.slice(0, -1), nextCursor: null }));
  } catch (error) {
    res.writeHead(500);
    res.end(String(error));
  }
});
server.listen(Number(portText), '127.0.0.1', () => console.log('ready'));
process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
