// The warm cost of metrics and tracing: one process loads two builds of a
// function (with the request metrics, and with lib/metrics.ts replaced by a
// no-op) and times them in turn, with and without the trace header Lambda
// sets, so every variant sees the same machine at the same moment. Plain .mjs
// run by plain `node`. Prints {variant: median µs, variant-added: median of
// the differences to the same round's plain request} as the last line of
// stderr (the paired difference leaves out most of the database's jitter);
// stdout gets the functions' log and metrics lines, as in Lambda.
// With a fifth argument (a variant, e.g. metrics+trace) it runs only that
// variant, untimed (for a profiler).
const [withMetrics, withoutMetrics, eventJson, countText, only] = process.argv.slice(2);
const count = Number(countText);
const handlers = {
  metrics: (await import(withMetrics)).handler,
  none: (await import(withoutMetrics)).handler,
};
const trace = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
const variants = [
  ['none', false],
  ['metrics', false],
  ['none', true],
  ['metrics', true],
].filter(([build, traced]) => only === undefined || only === `${build}${traced ? '+trace' : ''}`);
const times = Object.fromEntries(variants.map(([build, traced]) => [`${build}${traced ? '+trace' : ''}`, []]));
let invocation = 0;
const context = () => ({
  awsRequestId: `bench-warm-${++invocation}`,
  functionName: 'bench',
  getRemainingTimeInMillis: () => 10000,
});
const run = async (build, traced, record) => {
  if (traced) process.env._X_AMZN_TRACE_ID = trace;
  else delete process.env._X_AMZN_TRACE_ID;
  const event = JSON.parse(eventJson);
  const start = process.hrtime.bigint();
  const result = await handlers[build](event, context());
  const elapsed = Number(process.hrtime.bigint() - start) / 1000;
  if (result.statusCode !== 200 && result.statusCode !== 400)
    throw new Error(`unexpected answer: ${JSON.stringify(result)}`);
  if (record) times[`${build}${traced ? '+trace' : ''}`].push(elapsed);
};
for (let i = 0; i < 200; i += 1) for (const [build, traced] of variants) await run(build, traced, false);
if (only !== undefined) {
  for (let i = 0; i < count; i += 1) await run(variants[0][0], variants[0][1], false);
  process.exit(0);
}
for (let i = 0; i < count; i += 1) for (const [build, traced] of variants) await run(build, traced, true);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const result = {};
for (const [name, list] of Object.entries(times)) {
  result[name] = median(list);
  result[`${name}-added`] = median(list.map((t, i) => t - times.none[i]));
}
process.stderr.write(`\n${JSON.stringify(result)}\n`);
process.exit(0);
