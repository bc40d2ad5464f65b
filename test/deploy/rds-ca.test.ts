/**
 * What a packaged function carries for TLS: only the RDS certificate
 * authorities of the stage's region (serverless.yml picks
 * functions/rds-ca/<region>.pem), which lib/db/credentials.ts reads in Lambda
 * (AWS_REGION); test/integration/iam-auth.test.ts connects with that layout
 * and a verified certificate.
 */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { rdsCaPem } from '../../scripts/rds-ca.js';
import { type Packaged, packageService } from './template.js';

let packaged: Packaged;

beforeAll(async () => {
  packaged = await packageService('dev', {}, { region: 'eu-west-1' });
}, 180000);

afterAll(async () => {
  if (packaged) await rm(packaged.dir, { recursive: true, force: true });
});

const listing = async (name: string) =>
  (await promisify(execFile)('unzip', ['-Z1', path.join(packaged.dir, `${name}.zip`)])).stdout.trim().split('\n');

it("ships each function that uses the database only its region's RDS CA file, which is what npm run rds-ca wrote", async () => {
  const withDatabase = packaged.functions.filter((fn) => fn.database);
  expect(withDatabase.map((fn) => fn.name)).toEqual(expect.arrayContaining(['getCat', 'createCat', 'migrate']));
  for (const fn of withDatabase) {
    const files = await listing(fn.name);
    expect(files.filter((file) => file.endsWith('.pem'))).toEqual(['functions/rds-ca/eu-west-1.pem']);
    // The token signer is a chunk next to the function, loaded in IAM mode only.
    expect(files.some((file) => /^functions\/iam-signer-\w+\.js$/.test(file))).toBe(true);
  }
  const { stdout } = await promisify(execFile)('unzip', [
    '-p',
    path.join(packaged.dir, 'getCat.zip'),
    'functions/rds-ca/eu-west-1.pem',
  ]);
  expect(stdout).toBe(rdsCaPem('eu-west-1'));
});
