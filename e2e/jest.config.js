// End-to-end suites: real cluster, one file at a time (see e2e/run.ts, which brings the cluster
// up first and dumps events and component logs when a suite fails).
/** @type {import('jest').Config} */
export default {
  rootDir: '..',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2024' }, module: { type: 'es6' } },
    ],
  },
  roots: ['<rootDir>/e2e/tests'],
  testMatch: ['**/*.test.ts'],
  testTimeout: 180_000,
  setupFilesAfterEnv: ['<rootDir>/e2e/tests/leftover-loads.ts'],
  watchman: false,
};
