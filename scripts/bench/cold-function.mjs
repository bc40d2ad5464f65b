// A Lambda cold start, as close as we can get without Lambda: a fresh Node
// process loads one bundled function (as `sls package` zipped it) and answers
// one event. Plain .mjs run by plain `node`, so no loader skews the figures.
// Prints {init, invoke, total} in ms since the process started.
const [bundle, eventJson] = process.argv.slice(2);
const initStart = performance.now();
const { handler } = await import(bundle);
const initEnd = performance.now();
const context = {
  awsRequestId: 'bench-cold',
  functionName: 'bench',
  // Long enough for a cold start under valgrind with TLS and SCRAM (section
  // 7): middy's timeout timer never fires, and a timer that does not fire
  // costs the same whatever its delay.
  getRemainingTimeInMillis: () => 600000,
};
const result = await handler(JSON.parse(eventJson), context);
const answered = performance.now();
if (!result || typeof result.statusCode !== 'number' || result.statusCode >= 400) {
  console.error(`unexpected answer: ${JSON.stringify(result)}`);
  process.exit(1);
}
console.log(
  JSON.stringify({ boot: initStart, init: initEnd - initStart, invoke: answered - initEnd, total: answered }),
);
process.exit(0);
