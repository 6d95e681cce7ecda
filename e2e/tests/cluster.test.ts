// The local cluster behaves like a real one: nodes, version, Deployments and Services with
// EndpointSlices, ClusterIPs from the host and from pods, cluster DNS, ServiceAccount tokens with
// RBAC, logs, graceful deletion and exit codes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { binary } from '../cluster/paths.ts';
import { VERSIONS } from '../cluster/versions.ts';
import {
  apps,
  core,
  createNamespace,
  deleteNamespace,
  discovery,
  eventually,
  httpGet,
  kubectl,
  nodesSchedulable,
  rbac,
} from './kube.ts';

let ns: string;

beforeAll(async () => {
  ns = await createNamespace('e2e-cluster');
});

afterAll(async () => {
  await deleteNamespace(ns);
});

async function runningPod(name: string): Promise<V1Pod> {
  return eventually(`pod ${name} Ready`, async () => {
    const pod = await core.readNamespacedPod({ name, namespace: ns });
    return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? pod : undefined;
  });
}

async function createPod(
  name: string,
  container: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name, labels: { app: name } },
      spec: { containers: [{ name: 'main', ...container }], ...extra },
    },
  });
}

describe('the local cluster', () => {
  it('has a Ready node and reports the real server version', async () => {
    await nodesSchedulable();
    const nodes = await core.listNode();
    expect(nodes.items.length).toBeGreaterThan(0);
    for (const node of nodes.items) {
      expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    }
    const version = JSON.parse(await kubectl('version', '-o', 'json')) as {
      serverVersion: { gitVersion: string };
    };
    expect(version.serverVersion.gitVersion).toBe(VERSIONS.kubernetes);
  });

  it('runs a 2-replica Deployment behind a Service with 2 ready endpoints, reachable at its ClusterIP from the host', async () => {
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'hello' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'hello' } },
          template: {
            metadata: { labels: { app: 'hello' } },
            spec: {
              containers: [
                {
                  name: 'hello',
                  image: 'dev.local/helloworld',
                  env: [{ name: 'TARGET', value: 'cluster' }],
                  ports: [{ containerPort: 8080 }],
                  readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
                },
              ],
            },
          },
        },
      },
    });
    await core.createNamespacedService({
      namespace: ns,
      body: {
        metadata: { name: 'hello' },
        spec: { selector: { app: 'hello' }, ports: [{ port: 80, targetPort: 8080 }] },
      },
    });
    const deployment = await eventually('2 available replicas', async () => {
      const d = await apps.readNamespacedDeployment({ name: 'hello', namespace: ns });
      return d.status?.availableReplicas === 2 ? d : undefined;
    });
    expect(deployment.status?.readyReplicas).toBe(2);
    const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=hello' });
    expect(pods.items.map((p) => p.status?.phase)).toEqual(['Running', 'Running']);
    expect(new Set(pods.items.map((p) => p.status?.podIP)).size).toBe(2);
    const ready = await eventually('2 ready endpoints', async () => {
      const slices = await discovery.listNamespacedEndpointSlice({
        namespace: ns,
        labelSelector: 'kubernetes.io/service-name=hello',
      });
      const endpoints = slices.items.flatMap((s) => s.endpoints).filter((e) => e?.conditions?.ready === true);
      return endpoints.length === 2 ? endpoints : undefined;
    });
    expect(ready.flatMap((e) => e?.addresses ?? []).sort()).toEqual(
      pods.items.map((p) => p.status?.podIP).sort(),
    );
    const service = await core.readNamespacedService({ name: 'hello', namespace: ns });
    const answer = await eventually('the ClusterIP to answer', async () => {
      const r = await httpGet(`http://${service.spec?.clusterIP ?? ''}/`);
      return r.status === 200 ? r.body : undefined;
    });
    expect(answer).toBe('Hello cluster!\n');
  });

  it('resolves cluster names and reaches a Service from inside a pod', async () => {
    await createPod('echo', { image: 'dev.local/echo', ports: [{ containerPort: 8080 }] });
    const pod = await runningPod('echo');
    const url = encodeURIComponent(`http://hello.${ns}.svc.cluster.local/`);
    const result = await eventually('a proxied answer', async () => {
      const r = await httpGet(`http://${pod.status?.podIP ?? ''}:8080/proxy?url=${url}`);
      return r.status === 200 ? (JSON.parse(r.body) as { status: number; body: string }) : undefined;
    });
    expect(result).toEqual({ status: 200, body: 'Hello cluster!\n' });
  });

  it("lets a pod's in-cluster client list its namespace's pods with its token and RBAC", async () => {
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: 'pod-reader' },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list', 'get'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'pod-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: ns }],
      },
    });
    await createPod(
      'lister',
      { image: 'dev.local/kubectl', args: ['get', 'pods', '-o', 'name'] },
      { restartPolicy: 'Never' },
    );
    const pod = await eventually('lister to finish', async () => {
      const p = await core.readNamespacedPod({ name: 'lister', namespace: ns });
      return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' ? p : undefined;
    });
    const logs = await kubectl('logs', '-n', ns, 'lister');
    expect(pod.status?.phase).toBe('Succeeded');
    expect(logs).toContain('pod/echo');
    expect(logs).toContain('pod/lister');
  });

  it('gives containers env from configMaps, secrets and fieldRefs, and mounts configMap, secret and emptyDir volumes', async () => {
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'settings' }, data: { greeting: 'hi', 'app.conf': 'mode=test' } },
    });
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'creds' }, stringData: { password: 's3cret' } },
    });
    const script = [
      'echo "GREETING=$GREETING PASSWORD=$PASSWORD POD=$POD_NAME NS=$POD_NS IP=$POD_IP"',
      'echo "conf=$(cat /etc/settings/app.conf) secret=$(cat /etc/creds/password)"',
      'echo scratch > /scratch/file && echo "scratch=$(cat /scratch/file) pwd=$(pwd)"',
      'echo "token=$(test -s /var/run/secrets/kubernetes.io/serviceaccount/token && echo yes) ns=$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace)"',
      'grep -q "search ${POD_NS}.svc.cluster.local" /etc/resolv.conf && echo resolv=ok',
    ].join('; ');
    await createPod(
      'envcheck',
      {
        // A shell and its tools: the Debian base that `npm run deploy` exports.
        image: 'dev.local/debian:bookworm',
        command: ['/bin/sh', '-c', script],
        workingDir: '/scratch',
        env: [
          { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'settings', key: 'greeting' } } },
          { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'POD_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        ],
        volumeMounts: [
          { name: 'settings', mountPath: '/etc/settings', readOnly: true },
          { name: 'creds', mountPath: '/etc/creds', readOnly: true },
          { name: 'scratch', mountPath: '/scratch' },
        ],
      },
      {
        restartPolicy: 'Never',
        volumes: [
          { name: 'settings', configMap: { name: 'settings' } },
          { name: 'creds', secret: { secretName: 'creds' } },
          { name: 'scratch', emptyDir: {} },
        ],
      },
    );
    const pod = await eventually('envcheck to finish', async () => {
      const p = await core.readNamespacedPod({ name: 'envcheck', namespace: ns });
      return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' ? p : undefined;
    });
    const logs = await kubectl('logs', '-n', ns, 'envcheck');
    expect(logs).toContain(
      `GREETING=hi PASSWORD=s3cret POD=envcheck NS=${ns} IP=${pod.status?.podIP ?? '?'}`,
    );
    expect(logs).toContain('conf=mode=test secret=s3cret');
    expect(logs).toContain('scratch=scratch pwd=/scratch');
    expect(logs).toContain(`token=yes ns=${ns}`);
    expect(logs).toContain('resolv=ok');
    expect(pod.status?.phase).toBe('Succeeded');
  });

  it('ships helm and a kubectl that match the cluster', async () => {
    const { stdout: helm } = await promisify(execFile)(binary('helm'), ['version', '--short']);
    expect(helm.trim()).toMatch(new RegExp(`^${VERSIONS.helm.replace(/\./g, '\\.')}`));
    const client = JSON.parse(await kubectl('version', '--client', '-o', 'json')) as {
      clientVersion: { gitVersion: string };
    };
    expect(client.clientVersion.gitVersion).toBe(VERSIONS.kubernetes);
  });

  it('restarts a container whose liveness probe fails, and holds readiness until a startup probe passes', async () => {
    await createPod('unlive', {
      image: 'dev.local/helloworld',
      livenessProbe: {
        tcpSocket: { port: 9999 },
        periodSeconds: 1,
        failureThreshold: 1,
        terminationGracePeriodSeconds: 1,
      },
    });
    const restarted = await eventually('a liveness restart', async () => {
      const status = (await core.readNamespacedPod({ name: 'unlive', namespace: ns })).status
        ?.containerStatuses?.[0];
      return (status?.restartCount ?? 0) >= 1 ? status : undefined;
    });
    expect(restarted.lastState?.terminated?.startedAt).toBeDefined();

    await createPod('slow', {
      image: 'dev.local/slowstart',
      env: [{ name: 'STARTUP_DELAY_MS', value: '1500' }],
      startupProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1, failureThreshold: 30 },
    });
    const running = await eventually('slowstart running', async () => {
      const status = (await core.readNamespacedPod({ name: 'slow', namespace: ns })).status
        ?.containerStatuses?.[0];
      return status?.state?.running === undefined ? undefined : status;
    });
    expect(running.started).toBe(false);
    expect(running.ready).toBe(false);
    const ready = await runningPod('slow');
    expect(ready.status?.containerStatuses?.[0]?.started).toBe(true);
    expect(ready.status?.containerStatuses?.[0]?.restartCount).toBe(0);
  });

  it('serves container logs to kubectl logs', async () => {
    const logs = await kubectl('logs', '-n', ns, 'echo');
    expect(logs).toMatch(/echo listening on 0\.0\.0\.0:8080/);
  });

  it('reports the exit code of a failing container', async () => {
    // The kubelet takes a failed container's message from its log only when asked to.
    await createPod('failing', {
      image: 'dev.local/failing',
      terminationMessagePolicy: 'FallbackToLogsOnError',
    });
    const terminated = await eventually('an exit code', async () => {
      const pod = await core.readNamespacedPod({ name: 'failing', namespace: ns });
      const status = pod.status?.containerStatuses?.[0];
      return status?.lastState?.terminated ?? status?.state?.terminated;
    });
    expect(terminated.exitCode).toBe(5);
    expect(terminated.reason).toBe('Error');
    expect(terminated.message).toContain('exiting with code 5');
  });

  it('deletes a pod gracefully: preStop, then SIGTERM, then gone', async () => {
    await createPod('graceful', {
      image: 'dev.local/helloworld',
      // An exec hook's output is not the container's log: the hook writes to the app's stdout.
      lifecycle: {
        preStop: {
          exec: {
            command: [
              '/usr/local/bin/node',
              '-e',
              'require("fs").writeFileSync("/proc/1/fd/1", "prestop-ran\\n")',
            ],
          },
        },
      },
    });
    const pod = await runningPod('graceful');
    // The stream ends when the pod is gone; kubectl may then exit non-zero with what it printed.
    const watcher = kubectl('logs', '-n', ns, 'graceful', '-f').catch(
      (e: unknown) => (e as { stdout?: string }).stdout ?? '',
    );
    await eventually('log stream', async () =>
      (await kubectl('logs', '-n', ns, 'graceful')).includes('listening') ? true : undefined,
    );
    await core.deleteNamespacedPod({ name: 'graceful', namespace: ns, gracePeriodSeconds: 10 });
    await eventually(
      'pod gone',
      async () => {
        try {
          await core.readNamespacedPod({ name: 'graceful', namespace: ns });
          return undefined;
        } catch {
          return true;
        }
      },
      30_000,
    );
    expect(pod.metadata?.uid).toBeDefined();
    const output = await watcher;
    expect(output).toMatch(
      /prestop-ran[\s\S]*helloworld received SIGTERM, draining[\s\S]*helloworld stopped/,
    );
  });
});
