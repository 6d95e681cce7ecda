// Table tests of the Deployment update decision: what the API server and other controllers do to
// a Deployment must not count as drift, while any change to a field ebb sets must.
import { describe, expect, it } from '@jest/globals';
import type { V1Container, V1Deployment, V1ObjectMeta } from '@kubernetes/client-node';
import { defaultClusterConfig } from '../../../apis/config/cluster-config.ts';
import type { Revision } from '../../../apis/serving/v1/revision-types.ts';
import { makeDeployment } from './deployment.ts';
import { deploymentNeedsUpdate, mergeDeployment } from './deployment-update.ts';

const rev: Revision = {
  apiVersion: 'serving.knative.dev/v1',
  kind: 'Revision',
  metadata: {
    name: 'hello-00001',
    namespace: 'demo',
    uid: 'rev-uid',
    labels: { 'serving.knative.dev/configuration': 'hello', 'serving.knative.dev/service': 'hello' },
    annotations: { 'serving.knative.dev/creator': 'alice' },
  },
  spec: {
    timeoutSeconds: 300,
    enableServiceLinks: false,
    containers: [
      {
        name: 'user-container',
        image: 'ghcr.io/demo/hello:1',
        env: [{ name: 'EMPTY', value: '' }],
        resources: { requests: { cpu: '0.5', memory: '128Mi' }, limits: { memory: '1Gi' } },
        readinessProbe: { tcpSocket: {}, successThreshold: 1 },
      },
    ],
    volumes: [{ name: 'scratch', emptyDir: { sizeLimit: '0.5Gi' } }],
  },
};

const desired = (): V1Deployment => makeDeployment(rev, defaultClusterConfig());

function userContainer(d: V1Deployment): V1Container {
  const c = d.spec?.template.spec?.containers[0];
  if (c === undefined) throw new Error('no container');
  return c;
}

function metadata(d: V1Deployment): V1ObjectMeta {
  d.metadata ??= {};
  return d.metadata;
}

/** The Deployment as a GET returns it: server-side defaults filled in, quantities in canonical
 * form, empty strings dropped, and bookkeeping from the Deployment controller. */
function fromServer(): V1Deployment {
  const d = structuredClone(desired());
  const meta = metadata(d);
  Object.assign(meta, { uid: 'dep-uid', resourceVersion: '42', generation: 3 });
  meta.annotations = { ...meta.annotations, 'deployment.kubernetes.io/revision': '1' };
  if (d.spec?.strategy?.rollingUpdate !== undefined) d.spec.strategy.rollingUpdate.maxSurge = '25%';
  const pod = d.spec?.template.spec;
  if (pod === undefined) throw new Error('no pod spec');
  Object.assign(pod, {
    restartPolicy: 'Always',
    dnsPolicy: 'ClusterFirst',
    schedulerName: 'default-scheduler',
    securityContext: {},
    volumes: [{ name: 'scratch', emptyDir: { sizeLimit: '512Mi' } }],
  });
  const c = userContainer(d);
  Object.assign(c, {
    imagePullPolicy: 'IfNotPresent',
    terminationMessagePath: '/dev/termination-log',
    resources: { requests: { cpu: '500m', memory: '128Mi' }, limits: { memory: '1Gi' } },
  });
  Object.assign(c.readinessProbe ?? {}, { timeoutSeconds: 1, failureThreshold: 3 });
  c.env = c.env?.map((e) => (e.value === '' ? { name: e.name } : e));
  return d;
}

describe('deploymentNeedsUpdate', () => {
  const cases: [string, boolean, (d: V1Deployment) => void][] = [
    ['the Deployment as the API server returns it', false, () => undefined],
    [
      'replicas changed by the autoscaler',
      false,
      (d) => {
        if (d.spec) d.spec.replicas = 7;
      },
    ],
    [
      'labels and annotations added by other controllers',
      false,
      (d) => {
        const meta = metadata(d);
        meta.labels = { ...meta.labels, 'mesh.example/injected': 'true' };
        const t = d.spec?.template.metadata;
        if (t) t.annotations = { ...t.annotations, 'kubectl.kubernetes.io/restartedAt': 'now' };
      },
    ],
    [
      'a different image',
      true,
      (d) => {
        userContainer(d).image = 'ghcr.io/demo/hello:2';
      },
    ],
    [
      'an environment variable removed',
      true,
      (d) => {
        userContainer(d).env?.pop();
      },
    ],
    [
      'an environment variable with another value',
      true,
      (d) => {
        const env = userContainer(d).env?.[1];
        if (env) env.value = 'other';
      },
    ],
    [
      'a different memory limit',
      true,
      (d) => {
        userContainer(d).resources = {
          requests: { cpu: '500m', memory: '128Mi' },
          limits: { memory: '2Gi' },
        };
      },
    ],
    [
      'the same quantities spelt another way',
      false,
      (d) => {
        userContainer(d).resources = {
          requests: { cpu: '0.50', memory: '134217728' },
          limits: { memory: '1024Mi' },
        };
      },
    ],
    [
      'a different progress deadline',
      true,
      (d) => {
        if (d.spec) d.spec.progressDeadlineSeconds = 120;
      },
    ],
    [
      'a label ebb sets, changed',
      true,
      (d) => {
        const meta = metadata(d);
        meta.labels = { ...meta.labels, app: 'other' };
      },
    ],
    [
      'an annotation ebb sets, removed',
      true,
      (d) => {
        const meta = metadata(d);
        meta.annotations = Object.fromEntries(
          Object.entries(meta.annotations ?? {}).filter(([k]) => k !== 'serving.knative.dev/creator'),
        );
      },
    ],
    [
      'enableServiceLinks reset to the Kubernetes default',
      true,
      (d) => {
        const pod = d.spec?.template.spec;
        if (pod) pod.enableServiceLinks = true;
      },
    ],
    [
      'a sidecar injected into the template',
      true,
      (d) => {
        d.spec?.template.spec?.containers.push({ name: 'injected', image: 'proxy' });
      },
    ],
    [
      'a different selector',
      true,
      (d) => {
        if (d.spec) d.spec.selector = { matchLabels: { 'serving.knative.dev/revisionUID': 'other' } };
      },
    ],
    [
      'the revision history limit reset',
      true,
      (d) => {
        if (d.spec) d.spec.revisionHistoryLimit = 10;
      },
    ],
  ];
  it.each(cases)('%s → needs update: %s', (_name, want, change) => {
    const existing = fromServer();
    change(existing);
    expect(deploymentNeedsUpdate(existing, desired())).toBe(want);
  });
});

describe('mergeDeployment', () => {
  it('keeps the live replicas and metadata, and lays the desired labels and spec over them', () => {
    const existing = fromServer();
    if (existing.spec) existing.spec.replicas = 7;
    const meta = metadata(existing);
    meta.labels = { ...meta.labels, app: 'stale', 'mesh.example/injected': 'true' };
    userContainer(existing).image = 'ghcr.io/demo/hello:0';
    const want = desired();

    const merged = mergeDeployment(existing, want);

    const wantSpec = structuredClone(want.spec);
    if (wantSpec) wantSpec.replicas = 7;
    expect(merged.spec).toStrictEqual(wantSpec);
    expect(merged.metadata?.resourceVersion).toBe('42');
    expect(merged.metadata?.uid).toBe('dep-uid');
    expect(merged.metadata?.labels).toStrictEqual({
      ...want.metadata?.labels,
      'mesh.example/injected': 'true',
    });
    expect(merged.metadata?.annotations).toStrictEqual({
      'deployment.kubernetes.io/revision': '1',
      'serving.knative.dev/creator': 'alice',
    });
    expect(deploymentNeedsUpdate(merged, want)).toBe(false);
  });
});
