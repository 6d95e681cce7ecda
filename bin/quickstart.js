#!/usr/bin/env node
// `npm run quickstart` on a fresh clone runs under whatever Node the machine has (often older than
// the 24 that ebb needs), before `npm ci`. So this file is plain JavaScript for any Node from 18:
// it installs the dependencies, which bring the project's own Node 24 (the `node` package), when
// they are missing or older than package-lock.json, then runs the quickstart itself on that Node.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const path = (relative) => `${root}${relative}`;
const node24 = path('node_modules/.bin/node');
const installed = path('node_modules/.package-lock.json');

function say(message) {
  process.stderr.write(`[quickstart] ${message}\n`);
}

function stale() {
  if (!existsSync(node24) || !existsSync(installed)) return true;
  return statSync(installed).mtimeMs < statSync(path('package-lock.json')).mtimeMs;
}

if (stale()) {
  say('installing the dependencies and Node 24 into node_modules/ (npm ci)');
  const npm = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (npm.error !== undefined) {
    say(
      `cannot run npm: ${npm.error.message}. Install Node.js with npm (any version from 18), then run it again.`,
    );
    process.exit(1);
  }
  if (npm.status !== 0) {
    say('npm ci failed (its message is above). Check that the npm registry is reachable, then run it again.');
    process.exit(1);
  }
}

const quickstart = spawnSync(node24, [path('e2e/cluster/quickstart.ts'), ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
if (quickstart.error !== undefined) {
  say(`cannot run ${node24}: ${quickstart.error.message}. Remove node_modules/ and run it again.`);
  process.exit(1);
}
process.exit(quickstart.status ?? 130);
