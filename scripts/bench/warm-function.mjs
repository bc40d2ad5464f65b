// Warm latency as deployed: a fresh `node` with the function's deployed
// environment (log level, NODE_OPTIONS) loads the bundle as `sls package`
// zipped it and alternates invocations of its handler with the same
// statement through raw `pg` (a pool of one connection, like the handler's).
// Before timing, the SQL each side sends is read off the sockets and must
// match. Prints {handler: [ms...], raw: [ms...]} on the last line.
import net from 'node:net';
import pg from 'pg';

const [bundle, eventJson, sql, valuesJson, countText] = process.argv.slice(2);
const count = Number(countText);
const event = JSON.parse(eventJson);
const values = JSON.parse(valuesJson);
const { handler } = await import(bundle);
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 1 });
// Each invocation gets its own event and context, made before the clock runs:
// copying the event is not the handler's work.
const remaining = () => 10000;
let prepared = [];
const prepare = (n) => {
  prepared = Array.from({ length: n }, (_, i) => [
    structuredClone(event),
    { awsRequestId: `warm-${i}`, functionName: 'bench', getRemainingTimeInMillis: remaining },
  ]);
};
const invoke = async () => {
  const [copy, context] = prepared.pop() ?? [
    structuredClone(event),
    { awsRequestId: 'warm', functionName: 'bench', getRemainingTimeInMillis: remaining },
  ];
  const result = await handler(copy, context);
  if (result.statusCode >= 400) throw new Error(`handler answered ${JSON.stringify(result)}`);
};
const raw = () => pool.query(sql, values);

/** The statements (Parse or simple Query messages) `run` writes to any socket. */
async function statementsOf(run) {
  const write = net.Socket.prototype.write;
  const sent = [];
  net.Socket.prototype.write = function (chunk, ...rest) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    for (let at = 0; at + 5 <= buffer.length; ) {
      const type = String.fromCharCode(buffer[at]);
      const length = buffer.readInt32BE(at + 1);
      if (type === 'P') {
        const body = buffer.subarray(at + 5, at + 1 + length);
        const nameEnd = body.indexOf(0);
        sent.push(body.subarray(nameEnd + 1, body.indexOf(0, nameEnd + 1)).toString('utf8'));
      } else if (type === 'Q') sent.push(buffer.subarray(at + 5, at + length).toString('utf8'));
      at += 1 + length;
    }
    return write.call(this, chunk, ...rest);
  };
  try {
    await run();
  } finally {
    net.Socket.prototype.write = write;
  }
  return sent;
}

for (let i = 0; i < 100; i += 1) {
  await invoke();
  await raw();
}
const handlerSql = await statementsOf(invoke);
const rawSql = await statementsOf(raw);
if (JSON.stringify(handlerSql) !== JSON.stringify(rawSql)) {
  console.error(`the floor runs ${JSON.stringify(rawSql)}, the handler ${JSON.stringify(handlerSql)}`);
  process.exit(1);
}
const times = { handler: [], raw: [] };
prepare(count);
const timed = async (fn) => {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
};
for (let i = 0; i < count; i += 1) {
  times.handler.push(await timed(invoke));
  times.raw.push(await timed(raw));
}
await pool.end();
console.log(JSON.stringify(times));
process.exit(0);
