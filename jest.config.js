/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  globalSetup: '<rootDir>/test/global-setup.js',
  globalTeardown: '<rootDir>/test/global-teardown.js',
  // The package's own entry points, as `bin/app.ts` imports them (tsconfig.json `paths`).
  moduleNameMapper: {
    '^regsweep$': '<rootDir>/lambda/index.ts',
    '^regsweep/cdk$': '<rootDir>/lib/index.ts',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }],
  },
  // Integration tests start real registry processes; give them room on 2 cores.
  testTimeout: 60_000,
  maxWorkers: 2,
};
