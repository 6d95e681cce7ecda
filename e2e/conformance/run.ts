// `npm run test:conformance`: Knative Serving's own conformance suites (and the part of its e2e
// suite that applies without a mesh), built from its Go module, run against ebb. EBB_E2E_CLUSTER
// picks the cluster as for `npm run test:e2e`:
//   local (default)  the local cluster, brought up and ebb deployed if needed; left up afterwards
//   current          the cluster KUBECONFIG names, with ebb already installed
// Arguments: suite names (api, runtime, e2e; default all), then `--` and flags for the Go test
// binaries (e.g. `-- -test.run=TestRevisionTimeout`).
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { STATE_DIR, tool } from '../cluster/paths.ts';
import { count, parseEvents, readEvents, summaryLine, type SuiteReport } from './go-test-events.ts';
import { LEFT_OUT, skipPattern } from './left-out.ts';
import { buildClusterImages } from '../cluster/images/app-images.ts';
import {
  buildKnative,
  KNATIVE_DIR,
  KNATIVE_IMAGE_REPO,
  KNATIVE_SOURCE_DIR,
  SUITES,
  suiteBinary,
  type SuiteName,
} from './knative.ts';

const SYSTEM_NAMESPACE = 'ebb-system';
const GATEWAY_SERVICE = 'ebb-gateway';
/** The namespaces Knative's suites create their objects in (their flag defaults). */
const KNATIVE_TEST_CONFIG: Readonly<Record<string, Record<string, string>>> = {
  'config-deployment': { 'progress-deadline': '120s' },
};
/** The local cluster's stand-in for a load balancer in front of the gateway. */
const INGRESS_SERVICE = 'ebb-conformance-ingress';
/** Knative's test/config files its CI applies, in order: namespaces first. */
const TEST_RESOURCES = [
  'cluster-resources.yaml',
  'test-resources.yaml',
  'resource-quota/resource-quota.yaml',
];

function log(message: string): void {
  process.stderr.write(`[conformance] ${message}\n`);
}

const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const names = (dash === -1 ? argv : argv.slice(0, dash)).filter((a) => a !== '');
const passThrough = dash === -1 ? [] : argv.slice(dash + 1);
for (const name of names) {
  if (!Object.hasOwn(SUITES, name)) {
    process.stderr.write(`unknown suite ${JSON.stringify(name)}: want ${Object.keys(SUITES).join(', ')}\n`);
    process.exit(2);
  }
}
const suites = (names.length > 0 ? names : Object.keys(SUITES)) as SuiteName[];

const mode = process.env.EBB_E2E_CLUSTER ?? 'local';
if (mode !== 'local' && mode !== 'current') {
  process.stderr.write(`EBB_E2E_CLUSTER=${mode}: want local or current\n`);
  process.exit(2);
}
const local = mode === 'local';
const kubeconfig = local ? join(STATE_DIR, 'admin.kubeconfig') : (process.env.KUBECONFIG ?? '');
if (kubeconfig === '') {
  process.stderr.write('EBB_E2E_CLUSTER=current needs KUBECONFIG naming the cluster to test\n');
  process.exit(2);
}

function nodeScript(script: string, args: string[]): number {
  const path = new URL(script, import.meta.url).pathname;
  const result = spawnSync(process.execPath, [path, ...args], {
    stdio: 'inherit',
    env: { ...process.env, KUBECONFIG: kubeconfig },
  });
  return result.status ?? 1;
}

/**
 * The suites find the ingress through GATEWAY_OVERRIDE / GATEWAY_NAMESPACE_OVERRIDE: a Service
 * whose status.loadBalancer.ingress has exactly one address. On a cluster with a load balancer
 * controller, that is `ebb-gateway` installed as a LoadBalancer. The local cluster has none, so the
 * harness adds a LoadBalancer Service of its own in front of the gateway pods and writes its
 * cluster IP as the address, which the machine's kube-proxy rules serve. Returns its name.
 */
async function prepareCluster(core: CoreV1Api): Promise<string> {
  // What Knative's CI applies before its suites, from the module's own test/config: the test
  // namespaces, the ConfigMap and Secret its env tests read, the quota of TestResourceQuotaError.
  for (const file of TEST_RESOURCES) {
    const applied = spawnSync(
      tool('kubectl'),
      ['--kubeconfig', kubeconfig, 'apply', '-f', join(KNATIVE_SOURCE_DIR, 'test', 'config', file)],
      { encoding: 'utf8' },
    );
    if (applied.status !== 0)
      throw new Error(`kubectl apply of Knative's test/config/${file}: ${applied.stderr}`);
  }
  // Knative's CI installs Serving with these settings (test/config/ytt/core), and the suites'
  // waits are sized to them: a revision whose image cannot be pulled fails after 120 s.
  for (const [name, data] of Object.entries(KNATIVE_TEST_CONFIG)) {
    const cm = await core.readNamespacedConfigMap({ namespace: SYSTEM_NAMESPACE, name });
    if (Object.entries(data).every(([k, v]) => cm.data?.[k] === v)) continue;
    await core.replaceNamespacedConfigMap({
      namespace: SYSTEM_NAMESPACE,
      name,
      body: { metadata: cm.metadata, data: { ...cm.data, ...data } },
    });
    log(`${SYSTEM_NAMESPACE}/${name}: set ${JSON.stringify(data)}, as Knative's CI does`);
  }
  const gateway = await core.readNamespacedService({ namespace: SYSTEM_NAMESPACE, name: GATEWAY_SERVICE });
  if ((gateway.status?.loadBalancer?.ingress ?? []).length === 1) return GATEWAY_SERVICE;
  if (!local) {
    throw new Error(
      `Service ${SYSTEM_NAMESPACE}/${GATEWAY_SERVICE} has no single status.loadBalancer.ingress address: Knative's suites reach the gateway through it; install ebb with gateway.service.type=LoadBalancer on a cluster that has a load balancer`,
    );
  }
  const body = {
    metadata: {
      name: INGRESS_SERVICE,
      namespace: SYSTEM_NAMESPACE,
      labels: { 'app.kubernetes.io/part-of': 'ebb-conformance' },
    },
    spec: {
      type: 'LoadBalancer',
      selector: gateway.spec?.selector ?? {},
      ports: (gateway.spec?.ports ?? []).map((p) => ({
        name: p.name,
        port: p.port,
        targetPort: p.targetPort,
        protocol: p.protocol,
      })),
    },
  };
  let svc;
  try {
    svc = await core.createNamespacedService({ namespace: SYSTEM_NAMESPACE, body });
  } catch (error) {
    if ((error as { code?: number }).code !== 409) throw error;
    svc = await core.readNamespacedService({ namespace: SYSTEM_NAMESPACE, name: INGRESS_SERVICE });
  }
  const ip = svc.spec?.clusterIP ?? '';
  if (svc.status?.loadBalancer?.ingress?.[0]?.ip !== ip) {
    await core.replaceNamespacedServiceStatus({
      namespace: SYSTEM_NAMESPACE,
      name: INGRESS_SERVICE,
      body: { metadata: svc.metadata, spec: svc.spec, status: { loadBalancer: { ingress: [{ ip }] } } },
    });
  }
  log(`${SYSTEM_NAMESPACE}/${INGRESS_SERVICE}: the gateway's pods at ${ip}, as the suites' load balancer`);
  return INGRESS_SERVICE;
}

/** Runs one suite under `go tool test2json`, its raw output kept in a log file. */
async function runSuite(name: SuiteName, ingress: string): Promise<SuiteReport> {
  const logs = join(KNATIVE_DIR, 'logs');
  await mkdir(logs, { recursive: true });
  const logFile = join(logs, `${name}.jsonl`);
  const skip = skipPattern(name);
  const args = [
    'tool',
    'test2json',
    '-t',
    '-p',
    name,
    suiteBinary(name),
    '-test.v=test2json',
    '-test.timeout=40m',
    // The suites' tests are parallel; a 2-core machine serves a handful at once.
    '-test.parallel=6',
    ...(skip === undefined ? [] : [`-test.skip=${skip}`]),
    `--kubeconfig=${kubeconfig}`,
    `--dockerrepo=${KNATIVE_IMAGE_REPO}`,
    '--enable-beta',
    ...passThrough,
  ];
  log(`running ${name} (raw events in ${logFile})`);
  const out = createWriteStream(logFile);
  const child = spawn('go', args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      GATEWAY_OVERRIDE: ingress,
      GATEWAY_NAMESPACE_OVERRIDE: SYSTEM_NAMESPACE,
      // Where the suites read and change Knative's ConfigMaps (knative.dev/pkg/system).
      SYSTEM_NAMESPACE,
      GOTOOLCHAIN: 'local',
    },
  });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out.write(chunk);
    text += chunk.toString('utf8');
    // Progress: a line per finished top-level test.
    for (const line of chunk.toString('utf8').split('\n')) {
      const m = /"Action":"(pass|fail|skip)","Package":"[^"]*","Test":"([^"/]+)"/.exec(line);
      if (m !== null) log(`${name} ${m[2] ?? ''}: ${m[1] ?? ''}`);
    }
  });
  await new Promise<void>((resolve) => {
    child.on('close', () => {
      resolve();
    });
  });
  out.end();
  return readEvents(name, parseEvents(text));
}

/** True when ebb's gateway runs on the cluster: then the suites test what is installed, as
 * `npm test` leaves it (`npm run deploy` installs this checkout). */
async function installed(apps: AppsV1Api): Promise<boolean> {
  try {
    const gateway = await apps.readNamespacedDeployment({
      namespace: SYSTEM_NAMESPACE,
      name: GATEWAY_SERVICE,
    });
    return (gateway.status?.availableReplicas ?? 0) > 0;
  } catch {
    return false;
  }
}

const started = Date.now();
if (local && nodeScript('../cluster/cluster.ts', ['up']) !== 0) process.exit(1);
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
if (local && !(await installed(kc.makeApiClient(AppsV1Api)))) {
  if (nodeScript('../cluster/deploy.ts', ['install']) !== 0) process.exit(1);
} else {
  log('testing the ebb installed on the cluster (`npm run deploy` installs this checkout)');
}
await buildKnative(suites);
// The test images just built go into the local registry, which the nodes pull from.
if (local) await buildClusterImages();
const ingress = await prepareCluster(kc.makeApiClient(CoreV1Api));

const reports: SuiteReport[] = [];
for (const name of suites) reports.push(await runSuite(name, ingress));

const lines: string[] = [
  '',
  `Knative Serving conformance (${((Date.now() - started) / 60_000).toFixed(1)} min)`,
];
for (const report of reports) {
  for (const r of report.results.filter((x) => x.outcome === 'fail'))
    lines.push(`  FAIL ${report.suite} ${r.name}: ${r.reason ?? '(no error line; see the raw events)'}`);
  if (report.results.length === 0)
    lines.push(`  ${report.suite}: no test ran: ${report.orphanOutput.slice(-5).join('').trim()}`);
}
for (const name of suites) {
  for (const [test, why] of Object.entries(LEFT_OUT[name])) lines.push(`  left out ${name} ${test}: ${why}`);
}
for (const report of reports) lines.push(summaryLine(report));
process.stdout.write(`${lines.join('\n')}\n`);
process.exitCode = reports.every((r) => r.results.length > 0 && count(r, 'fail') === 0) ? 0 : 1;
