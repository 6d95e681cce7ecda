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

/**
 * npm's stderr without its EBADENGINE warnings. Under an older Node, npm warns once per package
 * that asks for Node 24; that is expected here (the `node` package installs Node 24, which runs
 * everything after this step) but reads like a failure, so one line says it instead.
 */
function withoutEngineWarnings(stderr) {
  const lines = stderr.split('\n');
  const kept = lines.filter((line) => !/^npm warn EBADENGINE/i.test(line));
  const packages = lines.filter((line) => /^npm warn EBADENGINE\s+package:/i.test(line)).length;
  const note =
    packages > 0
      ? `[quickstart] npm noted that ${packages} package(s) want Node 24 while it runs on Node ${process.versions.node}: expected, as the Node 24 it just installed runs the rest\n`
      : '';
  return `${kept.join('\n')}`.replace(/^\n+/, '') + note;
}

if (stale()) {
  say('installing the dependencies and Node 24 into node_modules/ (npm ci)');
  const npm = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
    cwd: root,
    stdio: ['inherit', 'inherit', 'pipe'],
    encoding: 'utf8',
  });
  if (typeof npm.stderr === 'string') process.stderr.write(withoutEngineWarnings(npm.stderr));
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
