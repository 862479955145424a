// Unit specs sit beside the code (src/**/*.spec.ts); integration and e2e tests live
// in test/ and run against the real Postgres and Redis. One process, files in
// sequence: the suite shares two cores with the services it talks to.
const { readFileSync } = require('node:fs'); // eslint-disable-line @typescript-eslint/no-require-imports

const swc = JSON.parse(readFileSync(`${__dirname}/.swcrc`, 'utf8'));

/** @type {import('jest').Config} */
module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  transform: { '^.+\\.(t|j)s$': ['@swc/jest', { ...swc, swcrc: false }] },
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  testTimeout: 30_000,
  // A file whose setup failed may leave a worker or pool open; the run must still end
  // (CI has a deadline). Clean runs close everything themselves.
  forceExit: true,
};
