// Memory limits as a real node enforces them (Knative's TestCustomResourcesLimits relies on it): a
// container that allocates past resources.limits.memory is OOM-killed and reports it as the
// kubelet does, OOMKilled with exit code 137, then restarts per its restartPolicy; one within its
// limit runs on, and so do the node's other pods. On the local cluster each container has its own
// memory cgroup with the limit, gone with its pod.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { V1Container, V1ContainerStatus, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CGROUP_PARENT } from '../cluster/agent/memory-cgroup.ts';
import { Daemons } from '../cluster/daemons.ts';
import { STATE_DIR } from '../cluster/paths.ts';
import {
  core,
  createNamespace,
  createTestPod,
  deleteNamespace,
  eventually,
  isPodReady,
  kubectl,
  nodesSchedulable,
} from './kube.ts';

let ns = '';
/** The local cluster's node agent; undefined on another cluster. */
let agentPid: number | undefined;
let steady: V1ContainerStatus | undefined;

const LIMIT = '64Mi';
const LIMIT_BYTES = 64 * 1024 * 1024;
/** Buffers filled, so every page of them is resident. */
const ALLOCATE_FOREVER = 'const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1));';
const ALLOCATE_8_MIB =
  'const a = []; for (let i = 0; i < 8; i++) a.push(Buffer.alloc(1 << 20, 1)); console.log("allocated"); setInterval(() => a.length, 1000);';

/** The local cluster's containers are host processes: they run the node the agent runs. An image
 * of the test apps has node on its PATH. */
const node = () => (agentPid === undefined ? 'node' : process.execPath);

const createPod = (name: string, container: Partial<V1Container>, spec: Partial<V1PodSpec> = {}) =>
  createTestPod(ns, name, container, spec);
const readPod = (name: string): Promise<V1Pod> => core.readNamespacedPod({ name, namespace: ns });

const limited = (command: string): Partial<V1Container> => ({
  command: [node(), '-e', command],
  resources: { requests: { memory: LIMIT }, limits: { memory: LIMIT } },
});

/** The local cluster's cgroup for a pod's container. */
const cgroupOf = (pod: V1Pod, container = 'main') => join(CGROUP_PARENT, pod.metadata?.uid ?? '', container);

beforeAll(async () => {
  ns = await createNamespace('e2e-memory-limits');
  agentPid = await new Daemons(STATE_DIR).pid('ebb-node-agent');
  await createPod('steady', {
    ports: [{ containerPort: 8080 }],
    readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
  });
  steady = await eventually('pod steady Ready', async () => {
    const pod = await readPod('steady');
    return isPodReady(pod) ? pod.status?.containerStatuses?.[0] : undefined;
  });
});

afterAll(async () => {
  await deleteNamespace(ns);
});

describe('memory limits', () => {
  it('OOM-kills a container that allocates past its limit, reports OOMKilled with exit code 137, and restarts it', async () => {
    await createPod('hog', limited(ALLOCATE_FOREVER));
    const status = await eventually('container hog to be OOM-killed and restarted', async () => {
      const s = (await readPod('hog')).status?.containerStatuses?.[0];
      return s?.lastState?.terminated !== undefined && s.restartCount > 0 ? s : undefined;
    });
    expect(status.lastState?.terminated).toMatchObject({ reason: 'OOMKilled', exitCode: 137 });
  });

  it('leaves a container OOM-killed under restartPolicy Never terminated, and the pod Failed', async () => {
    await createPod('hog-once', limited(ALLOCATE_FOREVER), { restartPolicy: 'Never' });
    const pod = await eventually('pod hog-once Failed', async () => {
      const p = await readPod('hog-once');
      return p.status?.phase === 'Failed' ? p : undefined;
    });
    const status = pod.status?.containerStatuses?.[0];
    expect(status?.state?.terminated).toMatchObject({ reason: 'OOMKilled', exitCode: 137 });
    expect(status?.restartCount).toBe(0);
  });

  it('runs a container within its limit, in a cgroup with that limit that goes with its pod', async () => {
    await createPod('within', limited(ALLOCATE_8_MIB));
    await eventually('pod within to allocate', async () =>
      (await kubectl('logs', '-n', ns, 'within')).includes('allocated') ? true : undefined,
    );
    const pod = await readPod('within');
    const status = pod.status?.containerStatuses?.[0];
    expect(status?.state?.running).toBeDefined();
    expect(status?.restartCount).toBe(0);
    if (agentPid === undefined) return;
    const cgroup = cgroupOf(pod);
    expect(Number(await readFile(join(cgroup, 'memory.limit_in_bytes'), 'utf8'))).toBe(LIMIT_BYTES);
    expect(Number(await readFile(join(cgroup, 'memory.memsw.limit_in_bytes'), 'utf8'))).toBe(LIMIT_BYTES);
    const usage = Number(await readFile(join(cgroup, 'memory.usage_in_bytes'), 'utf8'));
    expect(usage).toBeGreaterThan(8 * 1024 * 1024);
    // The container's process is in it, and not the agent.
    const procs = (await readFile(join(cgroup, 'cgroup.procs'), 'utf8')).split('\n');
    expect(procs).toContain(status?.containerID?.replace('ebb://', ''));
    expect(procs).not.toContain(String(agentPid));
    await core.deleteNamespacedPod({ name: 'within', namespace: ns });
    await eventually('pod within gone', async () =>
      (await core.listNamespacedPod({ namespace: ns })).items.every((p) => p.metadata?.name !== 'within')
        ? true
        : undefined,
    );
    expect(existsSync(join(CGROUP_PARENT, pod.metadata?.uid ?? ''))).toBe(false);
  });

  it('puts a container without a limit in a cgroup without one', async () => {
    const pod = await eventually('pod steady running', async () => {
      const p = await readPod('steady');
      return p.status?.containerStatuses?.[0]?.state?.running === undefined ? undefined : p;
    });
    if (agentPid === undefined) return;
    const limit = BigInt((await readFile(join(cgroupOf(pod), 'memory.limit_in_bytes'), 'utf8')).trim());
    // The kernel's "unlimited": the largest page-aligned value.
    expect(limit).toBeGreaterThan(1n << 60n);
  });

  it('keeps the node Ready and its other pods running throughout', async () => {
    await nodesSchedulable();
    const pod = await readPod('steady');
    expect(isPodReady(pod)).toBe(true);
    const status = pod.status?.containerStatuses?.[0];
    expect(status?.restartCount).toBe(steady?.restartCount);
    expect(status?.containerID).toBe(steady?.containerID);
    if (agentPid !== undefined) expect(await new Daemons(STATE_DIR).pid('ebb-node-agent')).toBe(agentPid);
  });
});
