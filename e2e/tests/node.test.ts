// What a node enforces and offers at the pod level, checked as a platform team would before trusting
// a cluster: a locked-down container's user, read-only root, capabilities, no_new_privs, seccomp and
// cgroup limits, seen from inside it; logs, exec, port-forward and cp through the API server; the
// kubelet's own reasons for a non-root violation and an image it cannot pull; and pods reaching each
// other by pod IP, through a ClusterIP Service and by the Service's cluster DNS name.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { V1Container, V1Pod, V1PodSpec, V1Probe } from '@kubernetes/client-node';
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { tool } from '../cluster/paths.ts';
import {
  core,
  createNamespace,
  createTestPod,
  deleteNamespace,
  eventually,
  httpGet,
  isPodReady,
  kubeconfig,
  kubectl,
} from './kube.ts';

let ns = '';

/** The test apps' images run node from here (e2e/images/Dockerfile); they have no shell and no tar. */
const NODE = '/usr/local/bin/node';
/** An image with a shell and tar, which `kubectl cp` runs in the container. */
const DEBIAN = 'dev.local/debian:bookworm';
const NONROOT_UID = 65532;

/** Ready once the test app answers. */
const LISTENING: V1Probe = { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 };

const LOCKED_DOWN: Partial<V1Container> = {
  ports: [{ containerPort: 8080 }],
  readinessProbe: LISTENING,
  securityContext: {
    runAsNonRoot: true,
    runAsUser: NONROOT_UID,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  },
  resources: { limits: { cpu: '100m', memory: '64Mi' } },
};

/** Run in a container: what it is allowed, from its own /proc and its cgroups (v1's memory and cpu
 * controllers, or else v2's unified hierarchy). */
const READ_CONFINEMENT = `
const fs = require('node:fs');
const status = Object.fromEntries(
  fs.readFileSync('/proc/self/status', 'utf8').split('\\n').filter(Boolean).map((line) => line.split(/:\\s+/)),
);
let rootWrite = 'written';
try { fs.writeFileSync('/probe', ''); } catch (error) { rootWrite = error.code; }
const read = (file) => fs.readFileSync('/sys/fs/cgroup/' + file, 'utf8').trim();
const v1 = fs.existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes');
const [cpuQuota, cpuPeriod] = v1
  ? [read('cpu/cpu.cfs_quota_us'), read('cpu/cpu.cfs_period_us')]
  : read('cpu.max').split(' ');
console.log(JSON.stringify({
  uid: process.getuid(),
  rootWrite,
  capEff: status.CapEff,
  noNewPrivs: status.NoNewPrivs,
  seccomp: status.Seccomp,
  memoryLimit: v1 ? read('memory/memory.limit_in_bytes') : read('memory.max'),
  cpuQuota,
  cpuPeriod,
}));
`;
const Confinement = z.object({
  uid: z.number(),
  rootWrite: z.string(),
  capEff: z.string(),
  noNewPrivs: z.string(),
  seccomp: z.string(),
  memoryLimit: z.string(),
  cpuQuota: z.string(),
  cpuPeriod: z.string(),
});
/** What dev.local/echo's /proxy answers: the fetched response, or why the fetch failed. */
const ProxyAnswer = z.union([
  z.object({ status: z.number(), body: z.string() }),
  z.object({ error: z.string() }),
]);

const createPod = (name: string, container: Partial<V1Container> = {}, spec: Partial<V1PodSpec> = {}) =>
  createTestPod(ns, name, container, spec);
const readPod = (name: string): Promise<V1Pod> => core.readNamespacedPod({ name, namespace: ns });

async function readyPod(name: string): Promise<V1Pod> {
  return eventually(`pod ${name} Ready`, async () => {
    const pod = await readPod(name);
    if (isPodReady(pod)) return pod;
    // The kubelet's reason, so that a timeout says why (an image it cannot pull, say).
    const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting;
    if (waiting?.reason !== undefined) throw new Error(`${waiting.reason}: ${waiting.message ?? ''}`);
    return undefined;
  });
}

/** A long-running kubectl (logs -f, port-forward): its output so far, and a way to end it. */
class KubectlProcess {
  private readonly child: ChildProcessByStdio<null, Readable, Readable>;
  private stdout = '';
  private stderr = '';

  constructor(args: string[]) {
    this.child = spawn(tool('kubectl'), ['--kubeconfig', kubeconfig, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
  }

  /** Waits until stdout matches; if kubectl exits first, the timeout carries its complaint. */
  async waitFor(what: string, pattern: RegExp): Promise<RegExpMatchArray> {
    return eventually(what, () => {
      const match = pattern.exec(this.stdout);
      if (match !== null) return match;
      if (this.child.exitCode !== null)
        throw new Error(`kubectl exited ${this.child.exitCode}: ${this.stderr}`);
      return undefined;
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill();
    await exited;
  }
}

/** `kubectl port-forward` to `port` of pod `name` from a local port kubectl picks and names. */
async function portForward(name: string, port: number): Promise<{ forward: KubectlProcess; local: number }> {
  const forward = new KubectlProcess([
    'port-forward',
    '-n',
    ns,
    '--address',
    '127.0.0.1',
    `pod/${name}`,
    `:${port}`,
  ]);
  try {
    const [, local] = await forward.waitFor(
      `a port forwarded to ${name}`,
      /Forwarding from 127\.0\.0\.1:(\d+)/,
    );
    return { forward, local: Number(local) };
  } catch (error) {
    await forward.stop();
    throw error;
  }
}

/** GET `url` from inside a pod of dev.local/echo, through its /proxy on a forwarded local port. */
async function fetchFrom(proxyPort: number, url: string): Promise<z.infer<typeof ProxyAnswer>> {
  const { body } = await httpGet(
    `http://127.0.0.1:${proxyPort}/proxy?url=${encodeURIComponent(url)}`,
    15_000,
  );
  return ProxyAnswer.parse(JSON.parse(body));
}

beforeAll(async () => {
  ns = await createNamespace('e2e-node');
  await createPod('locked', LOCKED_DOWN);
  await readyPod('locked');
});

afterAll(async () => {
  await deleteNamespace(ns);
});

describe('a locked-down container', () => {
  it('runs as its user, with a read-only root, no capabilities, no_new_privs, seccomp and its cgroup limits', async () => {
    const seen = Confinement.parse(
      JSON.parse(await kubectl('exec', '-n', ns, 'locked', '--', NODE, '-e', READ_CONFINEMENT)),
    );
    expect(seen).toEqual({
      uid: NONROOT_UID,
      rootWrite: 'EROFS',
      capEff: '0000000000000000',
      noNewPrivs: '1',
      // SECCOMP_MODE_FILTER
      seccomp: '2',
      memoryLimit: String(64 * 1024 * 1024),
      // 100m of a CPU: a tenth of each period.
      cpuQuota: '10000',
      cpuPeriod: '100000',
    });
  });

  it('is not started as root under runAsNonRoot, with the kubelet saying why', async () => {
    await createPod('as-root', { securityContext: { runAsNonRoot: true, runAsUser: 0 } });
    const waiting = await eventually('pod as-root to report why it does not start', async () => {
      const w = (await readPod('as-root')).status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'CreateContainerConfigError' ? w : undefined;
    });
    expect(waiting.message).toContain('non-root');
  });
});

describe('access through the API server', () => {
  it('returns a container log with the app\'s "listening" line', async () => {
    const logs = await eventually('the listening line', async () => {
      const text = await kubectl('logs', '-n', ns, 'locked');
      return text.includes('listening') ? text : undefined;
    });
    expect(logs).toContain('helloworld listening on 0.0.0.0:8080');
  });

  it('follows a container log, streaming a line written after it started', async () => {
    const follow = new KubectlProcess(['logs', '-f', '-n', ns, 'locked']);
    try {
      await follow.waitFor('the followed log to begin', /listening/);
      const marker = `followed line ${Date.now()}`;
      // A line on the container's own stdout, written by a process exec'd beside it.
      await kubectl(
        'exec',
        '-n',
        ns,
        'locked',
        '--',
        NODE,
        '-e',
        `require('node:fs').writeFileSync('/proc/1/fd/1', ${JSON.stringify(`${marker}\n`)})`,
      );
      await follow.waitFor('the new line in the followed log', new RegExp(marker));
    } finally {
      await follow.stop();
    }
  });

  it('forwards a local port to the pod', async () => {
    const { forward, local } = await portForward('locked', 8080);
    try {
      expect(await httpGet(`http://127.0.0.1:${local}/`)).toEqual({ status: 200, body: 'Hello World!\n' });
    } finally {
      await forward.stop();
    }
  });

  it('copies a file into a container and one out of it', async () => {
    await createPod('shell', { image: DEBIAN, command: ['sleep', 'infinity'] });
    await readyPod('shell');
    const dir = await mkdtemp(join(tmpdir(), 'ebb-e2e-cp-'));
    try {
      await writeFile(join(dir, 'in.txt'), 'copied in\n');
      await kubectl('cp', join(dir, 'in.txt'), `${ns}/shell:/tmp/in.txt`);
      expect(await kubectl('exec', '-n', ns, 'shell', '--', 'cat', '/tmp/in.txt')).toBe('copied in\n');
      await kubectl('exec', '-n', ns, 'shell', '--', 'sh', '-c', 'echo "copied out" > /tmp/out.txt');
      await kubectl('cp', `${ns}/shell:/tmp/out.txt`, join(dir, 'out.txt'));
      expect(await readFile(join(dir, 'out.txt'), 'utf8')).toBe('copied out\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('images', () => {
  it('reports an image that does not exist as ErrImagePull, then ImagePullBackOff', async () => {
    const image = 'dev.local/no-such-image:v1';
    await createPod('no-image', { image });
    const waitingWith = (reason: string) =>
      eventually(`pod no-image waiting with ${reason}`, async () => {
        const w = (await readPod('no-image')).status?.containerStatuses?.[0]?.state?.waiting;
        return w?.reason === reason ? w : undefined;
      });
    const pull = await waitingWith('ErrImagePull');
    expect(pull.message).toContain(image);
    const backOff = await waitingWith('ImagePullBackOff');
    expect(backOff.message).toContain(image);
    expect((await readPod('no-image')).status?.phase).toBe('Pending');
  });
});

describe('the pod network', () => {
  let targetIP = '';
  let forward: KubectlProcess | undefined;
  let proxyPort = 0;

  beforeAll(async () => {
    // createTestPod sets no labels, and the Service needs one to select by.
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'target', labels: { app: 'target' } },
        spec: {
          containers: [{ name: 'main', image: 'dev.local/helloworld', readinessProbe: LISTENING }],
          terminationGracePeriodSeconds: 1,
        },
      },
    });
    await core.createNamespacedService({
      namespace: ns,
      body: {
        metadata: { name: 'target' },
        spec: { selector: { app: 'target' }, ports: [{ port: 80, targetPort: 8080 }] },
      },
    });
    await createPod('client', { image: 'dev.local/echo', readinessProbe: LISTENING });
    targetIP = (await readyPod('target')).status?.podIP ?? '';
    await readyPod('client');
    ({ forward, local: proxyPort } = await portForward('client', 8080));
  });

  afterAll(async () => {
    await forward?.stop();
  });

  const reaches = async (url: string) =>
    eventually(`pod client to reach ${url}`, async () => {
      const answer = await fetchFrom(proxyPort, url);
      if ('error' in answer) throw new Error(answer.error);
      return answer;
    });

  it('lets a pod reach another by its pod IP', async () => {
    expect(targetIP).not.toBe('');
    expect(await reaches(`http://${targetIP}:8080/`)).toEqual({ status: 200, body: 'Hello World!\n' });
  });

  it("lets a pod reach another through a Service's ClusterIP", async () => {
    const clusterIP = (await core.readNamespacedService({ name: 'target', namespace: ns })).spec?.clusterIP;
    expect(await reaches(`http://${clusterIP}/`)).toEqual({ status: 200, body: 'Hello World!\n' });
  });

  it("resolves a Service's cluster DNS name, in full and by the pod's search path", async () => {
    expect(await reaches(`http://target.${ns}.svc.cluster.local/`)).toEqual({
      status: 200,
      body: 'Hello World!\n',
    });
    expect(await reaches('http://target/')).toEqual({ status: 200, body: 'Hello World!\n' });
  });
});
