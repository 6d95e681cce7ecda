// Pods whose volumes are mounted where the image has no such path (Knative's volume conformance
// tests mount at /hello and /hello/world), and pods that cannot start at all. The first run with
// their files in place; the others get the kubelet's waiting reason and a message, and start once
// they can. Through it all the node stays Ready and its other pods keep running.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { V1Container, V1ContainerStatus, V1Pod, V1PodSpec } from '@kubernetes/client-node';
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

/** The test apps' images run node from here (e2e/images/Dockerfile); they have no shell. */
const NODE = '/usr/local/bin/node';
/** Run in a container: prints what the mounted files hold, then stays up. */
const PRINT_MOUNTS = `
const fs = require('node:fs');
const read = (path) => fs.readFileSync(path, 'utf8');
console.log('configMap=' + read('/hello/world'));
console.log('secret=' + read('/hello-secret/world'));
console.log('projected=' + read('/hello-projected/another'));
console.log('token=' + read('/hello-token/token').slice(0, 3));
console.log('nested=' + read('/scratch-e2e/conf/world'));
setInterval(() => {}, 1 << 30);
`;

const createPod = (name: string, container: Partial<V1Container>, spec: Partial<V1PodSpec> = {}) =>
  createTestPod(ns, name, container, spec);
const readPod = (name: string): Promise<V1Pod> => core.readNamespacedPod({ name, namespace: ns });

async function readyPod(name: string): Promise<V1Pod> {
  return eventually(`pod ${name} Ready`, async () => {
    const pod = await readPod(name);
    return isPodReady(pod) ? pod : undefined;
  });
}

/** The reason and message a container that could not start shows, as the kubelet reports them:
 * waiting with a Create*Error, or a StartError as its last termination. */
async function notStarted(name: string): Promise<{ reason: string; message: string; pod: V1Pod }> {
  return eventually(`pod ${name} to report why it does not start`, async () => {
    const pod = await readPod(name);
    const status = pod.status?.containerStatuses?.[0];
    const waiting = status?.state?.waiting;
    if (waiting?.reason !== undefined && /Error$/.test(waiting.reason) && waiting.message !== undefined)
      return { reason: waiting.reason, message: waiting.message, pod };
    const last = status?.lastState?.terminated ?? status?.state?.terminated;
    if (last?.reason === 'StartError') return { reason: last.reason, message: last.message ?? '', pod };
    return undefined;
  });
}

beforeAll(async () => {
  ns = await createNamespace('e2e-pod-volumes');
  await core.createNamespacedConfigMap({
    namespace: ns,
    body: { metadata: { name: 'hello' }, data: { world: 'hello from a configMap' } },
  });
  await core.createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: 'hello' }, stringData: { world: 'hello from a secret' } },
  });
  await createPod('steady', {
    ports: [{ containerPort: 8080 }],
    readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
  });
  steady = (await readyPod('steady')).status?.containerStatuses?.[0];
});

afterAll(async () => {
  await deleteNamespace(ns);
});

describe('pod volumes', () => {
  it('mounts configMap, secret and projected volumes at paths the node does not have, files and directories', async () => {
    await createPod(
      'hellovolume',
      {
        command: [NODE, '-e', PRINT_MOUNTS],
        // An exec probe runs in the container, so it sees the mounts too.
        readinessProbe: {
          exec: { command: [NODE, '-e', "require('node:fs').accessSync('/hello/world')"] },
          periodSeconds: 1,
        },
        volumeMounts: [
          { name: 'configmap', mountPath: '/hello', readOnly: true },
          { name: 'secret', mountPath: '/hello-secret/world', subPath: 'world', readOnly: true },
          { name: 'projected', mountPath: '/hello-projected', readOnly: true },
          { name: 'projected', mountPath: '/hello-token/token', subPath: 'token', readOnly: true },
          { name: 'scratch', mountPath: '/scratch-e2e' },
          { name: 'configmap', mountPath: '/scratch-e2e/conf', readOnly: true },
        ],
      },
      {
        volumes: [
          { name: 'configmap', configMap: { name: 'hello' } },
          { name: 'secret', secret: { secretName: 'hello' } },
          {
            name: 'projected',
            projected: {
              defaultMode: 0o444,
              sources: [
                { serviceAccountToken: { audience: 'api', path: 'token' } },
                { configMap: { name: 'hello', items: [{ key: 'world', path: 'another' }] } },
              ],
            },
          },
          { name: 'scratch', emptyDir: {} },
        ],
      },
    );
    await readyPod('hellovolume');
    const logs = await eventually('the files in the log', async () => {
      const text = await kubectl('logs', '-n', ns, 'hellovolume');
      return text.includes('nested=') ? text : undefined;
    });
    expect(logs).toContain('configMap=hello from a configMap');
    expect(logs).toContain('secret=hello from a secret');
    expect(logs).toContain('projected=hello from a configMap');
    expect(logs).toContain('token=eyJ');
    expect(logs).toContain('nested=hello from a configMap');
  });

  it('reports a missing configMap as CreateContainerConfigError, and starts the container once it exists', async () => {
    await createPod('later', {
      env: [{ name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'later', key: 'greeting' } } }],
      ports: [{ containerPort: 8080 }],
    });
    const { reason, message, pod } = await notStarted('later');
    expect(reason).toBe('CreateContainerConfigError');
    expect(message).toContain('configmap "later" not found');
    expect(pod.status?.phase).toBe('Pending');
    const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.status).toBe('False');
    expect(ready?.reason).toBe('ContainersNotReady');
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'later' }, data: { greeting: 'hi' } },
    });
    await readyPod('later');
  });

  it('reports mounts that cannot be made, naming the volume', async () => {
    // A subPath beneath a file of the volume, and a mount path beneath a file the kubelet mounts.
    await createPod(
      'under-a-file',
      { volumeMounts: [{ name: 'configmap', mountPath: '/hello', subPath: 'world/inner' }] },
      { volumes: [{ name: 'configmap', configMap: { name: 'hello' } }] },
    );
    await createPod(
      'beneath-hosts',
      { volumeMounts: [{ name: 'configmap', mountPath: '/etc/hosts/inner' }] },
      { volumes: [{ name: 'configmap', configMap: { name: 'hello' } }] },
    );
    for (const name of ['under-a-file', 'beneath-hosts']) {
      const { reason, message, pod } = await notStarted(name);
      expect([
        'CreateContainerConfigError',
        'CreateContainerError',
        'RunContainerError',
        'StartError',
      ]).toContain(reason);
      expect(message).toMatch(/configmap|inner/);
      expect(isPodReady(pod)).toBe(false);
    }
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
