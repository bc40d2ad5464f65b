/**
 * reservedConcurrency=false, for accounts whose Lambda quota holds no
 * reservation: the packaged template reserves nothing, and the deploy's
 * preflight reads the same plan from the package that `npm run deploy`
 * deploys (its checks are in test/unit/preflight.test.ts).
 */
import { readPlan } from '../../scripts/preflight.js';
import { activeResources, ofType, type Packaged, packageService } from './template.js';

let reserved: Packaged;
let dropped: Packaged;

beforeAll(async () => {
  [reserved, dropped] = await Promise.all([
    packageService('dev'),
    packageService('dev', { reservedConcurrency: 'false', rdsProxy: 'true' }),
  ]);
}, 240000);

const reservations = (packaged: Packaged) =>
  Object.fromEntries(
    ofType(activeResources(packaged.template), 'AWS::Lambda::Function').map(([id, fn]) => [
      id,
      fn.Properties?.ReservedConcurrentExecutions,
    ]),
  );

it('reserves concurrency for every function by default, and the preflight sums the same', async () => {
  const values = Object.values(reservations(reserved));
  expect(values.every((value) => typeof value === 'number' && value >= 1)).toBe(true);
  const plan = await readPlan(reserved.dir);
  expect(plan).toEqual(
    expect.objectContaining({
      stage: 'dev',
      region: 'us-east-1',
      stackName: 'cats-api-dev',
      reservationsDropped: false,
    }),
  );
  expect(plan.connections).toBe(50);
  const total = (values as number[]).reduce((sum, value) => sum + value, 0);
  // The connection budget (50 at DB_POOL_MAX 1), migrate's 1, 2 each for openapi and unmatched, and 4 for
  // docs (two routes, each with a burst and a rate: docs/deploying.md, "Throttles follow the reservations").
  expect(total).toBe(50 + 1 + 2 + 2 + 4);
});

it('with reservedConcurrency=false reserves nothing for any function, and says so in the throttle alarms', async () => {
  const values = reservations(dropped);
  expect(Object.keys(values).length).toBeGreaterThan(5);
  expect(Object.values(values).filter((value) => value !== undefined)).toEqual([]);
  const alarms = ofType(activeResources(dropped.template), 'AWS::CloudWatch::Alarm').filter(([id]) =>
    id.endsWith('ThrottlesAlarm'),
  );
  expect(alarms.length).toBe(Object.keys(values).length);
  for (const [, alarm] of alarms) {
    expect(alarm.Properties?.AlarmDescription).toContain("the account's unreserved concurrency");
  }
  const plan = await readPlan(dropped.dir);
  expect(plan.reservationsDropped).toBe(true);
  expect(plan.resources.DatabaseProxy).toBeDefined();
});

it('refuses a reservedConcurrency that is neither "true" nor "false"', async () => {
  await expect(packageService('dev', { reservedConcurrency: 'no' })).rejects.toThrow(
    /reservedConcurrency.*must be "true" or "false", got "no"/,
  );
}, 120000);
