// The project brings its own Node (the npm package "node"); npm scripts must run on it, not on
// the machine's older system Node.
import { expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';

it('runs on the Node 24 runtime that package.json pins', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  expect(process.versions.node).toBe(pkg.devDependencies.node);
  expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
});
