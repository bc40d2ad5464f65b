/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  // Kysely's builders left out of the bundles are left out of the tests too.
  resolver: '<rootDir>/test/support/kysely-resolver.cjs',
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // The deploy template tests package the service five times (~30 s of
  // bundling): `npm run test:deploy`, which CI runs too.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/deploy/', '<rootDir>/test/browser/'],
  globalSetup: '<rootDir>/test/support/global-setup.js',
  globalTeardown: '<rootDir>/test/support/global-teardown.js',
  // A bound that only a hang exceeds: a test that takes a second on an idle
  // machine took over 30 s at a load average of 50 on 2 cores. Tests assert
  // behaviour, never elapsed time; this only turns a hang into a failure.
  testTimeout: 5 * 60 * 1000,
};
