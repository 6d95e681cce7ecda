// ebb's node agent: a kubelet for the local cluster that runs each Pod's containers as processes
// in their own network and mount namespaces and memory cgroups. It registers the node, keeps its
// Lease fresh, runs the pods bound to it, and serves container logs. On start it clears sandboxes
// and cgroups a crashed agent left behind, so a restart is always clean. A pod's failure is that
// pod's status (see pod-worker.ts); nothing a pod spec holds stops the agent, and so the other pods.
import {
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  VersionApi,
  Watch,
  type V1Pod,
} from '@kubernetes/client-node';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { limitRequestTime } from '../../../src/controller/kubeconfig.ts';
import { errorMessage } from '../shell.ts';
import { NODE_NAME } from '../topology.ts';
import { startLogServer } from './log-server.ts';
import { MEMORY_HIERARCHY, MemoryCgroups } from './memory-cgroup.ts';
import { NodeHeartbeat } from './node.ts';
import { PodWorker } from './pod-worker.ts';
import { AddressPool, listSandboxNamespaces, removeNetns } from './sandbox.ts';
import { VolumeBuilder } from './volumes.ts';

const stateDir = process.env.EBB_AGENT_STATE ?? '/tmp/ebb-agent';
const pkiDir = process.env.EBB_PKI_DIR ?? join(stateDir, 'pki');

function log(fields: Record<string, unknown>, msg: string): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), msg, ...fields })}\n`);
}

// The last resort: every pod's work is guarded where it runs, and an error that still gets here
// is a bug to fix there. Exiting would stop every pod on the node for it.
for (const event of ['unhandledRejection', 'uncaughtException'] as const) {
  process.on(event, (error: unknown) => {
    log(
      { event, error: errorMessage(error), stack: (error as Error | undefined)?.stack },
      'BUG: unguarded error',
    );
  });
}

const kc = new KubeConfig();
kc.loadFromDefault();
// A status write stuck on a dead connection would hold back every later one for this pod.
limitRequestTime(kc);
const core = kc.makeApiClient(CoreV1Api);
const coordination = kc.makeApiClient(CoordinationV1Api);
const version = (await kc.makeApiClient(VersionApi).getCode()).gitVersion;

for (const ns of await listSandboxNamespaces()) {
  log({ netns: ns }, 'removing sandbox left by a previous agent');
  await removeNetns(ns);
}
const cgroups = await MemoryCgroups.open(MEMORY_HIERARCHY, log);
try {
  const pods = await cgroups.removeAll();
  if (pods.length > 0) log({ pods: pods.length }, 'removed cgroups left by a previous agent');
} catch (error) {
  log({ error: errorMessage(error) }, 'removing cgroups left by a previous agent failed');
}
const podsDir = join(stateDir, 'pods');
await mkdir(podsDir, { recursive: true });

const heartbeat = new NodeHeartbeat(core, coordination, version);
for (let attempt = 1; ; attempt++) {
  try {
    await heartbeat.register();
    break;
  } catch (error) {
    log({ attempt, error: (error as Error).message }, 'node registration failed; retrying');
    await new Promise((r) => setTimeout(r, Math.min(attempt * 500, 5000)));
  }
}
log({ node: NODE_NAME, version }, 'node registered');

const pool = new AddressPool();
const volumes = new VolumeBuilder(core);
const workers = new Map<string, PodWorker>();

/** Starts, updates or finishes the worker of one pod. Never throws: it runs in the watch's
 * callback, and a pod's failure must not end the watch for the others. */
function sync(pod: V1Pod): void {
  try {
    syncPod(pod);
  } catch (error) {
    log({ pod: pod.metadata?.name, error: errorMessage(error) }, 'pod sync failed');
  }
}

function syncPod(pod: V1Pod): void {
  const uid = pod.metadata?.uid;
  if (uid === undefined || pod.spec?.nodeName !== NODE_NAME) return;
  const existing = workers.get(uid);
  if (existing !== undefined) {
    existing.update(pod);
    return;
  }
  if (pod.metadata?.deletionTimestamp !== undefined) {
    // Never started here (e.g. the agent restarted): nothing to stop, just finish the delete.
    void core
      .deleteNamespacedPod({
        name: pod.metadata.name ?? '',
        namespace: pod.metadata.namespace ?? 'default',
        gracePeriodSeconds: 0,
        body: { gracePeriodSeconds: 0, preconditions: { uid } },
      })
      .catch(() => undefined);
    return;
  }
  const worker = new PodWorker(pod, { core, volumes, pool, cgroups, podsDir, log });
  workers.set(uid, worker);
  worker.start().catch((error: unknown) => {
    log({ pod: pod.metadata?.name, error: errorMessage(error) }, 'pod start failed; retrying');
    workers.delete(uid);
    const retry = () => {
      const ref = { name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? 'default' };
      core.readNamespacedPod(ref).then(sync, () => undefined);
    };
    void worker.terminate(0, false).finally(() => setTimeout(retry, 2000));
  });
}

/** Pods deleted while the watch was down are stopped on the next relist. */
async function relist(): Promise<void> {
  const list = await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${NODE_NAME}` });
  const live = new Set(list.items.map((p) => p.metadata?.uid));
  for (const pod of list.items) sync(pod);
  for (const [uid, worker] of workers) {
    if (worker.finished) workers.delete(uid);
    else if (!live.has(uid)) void worker.terminate(0, false).then(() => workers.delete(uid));
  }
}

let stopping = false;
let abort: AbortController | undefined;
async function watchLoop(): Promise<void> {
  let backoff = 500;
  while (!stopping) {
    try {
      await relist();
      await new Promise<void>((resolve, reject) => {
        const watch = new Watch(kc);
        // client-node gives up on a watch after 30 s without bytes, which a quiet node's watch
        // is; the server ends it cleanly first instead, and the loop starts the next one.
        (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = 270_000;
        void watch
          .watch(
            '/api/v1/pods',
            { fieldSelector: `spec.nodeName=${NODE_NAME}`, allowWatchBookmarks: true, timeoutSeconds: 240 },
            (type: string, pod: V1Pod) => {
              if (type === 'ADDED' || type === 'MODIFIED') sync(pod);
              else if (type === 'DELETED') {
                const w = workers.get(pod.metadata?.uid ?? '');
                if (w !== undefined && !w.finished) void w.terminate(0, false);
              }
            },
            (error: unknown) => {
              if (error === null || error === undefined) resolve();
              else reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
            },
          )
          .then((a) => {
            abort = a;
            // Connected: a later failure starts its back-off afresh.
            backoff = 500;
          }, reject);
      });
      backoff = 500;
    } catch (error) {
      log({ error: (error as Error).message }, 'pod watch failed; relisting');
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 10_000);
    }
  }
}

const logServer = startLogServer(pkiDir, (namespace, pod, container) => {
  for (const w of workers.values()) {
    if (!w.finished && w.namespace === namespace && w.name === pod) return w.logPath(container);
  }
  return undefined;
});

async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  log({}, 'stopping: terminating pods');
  abort?.abort();
  heartbeat.stop();
  logServer.close();
  await Promise.all([...workers.values()].map((w) => w.terminate(2, false)));
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());

await watchLoop();
