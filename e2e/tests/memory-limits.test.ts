// Memory limits as a node enforces them (Knative's TestCustomResourcesLimits relies on it): a
// container that allocates past resources.limits.memory is OOM-killed and reports it as the
// kubelet does, OOMKilled with exit code 137, then restarts per its restartPolicy; one within its
// limit runs on, and so do the node's other pods. Seen from inside, each container's memory cgroup
// carries its own limit, or none.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { V1Container, V1ContainerStatus, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import { z } from 'zod';
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
let steady: V1ContainerStatus | undefined;

const LIMIT = '64Mi';
const LIMIT_BYTES = 64 * 1024 * 1024;
/** The test apps' images run node from here (e2e/images/Dockerfile). */
const NODE = '/usr/local/bin/node';
/** Buffers filled, so every page of them is resident. */
const ALLOCATE_FOREVER = 'const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1));';
const ALLOCATE_8_MIB =
  'const a = []; for (let i = 0; i < 8; i++) a.push(Buffer.alloc(1 << 20, 1)); console.log("allocated"); setInterval(() => a.length, 1000);';
/** Run in a container: its memory cgroup's limit, usage and processes, from cgroup v1's memory
 * controller or else cgroup v2's unified hierarchy. */
const READ_MEMORY_CGROUP = `
const fs = require('node:fs');
const read = (file) => fs.readFileSync('/sys/fs/cgroup/' + file, 'utf8').trim();
const v1 = fs.existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes');
console.log(JSON.stringify(v1
  ? { limit: read('memory/memory.limit_in_bytes'), usage: read('memory/memory.usage_in_bytes'), procs: read('memory/cgroup.procs') }
  : { limit: read('memory.max'), usage: read('memory.current'), procs: read('cgroup.procs') }));
`;

const createPod = (name: string, container: Partial<V1Container>, spec: Partial<V1PodSpec> = {}) =>
  createTestPod(ns, name, container, spec);
const readPod = (name: string): Promise<V1Pod> => core.readNamespacedPod({ name, namespace: ns });

const limited = (command: string): Partial<V1Container> => ({
  command: [NODE, '-e', command],
  resources: { requests: { memory: LIMIT }, limits: { memory: LIMIT } },
});

const MemoryCgroup = z
  .object({ limit: z.string(), usage: z.string(), procs: z.string() })
  .transform(({ limit, usage, procs }) => {
    // cgroup v2 writes "max" for no limit; v1 the largest page-aligned value, far above 2^60.
    const bytes = limit === 'max' ? undefined : BigInt(limit);
    return {
      /** Bytes, or undefined when the cgroup has no limit. */
      limit: bytes !== undefined && bytes > 1n << 60n ? undefined : bytes,
      usage: Number(usage),
      /** The processes in the cgroup, as the container's own pid namespace numbers them. */
      procs: procs.split('\n'),
    };
  });

/** The memory cgroup of a pod's container, read from inside it. */
async function memoryCgroup(pod: string): Promise<z.infer<typeof MemoryCgroup>> {
  return MemoryCgroup.parse(
    JSON.parse(await kubectl('exec', '-n', ns, pod, '--', NODE, '-e', READ_MEMORY_CGROUP)),
  );
}

beforeAll(async () => {
  ns = await createNamespace('e2e-memory-limits');
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

  it('runs a container within its limit, its process in a memory cgroup with that limit', async () => {
    await createPod('within', limited(ALLOCATE_8_MIB));
    await eventually('pod within to allocate', async () =>
      (await kubectl('logs', '-n', ns, 'within')).includes('allocated') ? true : undefined,
    );
    const status = (await readPod('within')).status?.containerStatuses?.[0];
    expect(status?.state?.running).toBeDefined();
    expect(status?.restartCount).toBe(0);
    const cgroup = await memoryCgroup('within');
    expect(cgroup.limit).toBe(BigInt(LIMIT_BYTES));
    expect(cgroup.usage).toBeGreaterThan(8 * 1024 * 1024);
    // The container's command is its pid 1.
    expect(cgroup.procs).toContain('1');
  });

  it('puts a container without a limit in a memory cgroup without one', async () => {
    await eventually(
      'pod steady running',
      async () => (await readPod('steady')).status?.containerStatuses?.[0]?.state?.running,
    );
    expect((await memoryCgroup('steady')).limit).toBeUndefined();
  });

  it('keeps the node Ready and its other pods running throughout', async () => {
    await nodesSchedulable();
    const pod = await readPod('steady');
    expect(isPodReady(pod)).toBe(true);
    const status = pod.status?.containerStatuses?.[0];
    expect(status?.restartCount).toBe(steady?.restartCount);
    expect(status?.containerID).toBe(steady?.containerID);
  });
});
