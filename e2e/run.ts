// `npm run test:e2e`: brings the local cluster up (or reuses it), installs ebb with `npm run deploy`,
// runs the end-to-end suites, and
// on failure prints the cluster's events and the tail of every component log.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { binary, STATE_DIR } from './cluster/paths.ts';

const node = process.execPath;
const cluster = new URL('./cluster/cluster.ts', import.meta.url).pathname;
const deploy = new URL('./cluster/deploy.ts', import.meta.url).pathname;
const jest = new URL('../node_modules/jest/bin/jest.js', import.meta.url).pathname;
const config = new URL('./jest.config.js', import.meta.url).pathname;

function step(args: string[], env: NodeJS.ProcessEnv = process.env): number {
  return spawnSync(args[0] ?? '', args.slice(1), { stdio: 'inherit', env }).status ?? 1;
}

function dump(): void {
  const kubeconfig = join(STATE_DIR, 'admin.kubeconfig');
  process.stderr.write('\n===== cluster events =====\n');
  spawnSync(
    binary('kubectl'),
    ['--kubeconfig', kubeconfig, 'get', 'events', '-A', '--sort-by=.lastTimestamp'],
    { stdio: 'inherit' },
  );
  spawnSync(binary('kubectl'), ['--kubeconfig', kubeconfig, 'get', 'pods', '-A', '-o', 'wide'], {
    stdio: 'inherit',
  });
  const logs = join(STATE_DIR, 'logs');
  for (const file of readdirSync(logs, { withFileTypes: true })) {
    if (!file.isFile()) continue;
    const lines = readFileSync(join(logs, file.name), 'utf8').trimEnd().split('\n');
    process.stderr.write(`\n===== ${file.name} (last 40 lines) =====\n${lines.slice(-40).join('\n')}\n`);
  }
}

const extra = process.argv.slice(2);
const jestRun = (args: string[]) =>
  step([
    node,
    '--experimental-vm-modules',
    '--no-warnings=ExperimentalWarning',
    jest,
    '-c',
    config,
    '--runInBand',
    ...args,
  ]);

let code = step([node, cluster, 'up']);
// ebb itself, installed from this checkout by its chart, as users install it.
if (code === 0)
  code = step([node, deploy, 'install'], { ...process.env, KUBECONFIG: join(STATE_DIR, 'admin.kubeconfig') });
if (code === 0) {
  // Patterns first: jest's array options would swallow positional arguments that follow them.
  code = jestRun([...extra, '--testPathIgnorePatterns=teardown|disruptive']);
  // Suites that restart cluster components run after the others, so they cannot disturb them.
  if (code === 0 && extra.length === 0) code = jestRun(['disruptive']);
  if (code !== 0) dump();
} else {
  dump();
}
// Set EBB_KEEP_CLUSTER=1 to leave the cluster up after the suites, for debugging.
if (process.env.EBB_KEEP_CLUSTER !== '1') {
  const teardown = jestRun(['teardown']);
  if (code === 0) code = teardown;
}
process.exitCode = code;
