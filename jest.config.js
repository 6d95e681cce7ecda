// Jest runs in native ESM mode (node --experimental-vm-modules, see package.json) with swc
// stripping types; `tsc --noEmit` does the type checking as its own step of `npm test`.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2024' },
        module: { type: 'es6' },
      },
    ],
  },
  roots: ['<rootDir>/src', '<rootDir>/e2e', '<rootDir>/bench'],
  testMatch: ['**/*.test.ts'],
  // e2e/tests/ holds the suites that need a running cluster; they have their own command.
  testPathIgnorePatterns: ['/node_modules/', '/e2e/tests/'],
  watchman: false,
};
