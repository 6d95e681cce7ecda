// `npm run test:e2e`: brings the local cluster up (or reuses it), installs ebb with `npm run deploy`,
// runs the end-to-end suites, and on failure prints the cluster's events and the tail of every
// component log. EBB_E2E_CLUSTER picks the cluster:
//   local (default)  the local cluster, brought up and torn down here;
//   current          the cluster KUBECONFIG names (kind in .github/workflows/e2e-kind.yaml), left
//                    as it is; ebb is installed with EBB_E2E_HELM_ARGS (its image), and the suites
//                    that restart or inspect the local cluster's own daemons are left out.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STATE_DIR, tool } from './cluster/paths.ts';
import { e2eHelmArgs } from './cluster/release.ts';
import { LineTail, type StepResult, summarize } from './run-summary.ts';

const node = process.execPath;
const cluster = new URL('./cluster/cluster.ts', import.meta.url).pathname;
const deploy = new URL('./cluster/deploy.ts', import.meta.url).pathname;
const conformance = new URL('./conformance/run.ts', import.meta.url).pathname;
const jest = new URL('../node_modules/jest/bin/jest.js', import.meta.url).pathname;
const config = new URL('./jest.config.js', import.meta.url).pathname;

const steps: StepResult[] = [];
const reports = mkdtempSync(join(tmpdir(), 'ebb-e2e-'));

/** Runs one step with its output passed through, and records its exit code and last lines. */
async function step(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  reportFile?: string,
): Promise<number> {
  const tail = new LineTail(40);
  const child = spawn(args[0] ?? '', args.slice(1), { stdio: ['inherit', 'pipe', 'pipe'], env });
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    tail.push(chunk.toString('utf8'));
  });
  child.stderr.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    tail.push(chunk.toString('utf8'));
  });
  const code = await new Promise<number>((resolve) => {
    child.on('error', (error) => {
      tail.push(`cannot run ${args[0] ?? ''}: ${error.message}\n`);
      resolve(1);
    });
    child.on('close', (status) => {
      resolve(status ?? 1);
    });
  });
  let report: unknown;
  if (reportFile !== undefined) {
    try {
      report = JSON.parse(readFileSync(reportFile, 'utf8'));
    } catch {
      report = undefined; // the run died before jest wrote it; the tail says why
    }
  }
  steps.push({ name, code, tail: tail.get(), report });
  return code;
}

function dump(kubeconfig: string, local: boolean): void {
  const kubectl = (...args: string[]) =>
    spawnSync(tool('kubectl'), ['--kubeconfig', kubeconfig, ...args], { stdio: 'inherit' });
  process.stderr.write('\n===== cluster events =====\n');
  kubectl('get', 'events', '-A', '--sort-by=.lastTimestamp');
  kubectl('get', 'pods', '-A', '-o', 'wide');
  for (const component of ['controller', 'webhook', 'gateway', 'autoscaler']) {
    process.stderr.write(`\n===== ebb-${component} (last 40 lines) =====\n`);
    kubectl('-n', 'ebb-system', 'logs', `deploy/ebb-${component}`, '--tail=40');
  }
  if (!local) return;
  const logs = join(STATE_DIR, 'logs');
  for (const file of readdirSync(logs, { withFileTypes: true })) {
    if (!file.isFile()) continue;
    const lines = readFileSync(join(logs, file.name), 'utf8').trimEnd().split('\n');
    process.stderr.write(`\n===== ${file.name} (last 40 lines) =====\n${lines.slice(-40).join('\n')}\n`);
  }
}

const extra = process.argv.slice(2);
const mode = process.env.EBB_E2E_CLUSTER ?? 'local';
if (mode !== 'local' && mode !== 'current') {
  process.stderr.write(`EBB_E2E_CLUSTER=${mode}: want local or current\n`);
  process.exit(2);
}
const local = mode === 'local';
const kubeconfig = local ? join(STATE_DIR, 'admin.kubeconfig') : process.env.KUBECONFIG;
if (kubeconfig === undefined || kubeconfig === '') {
  process.stderr.write('EBB_E2E_CLUSTER=current needs KUBECONFIG naming the cluster to test\n');
  process.exit(2);
}
const env = { ...process.env, KUBECONFIG: kubeconfig };
// The local cluster's own suites: its daemons, its nodes, its teardown.
const localOnly = local
  ? 'teardown|two-node'
  : 'teardown|two-node|cluster.test|informer-restart|node-restart|quickstart-port-forward';
const jestRun = (name: string, args: string[]) => {
  const reportFile = join(reports, `${steps.length}.json`);
  return step(
    name,
    [
      node,
      '--experimental-vm-modules',
      '--no-warnings=ExperimentalWarning',
      jest,
      '-c',
      config,
      '--runInBand',
      // A handle a failed test leaked (a socket, a timer) must not keep CI waiting for its timeout.
      '--forceExit',
      '--json',
      `--outputFile=${reportFile}`,
      ...args,
    ],
    env,
    reportFile,
  );
};

// A local cluster left behind by a run that never got to `cluster down` (a killed session, a
// reboot) holds that run's objects and pods; the suites start from a clean one instead. A running,
// healthy cluster is reused as it is.
if (local && existsSync(STATE_DIR) && (await step('cluster status', [node, cluster, 'status'])) !== 0) {
  process.stderr.write(
    '[e2e] the local cluster is not running as a whole: removing what is left of it first\n',
  );
  steps.pop(); // an unhealthy status is why this runs, not a failure
  await step('cluster down (what an earlier run left)', [node, cluster, 'down']);
}
let code = local ? await step('cluster up', [node, cluster, 'up']) : 0;
// ebb itself, installed from this checkout by its chart, as users install it.
if (code === 0) {
  code = await step('deploy', [node, deploy, 'install', ...(local ? [] : e2eHelmArgs())], env);
}
if (code === 0) {
  // Patterns first: jest's array options would swallow positional arguments that follow them.
  code = await jestRun('suites', [...extra, `--testPathIgnorePatterns=${localOnly}|disruptive`]);
  // Suites that restart cluster components run after the others, so they cannot disturb them; the
  // ones that restart the API server or the whole cluster run last of all, since jest orders the
  // files of one run freely.
  if (code === 0 && extra.length === 0)
    code = await jestRun('suites that restart components', [
      'disruptive',
      `--testPathIgnorePatterns=${localOnly}|informer-restart|node-restart`,
    ]);
  if (code === 0 && extra.length === 0 && local)
    code = await jestRun('the suites that restart the cluster itself', ['informer-restart|node-restart']);
  // A second node joins for the suites that take a node away; the conformance harness's
  // `cluster up` goes back to one (it drains the second first).
  if (code === 0 && extra.length === 0 && local) {
    code = await step('cluster up --nodes 2', [node, cluster, 'up', '--nodes', '2']);
    if (code === 0) code = await jestRun('the suites on two nodes', ['two-node']);
  }
  // Knative's own suites, built from its Go module, against the same installation.
  if (code === 0 && extra.length === 0) code = await step('Knative conformance', [node, conformance], env);
  if (code !== 0) dump(kubeconfig, local);
} else {
  dump(kubeconfig, local);
}
// Set EBB_KEEP_CLUSTER=1 to leave the local cluster up after the suites, for debugging.
if (local && process.env.EBB_KEEP_CLUSTER !== '1') {
  const teardown = await jestRun('teardown', ['teardown']);
  if (code === 0) code = teardown;
}
const summary = summarize(steps);
if (summary.length > 0) process.stderr.write(`\n${summary.join('\n')}\n`);
rmSync(reports, { recursive: true, force: true });
process.exitCode = code;
