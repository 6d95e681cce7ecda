// `npm run quickstart` (through bin/quickstart.js, which first installs the dependencies and the
// project's Node 24): the local cluster, ebb installed by its chart, the hello world sample Ready,
// a request through the gateway, scale to zero and a timed request from zero, then what to try
// next. Each step is idempotent, so running it again picks up where a failed run stopped. With
// --use-current-context it installs on the user's cluster instead of the local one.
// A failure is one message that says what to do, and exit code 1; never a stack trace.
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, VersionApi } from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { binary, STATE_DIR, tool } from './paths.ts';
import { errorMessage } from './shell.ts';
import {
  forwardedPort,
  helloWorldService,
  imageFlags,
  nextSteps,
  parseQuickstartArgs,
  PUBLIC_HELLO_IMAGE,
  QUICKSTART_NAMESPACE,
  QUICKSTART_WINDOW,
  serviceProgress,
  USAGE,
  type HelloService,
  type QuickstartOptions,
} from './quickstart-plan.ts';
import { NAMESPACE } from './release.ts';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const CLUSTER = here('./cluster.ts');
const DEPLOY = here('./deploy.ts');
const SAMPLE = here('../../config/samples/helloworld.yaml');
const GATEWAY = 'ebb-gateway';
const READY_TIMEOUT_MS = 5 * 60_000;
const ZERO_TIMEOUT_MS = 4 * 60_000;
const REQUEST_TIMEOUT_MS = 90_000;

class Failure extends Error {}

const started = Date.now();
function say(message: string): void {
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[quickstart ${t} s] ${message}\n`);
}
function step(n: number, title: string): void {
  say(`── ${n}/5 ${title}`);
}

const abort = new AbortController();
const children = new Set<ChildProcess>();
process.once('SIGINT', () => {
  abort.abort();
  for (const child of children) child.kill('SIGINT');
});

/** Runs a command with its output on the terminal; resolves with its exit code. */
function run(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  input?: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: [input === undefined ? 'inherit' : 'pipe', 'inherit', 'inherit'],
      env,
    });
    children.add(child);
    child.on('error', (error: NodeJS.ErrnoException) => {
      children.delete(child);
      reject(
        error.code === 'ENOENT'
          ? new Failure(`${command} is not installed or not on PATH; install it and run the quickstart again`)
          : error,
      );
    });
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve(code ?? (signal === null ? 1 : 130));
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

// ---- The cluster -----------------------------------------------------------------------------

interface Cluster {
  kubeconfig: string;
  local: boolean;
  kubectl: string[];
  kc: KubeConfig;
}

async function localCluster(): Promise<Cluster> {
  step(1, 'the local cluster (npm run cluster:up)');
  const code = await run(process.execPath, [CLUSTER, 'up'], process.env);
  if (abort.signal.aborted) throw new Failure('interrupted');
  if (code !== 0) {
    throw new Failure(
      'the local cluster did not come up (its message is above). `npm run cluster:status` shows which part is down; fix the cause and run the quickstart again.',
    );
  }
  const kubeconfig = join(STATE_DIR, 'admin.kubeconfig');
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return { kubeconfig, local: true, kubectl: [binary('kubectl'), '--kubeconfig', kubeconfig], kc };
}

async function currentContext(): Promise<Cluster> {
  step(1, 'your cluster (the current kubectl context)');
  const kc = new KubeConfig();
  try {
    kc.loadFromDefault();
  } catch (error) {
    throw new Failure(`cannot read your kubeconfig: ${errorMessage(error)}`);
  }
  const context = kc.getCurrentContext();
  const server = kc.getCurrentCluster()?.server;
  if (context === '' || server === undefined) {
    throw new Failure(
      'no current context in your kubeconfig (KUBECONFIG or ~/.kube/config): pick one with `kubectl config use-context NAME`, or drop --use-current-context to use the local cluster.',
    );
  }
  try {
    const version = await kc.makeApiClient(VersionApi).getCode();
    say(`context ${context}: Kubernetes ${version.gitVersion} at ${server}`);
  } catch (error) {
    throw new Failure(
      `the cluster of context ${context} at ${server} does not answer: ${errorMessage(error)}. Check it with \`kubectl cluster-info\`, or drop --use-current-context to use the local cluster.`,
    );
  }
  const kubeconfig = process.env.KUBECONFIG ?? join(homedir(), '.kube', 'config');
  const kubectl = tool('kubectl');
  return { kubeconfig, local: false, kubectl: [kubectl], kc };
}

async function installEbb(cluster: Cluster, options: QuickstartOptions): Promise<void> {
  step(2, 'ebb, installed with its Helm chart (npm run deploy)');
  const extra = options.image === undefined ? [] : imageFlags(options.image);
  const code = await run(process.execPath, [DEPLOY, 'install', ...extra], {
    ...process.env,
    KUBECONFIG: cluster.kubeconfig,
  });
  if (abort.signal.aborted) throw new Failure('interrupted');
  if (code !== 0)
    throw new Failure('ebb did not install (why is above); fix it and run the quickstart again.');
}

// ---- The hello world Service -----------------------------------------------------------------

async function applyHello(cluster: Cluster, options: QuickstartOptions): Promise<HelloService> {
  step(3, 'the hello world sample (config/samples/helloworld.yaml)');
  const service = helloWorldService(
    await readFile(SAMPLE, 'utf8'),
    cluster.local ? undefined : (options.sampleImage ?? PUBLIC_HELLO_IMAGE),
  );
  say(
    `applying Service ${QUICKSTART_NAMESPACE}/${service.metadata.name} with autoscaling.knative.dev/window: ${QUICKSTART_WINDOW}, so that it scales to zero about 40 s after its last request rather than 90 s`,
  );
  const [kubectl = 'kubectl', ...args] = cluster.kubectl;
  const code = await run(kubectl, [...args, 'apply', '-f', '-'], process.env, JSON.stringify(service));
  if (code !== 0)
    throw new Failure('kubectl apply of the hello world Service failed (its message is above).');
  return service;
}

interface Ready {
  url: string;
  host: string;
  revision: string;
}

async function waitReady(cluster: Cluster, name: string): Promise<Ready> {
  const custom = cluster.kc.makeApiClient(CustomObjectsApi);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = '';
  for (;;) {
    let raw: unknown;
    try {
      raw = await custom.getNamespacedCustomObject({
        group: 'serving.knative.dev',
        version: 'v1',
        plural: 'services',
        namespace: QUICKSTART_NAMESPACE,
        name,
      });
    } catch (error) {
      raw = undefined;
      if ((error as { code?: number }).code !== 404) say(`reading Service ${name}: ${errorMessage(error)}`);
    }
    const progress = serviceProgress(raw);
    if (progress.kind === 'ready') {
      say(`Service ${name} is Ready: ${progress.url} (revision ${progress.revision})`);
      return progress;
    }
    if (progress.line !== last) say(`  ${progress.line}`);
    last = progress.line;
    const k = cluster.kubectl.join(' ');
    if (progress.kind === 'failed') {
      throw new Failure(
        `Service ${name} is not Ready: ${progress.line}. See \`${k} describe ksvc ${name}\` and \`${k} get pods\`.`,
      );
    }
    if (Date.now() > deadline) {
      throw new Failure(
        `Service ${name} not Ready after ${READY_TIMEOUT_MS / 60_000} min: ${progress.line}. See \`${k} describe ksvc ${name}\` and \`${k} -n ${NAMESPACE} logs deploy/ebb-controller\`.`,
      );
    }
    await sleep(500, undefined, { signal: abort.signal });
  }
}

// ---- The gateway -----------------------------------------------------------------------------

interface Gateway {
  host: string;
  port: number;
  /** What a user types to reach it from this machine. */
  display: string;
  close(): void;
}

function tcpReachable(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => {
      done(true);
    });
    socket.once('timeout', () => {
      done(false);
    });
    socket.once('error', () => {
      done(false);
    });
  });
}

/** The gateway's ClusterIP when this machine reaches it (the local cluster routes its Service range
 * here), or else a `kubectl port-forward` to it on a free local port. */
async function gateway(cluster: Cluster): Promise<Gateway> {
  const svc = await cluster.kc
    .makeApiClient(CoreV1Api)
    .readNamespacedService({ name: GATEWAY, namespace: NAMESPACE });
  const ip = svc.spec?.clusterIP;
  const port = svc.spec?.ports?.[0]?.port ?? 80;
  if (ip !== undefined && ip !== 'None' && (await tcpReachable(ip, port, 1500))) {
    return {
      host: ip,
      port,
      display: `http://${ip}${port === 80 ? '' : `:${port}`}`,
      close: () => undefined,
    };
  }
  say(`the gateway's ClusterIP ${ip ?? '(none)'} is not reachable from here: using kubectl port-forward`);
  const [kubectl = 'kubectl', ...args] = cluster.kubectl;
  const child = spawn(kubectl, [...args, '-n', NAMESPACE, 'port-forward', `svc/${GATEWAY}`, `:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  const local = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new Failure(
          `kubectl port-forward to ${NAMESPACE}/${GATEWAY} did not start in 15 s: ${output.trim()}`,
        ),
      );
    }, 15_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const found = forwardedPort(output);
      if (found !== undefined) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Failure(`kubectl port-forward to ${NAMESPACE}/${GATEWAY} exited: ${output.trim()}`));
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Failure(`cannot run kubectl: ${error.message}`));
    });
  });
  return {
    host: '127.0.0.1',
    port: local,
    display: `http://127.0.0.1:${local}`,
    close: () => {
      child.kill();
      children.delete(child);
    },
  };
}

interface Answer {
  status: number;
  body: string;
  ms: number;
}

function get(gw: Gateway, host: string): Promise<Answer> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: gw.host,
        port: gw.port,
        path: '/',
        headers: { host },
        timeout: REQUEST_TIMEOUT_MS,
        signal: abort.signal,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - t0 });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS / 1000} s`)));
    req.on('error', (error) => {
      reject(new Failure(`GET ${gw.display}/ with Host ${host}: ${errorMessage(error)}`));
    });
    req.end();
  });
}

async function expectHello(gw: Gateway, host: string, what: string): Promise<Answer> {
  const answer = await get(gw, host);
  if (answer.status !== 200) {
    throw new Failure(
      `${what}: the gateway answered ${answer.status}: ${answer.body.trim().slice(0, 300)}. See \`kubectl -n ${NAMESPACE} logs deploy/${GATEWAY}\`.`,
    );
  }
  return answer;
}

// ---- Scale to zero ---------------------------------------------------------------------------

interface Scale {
  desired: number;
  pods: number;
}

async function scale(cluster: Cluster, revision: string): Promise<Scale> {
  const apps = cluster.kc.makeApiClient(AppsV1Api);
  const core = cluster.kc.makeApiClient(CoreV1Api);
  const deployment = await apps.readNamespacedDeployment({
    name: `${revision}-deployment`,
    namespace: QUICKSTART_NAMESPACE,
  });
  const pods = await core.listNamespacedPod({
    namespace: QUICKSTART_NAMESPACE,
    labelSelector: `serving.knative.dev/revision=${revision}`,
  });
  return { desired: deployment.spec?.replicas ?? 0, pods: pods.items.length };
}

async function waitZero(cluster: Cluster, revision: string): Promise<number> {
  const t0 = Date.now();
  const deadline = t0 + ZERO_TIMEOUT_MS;
  let last = '';
  for (;;) {
    const s = await scale(cluster, revision);
    const line = `replicas wanted ${s.desired}, pods ${s.pods}`;
    if (line !== last) say(`  ${line}`);
    last = line;
    if (s.desired === 0 && s.pods === 0) return (Date.now() - t0) / 1000;
    if (Date.now() > deadline) {
      throw new Failure(
        `revision ${revision} did not scale to zero in ${ZERO_TIMEOUT_MS / 60_000} min (${line}). See \`${cluster.kubectl.join(' ')} get podautoscalers ${revision} -o yaml\` and \`kubectl -n ${NAMESPACE} logs deploy/ebb-autoscaler\`.`,
      );
    }
    await sleep(1000, undefined, { signal: abort.signal });
  }
}

// ---- Main ------------------------------------------------------------------------------------

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseQuickstartArgs(argv);
  if (parsed.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`quickstart: ${parsed.message}\n\n${USAGE}\n`);
    return 2;
  }
  const { options } = parsed;
  const cluster = options.currentContext ? await currentContext() : await localCluster();
  await installEbb(cluster, options);
  const service = await applyHello(cluster, options);
  const ready = await waitReady(cluster, service.metadata.name);

  step(4, `a request through the gateway (Host: ${ready.host})`);
  const gw = await gateway(cluster);
  try {
    const before = await scale(cluster, ready.revision);
    const first = await expectHello(gw, ready.host, 'the first request');
    const from = before.pods === 0 ? ' (it was at zero, so this included a cold start)' : '';
    say(
      `curl -H 'Host: ${ready.host}' ${gw.display}/  →  ${first.status} "${first.body.trim()}" in ${first.ms.toFixed(0)} ms${from}`,
    );

    step(5, 'scale to zero, then a request from zero');
    say(
      `no traffic now: the revision goes inactive after its ${QUICKSTART_WINDOW} window and loses its last pod after the scale-to-zero grace period (30 s by default), which then drains for 10 s`,
    );
    const seconds = await waitZero(cluster, ready.revision);
    say(`scaled to zero ${seconds.toFixed(0)} s after the last request`);
    const cold = await expectHello(gw, ready.host, 'the request from zero');
    say(`from zero: ${cold.status} "${cold.body.trim()}" in ${cold.ms.toFixed(0)} ms`);
    const after = await scale(cluster, ready.revision);

    process.stdout.write(
      [
        '',
        `Your Knative Service ${QUICKSTART_NAMESPACE}/${service.metadata.name} runs on ebb.`,
        `  URL          ${ready.url}  (through the gateway: Host ${ready.host} at ${gw.display})`,
        `  revision     ${ready.revision}, now ${after.pods} pod(s)`,
        `  cold start   ${cold.ms.toFixed(0)} ms from zero pods to the answer`,
        `  total        ${((Date.now() - started) / 1000).toFixed(0)} s for this quickstart`,
      ].join('\n') +
        '\n' +
        nextSteps({
          host: ready.host,
          gateway: cluster.local
            ? gw.display
            : `http://127.0.0.1:8080 (after: kubectl -n ${NAMESPACE} port-forward svc/${GATEWAY} 8080:80)`,
          ...(cluster.local
            ? { local: { kubeconfig: cluster.kubeconfig, kubectlDir: dirname(binary('kubectl')) } }
            : {}),
        }),
    );
  } finally {
    gw.close();
  }
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (abort.signal.aborted) {
    say('interrupted. Everything so far stays; run `npm run quickstart` again to go on.');
    process.exitCode = 130;
  } else {
    say(`failed: ${error instanceof Failure ? error.message : errorMessage(error)}`);
    process.exitCode = 1;
  }
}
