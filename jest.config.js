/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j|mj)s$': ['@swc/jest'],
  },
  // middy and a few other dependencies ship ESM only; jest's module system needs them as CommonJS.
  transformIgnorePatterns: ['/node_modules/(?!(@middy|aws-local-stepfunctions|asl-validator)/)'],
  // middy's packages export an `import` condition only, which jest's CommonJS resolver does not try.
  moduleNameMapper: { '^@middy/(core|util)$': '<rootDir>/node_modules/@middy/$1/index.js' },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  // Quiet output: the functions' logs and metrics are captured for the tests to assert, not printed.
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean', '<rootDir>/test/support/setup.ts'],
  // A hang guard, not a speed budget: on a loaded machine a synth or a property test takes minutes.
  // The suite's speed is tracked by the benchmark (bench/suite.ts), never by a timed test.
  testTimeout: 10 * 60_000,
  // The summary of a passing run, not a line for each of its files; the rest as jest's default.
  reporters: ['<rootDir>/test/support/quiet-reporter.js', 'summary'],
  // jest's default is one worker fewer than the cores: on the two cores the suite is sized for, it
  // would run every file in its own process one after the other, on one core. Two workers use both.
  maxWorkers: 2,
};
