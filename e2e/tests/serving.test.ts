// Knative Serving on the real cluster, with ebb installed by `npm run deploy` (e2e/run.ts does it):
// users' manifests become Ready with Knative's status, updates stamp out revisions, failures are
// reported, traffic splits and tags show in status, bad manifests are rejected at apply, deletion
// cascades, and a domain change reaches every route.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Condition } from '../../src/apis/meta/v1.ts';
import type { Configuration } from '../../src/apis/serving/v1/configuration-types.ts';
import type { Revision } from '../../src/apis/serving/v1/revision-types.ts';
import type { Route } from '../../src/apis/serving/v1/route-types.ts';
import type { Service } from '../../src/apis/serving/v1/service-types.ts';
import {
  CONFIGURATIONS,
  CustomResources,
  PODAUTOSCALERS,
  REVISIONS,
  ROUTES,
  SERVING_SERVICES,
  type CustomKind,
} from '../../src/controller/kube.ts';
import {
  apps,
  core,
  createNamespace,
  deleteNamespace,
  eventually,
  kc,
  kubectl,
  kubectlOutput,
} from './kube.ts';

const SYSTEM = 'ebb-system';
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const SAMPLES = fileURLToPath(new URL('../../config/samples/', import.meta.url));
const custom = new CustomResources(kc);
let ns = '';

interface Conditioned {
  metadata: { generation?: number };
  status?: { observedGeneration?: number; conditions?: Condition[] };
}

function condition(obj: Conditioned, type = 'Ready'): Condition | undefined {
  return obj.status?.conditions?.find((c) => c.type === type);
}

/** The object once its controller has observed the current generation and Ready is `status`. */
async function settled<T extends Conditioned>(
  kind: CustomKind,
  name: string,
  status = 'True',
  timeoutMs = 90_000,
): Promise<T> {
  return eventually(
    `${kind.kind} ${ns}/${name} Ready=${status}`,
    async () => {
      const obj = await custom.get<T>(kind, ns, name);
      const observed = obj.status?.observedGeneration === obj.metadata.generation;
      return observed && condition(obj)?.status === status ? obj : undefined;
    },
    timeoutMs,
  );
}

function service(name: string, spec: Service['spec'], metadata: Partial<Service['metadata']> = {}): Service {
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name, namespace: ns, ...metadata },
    spec,
  };
}

function hello(name: string, target: string, annotations: Record<string, string> = {}): Service {
  return service(name, {
    template: {
      metadata: { annotations },
      spec: { containers: [{ image: 'dev.local/helloworld', env: [{ name: 'TARGET', value: target }] }] },
    },
  });
}

async function revisionsOf(configuration: string): Promise<Revision[]> {
  const all = await custom.list<Revision>(REVISIONS);
  return all.items.filter(
    (r) =>
      r.metadata.namespace === ns &&
      r.metadata.labels?.['serving.knative.dev/configuration'] === configuration,
  );
}

beforeAll(async () => {
  ns = await createNamespace('serving');
});

afterAll(async () => {
  await deleteNamespace(ns);
});

describe('Knative samples', () => {
  it('become Ready with Knative status fields, children, labels and placeholder Services', async () => {
    await kubectl('apply', '-n', ns, '-f', SAMPLES);
    const services = ['hello', 'autoscale', 'internal', 'single', 'gradual', 'multi'];
    for (const name of services) {
      const svc = await settled<Service>(SERVING_SERVICES, name);
      const rev = `${name}-00001`;
      const local = name === 'internal';
      expect(svc.status).toMatchObject({
        url: local ? `http://${name}.${ns}.svc.cluster.local` : `http://${name}.${ns}.example.com`,
        address: { url: `http://${name}.${ns}.svc.cluster.local` },
        latestCreatedRevisionName: rev,
        latestReadyRevisionName: rev,
        traffic: [{ revisionName: rev, latestRevision: true, percent: 100 }],
      });
      for (const type of ['Ready', 'ConfigurationsReady', 'RoutesReady'])
        expect(condition(svc, type)?.status).toBe('True');

      const revision = await custom.get<Revision>(REVISIONS, ns, rev);
      expect(revision.metadata.labels).toMatchObject({
        'serving.knative.dev/configuration': name,
        'serving.knative.dev/configurationGeneration': '1',
        'serving.knative.dev/service': name,
        'serving.knative.dev/routingState': 'active',
      });
      for (const type of ['ResourcesAvailable', 'ContainerHealthy'])
        expect(condition(revision, type)?.status).toBe('True');
      expect(revision.metadata.ownerReferences?.[0]).toMatchObject({
        kind: 'Configuration',
        name,
        controller: true,
      });

      const deployment = await apps.readNamespacedDeployment({ namespace: ns, name: `${rev}-deployment` });
      expect(deployment.spec?.template.metadata?.labels).toMatchObject({
        'serving.knative.dev/revision': rev,
      });
      const env = deployment.spec?.template.spec?.containers[0]?.env ?? [];
      for (const [k, v] of [
        ['K_REVISION', rev],
        ['K_CONFIGURATION', name],
        ['K_SERVICE', name],
      ])
        expect(env).toContainEqual({ name: k, value: v });
      expect(deployment.spec?.template.spec?.containers.map((c) => c.name)).not.toContain('queue-proxy');
      await custom.get(PODAUTOSCALERS, ns, rev);

      const placeholder = await core.readNamespacedService({ namespace: ns, name });
      expect(placeholder.spec).toMatchObject({
        type: 'ExternalName',
        externalName: `ebb-gateway-internal.${SYSTEM}.svc.cluster.local`,
      });
    }

    // The standalone Configuration + Route and the blue/green Route with tags.
    await settled<Configuration>(CONFIGURATIONS, 'standalone');
    const standalone = await settled<Route>(ROUTES, 'standalone');
    expect(standalone.status?.traffic).toEqual([
      { revisionName: 'standalone-00001', latestRevision: true, percent: 100 },
    ]);
    const bluegreen = await settled<Route>(ROUTES, 'bluegreen');
    expect(bluegreen.status?.traffic).toEqual([
      {
        tag: 'blue',
        revisionName: 'bluegreen-blue-00001',
        latestRevision: true,
        percent: 90,
        url: `http://blue-bluegreen.${ns}.example.com`,
      },
      {
        tag: 'green',
        revisionName: 'bluegreen-green-00001',
        latestRevision: true,
        percent: 10,
        url: `http://green-bluegreen.${ns}.example.com`,
      },
    ]);
    for (const tag of ['blue', 'green'])
      await core.readNamespacedService({ namespace: ns, name: `${tag}-bluegreen` });
  });
});

describe('revisions', () => {
  it('a template update creates <svc>-00002 and moves latestReadyRevisionName; a metadata change does not', async () => {
    await custom.create(SERVING_SERVICES, hello('update', 'one'));
    await settled<Service>(SERVING_SERVICES, 'update');

    const current = await custom.get<Service>(SERVING_SERVICES, ns, 'update');
    current.metadata.labels = { ...current.metadata.labels, team: 'blue' };
    await custom.replace(SERVING_SERVICES, current);
    const relabelled = await settled<Service>(SERVING_SERVICES, 'update');
    expect(relabelled.status?.latestReadyRevisionName).toBe('update-00001');
    const cfg = await eventually('label reaches the Configuration', async () => {
      const c = await custom.get<Configuration>(CONFIGURATIONS, ns, 'update');
      return c.metadata.labels?.team === 'blue' ? c : undefined;
    });
    expect(cfg.metadata.generation).toBe(1);
    expect((await revisionsOf('update')).map((r) => r.metadata.name)).toEqual(['update-00001']);

    const next = await custom.get<Service>(SERVING_SERVICES, ns, 'update');
    next.spec.template.spec = {
      containers: [{ image: 'dev.local/helloworld', env: [{ name: 'TARGET', value: 'two' }] }],
    };
    await custom.replace(SERVING_SERVICES, next);
    const updated = await eventually('latestReadyRevisionName update-00002', async () => {
      const s = await settled<Service>(SERVING_SERVICES, 'update');
      return s.status?.latestReadyRevisionName === 'update-00002' ? s : undefined;
    });
    expect(updated.status?.traffic).toEqual([
      { revisionName: 'update-00002', latestRevision: true, percent: 100 },
    ]);
    expect((await revisionsOf('update')).map((r) => r.metadata.name).sort()).toEqual([
      'update-00001',
      'update-00002',
    ]);
  });

  it('a crashing container makes the Revision, Configuration and Service Ready=False with the exit code', async () => {
    await custom.create(
      SERVING_SERVICES,
      service('crash', { template: { spec: { containers: [{ image: 'dev.local/failing' }] } } }),
    );
    const rev = await settled<Revision>(REVISIONS, 'crash-00001', 'False');
    expect(condition(rev, 'ContainerHealthy')).toMatchObject({ status: 'False', reason: 'ExitCode5' });
    expect(condition(rev, 'ContainerHealthy')?.message).toContain(
      'Container failed with: failing: exiting with code 5',
    );
    const cfg = await settled<Configuration>(CONFIGURATIONS, 'crash', 'False');
    expect(condition(cfg)).toMatchObject({ reason: 'RevisionFailed' });
    expect(condition(cfg)?.message).toContain(
      'Revision "crash-00001" failed with message: Container failed with:',
    );
    const svc = await settled<Service>(SERVING_SERVICES, 'crash', 'False');
    expect(condition(svc, 'ConfigurationsReady')).toMatchObject({
      status: 'False',
      reason: 'RevisionFailed',
    });
  });

  it('an image that cannot be pulled fails the Revision once the progress deadline passes', async () => {
    await custom.create(
      SERVING_SERVICES,
      service('missing', {
        template: {
          metadata: { annotations: { 'serving.knative.dev/progress-deadline': '10s' } },
          spec: { containers: [{ image: 'dev.local/does-not-exist' }] },
        },
      }),
    );
    const rev = await settled<Revision>(REVISIONS, 'missing-00001', 'False', 120_000);
    // As Knative: once the deadline passes, the waiting container's reason and message.
    const available = condition(rev, 'ResourcesAvailable');
    expect(available?.status).toBe('False');
    expect(['ErrImagePull', 'ImagePullBackOff']).toContain(available?.reason);
    expect(available?.message).toContain('dev.local/does-not-exist');
    const svc = await settled<Service>(SERVING_SERVICES, 'missing', 'False');
    expect(condition(svc, 'ConfigurationsReady')?.message).toContain(
      'Revision "missing-00001" failed with message:',
    );
  });
});

describe('traffic', () => {
  it('a split with tags shows in Route and Service status with tag URLs', async () => {
    await custom.create(SERVING_SERVICES, hello('split', 'v1'));
    await settled<Service>(SERVING_SERVICES, 'split');
    const svc = await custom.get<Service>(SERVING_SERVICES, ns, 'split');
    svc.spec.template.spec = {
      containers: [{ image: 'dev.local/helloworld', env: [{ name: 'TARGET', value: 'v2' }] }],
    };
    svc.spec.traffic = [
      { tag: 'current', revisionName: 'split-00001', percent: 80 },
      { tag: 'candidate', latestRevision: true, percent: 20 },
    ];
    await custom.replace(SERVING_SERVICES, svc);
    const done = await eventually('split traffic in status', async () => {
      const s = await settled<Service>(SERVING_SERVICES, 'split');
      return s.status?.traffic?.some((t) => t.revisionName === 'split-00002') === true ? s : undefined;
    });
    expect(done.status?.traffic).toEqual([
      {
        tag: 'current',
        revisionName: 'split-00001',
        latestRevision: false,
        percent: 80,
        url: `http://current-split.${ns}.example.com`,
      },
      {
        tag: 'candidate',
        revisionName: 'split-00002',
        latestRevision: true,
        percent: 20,
        url: `http://candidate-split.${ns}.example.com`,
      },
    ]);
    const route = await custom.get<Route>(ROUTES, ns, 'split');
    expect(route.status?.traffic).toEqual(done.status?.traffic);
    for (const name of ['split', 'current-split', 'candidate-split'])
      await core.readNamespacedService({ namespace: ns, name });
  });

  it('with a split in place, edits of traffic, labels and annotations mint no revision', async () => {
    await custom.create(SERVING_SERVICES, hello('canary', 'v1'));
    await settled<Service>(SERVING_SERVICES, 'canary');
    const first = await custom.get<Service>(SERVING_SERVICES, ns, 'canary');
    first.spec.template.spec = {
      containers: [{ image: 'dev.local/helloworld', env: [{ name: 'TARGET', value: 'v2' }] }],
    };
    first.spec.traffic = [
      { tag: 'stable', revisionName: 'canary-00001', percent: 90 },
      { tag: 'canary', latestRevision: true, percent: 10 },
    ];
    await custom.replace(SERVING_SERVICES, first);
    await eventually('canary-00002 takes its 10 %', async () => {
      const s = await settled<Service>(SERVING_SERVICES, 'canary');
      return s.status?.traffic?.some((t) => t.revisionName === 'canary-00002') === true ? s : undefined;
    });

    // Each edit sends the template back in another JSON shape of the same values, as clients do:
    // a Go client writes the template's unset creationTimestamp as null, another leaves the
    // readiness probe's zero port out.
    const edits: [string, (s: Service) => void, (c: Configuration, s: Service) => boolean][] = [
      [
        'traffic moves to 50/50',
        (s) => {
          s.spec.traffic = [
            { tag: 'stable', revisionName: 'canary-00001', percent: 50 },
            { tag: 'canary', latestRevision: true, percent: 50 },
          ];
          s.spec.template.metadata = { ...s.spec.template.metadata, creationTimestamp: null };
        },
        (_c, s) => s.status?.traffic?.every((t) => t.percent === 50) === true,
      ],
      [
        'a label is added',
        (s) => {
          s.metadata.labels = { ...s.metadata.labels, team: 'blue' };
          const probe = s.spec.template.spec?.containers?.[0]?.readinessProbe;
          if (probe?.tcpSocket !== undefined) probe.tcpSocket = {};
        },
        (c) => c.metadata.labels?.team === 'blue',
      ],
      [
        'an annotation is added',
        (s) => (s.metadata.annotations = { ...s.metadata.annotations, note: 'x' }),
        (c) => c.metadata.annotations?.note === 'x',
      ],
    ];
    for (const [what, edit, reached] of edits) {
      const svc = await custom.get<Service>(SERVING_SERVICES, ns, 'canary');
      edit(svc);
      await custom.replace(SERVING_SERVICES, svc);
      const cfg = await eventually(`${what}: the controller has acted on it`, async () => {
        const s = await settled<Service>(SERVING_SERVICES, 'canary');
        const c = await custom.get<Configuration>(CONFIGURATIONS, ns, 'canary');
        return reached(c, s) ? c : undefined;
      });
      expect([what, cfg.metadata.generation]).toEqual([what, 2]);
      expect([what, (await revisionsOf('canary')).map((r) => r.metadata.name).sort()]).toEqual([
        what,
        ['canary-00001', 'canary-00002'],
      ]);
    }
    const final = await settled<Service>(SERVING_SERVICES, 'canary');
    expect(final.status?.traffic?.map((t) => [t.revisionName, t.percent])).toEqual([
      ['canary-00001', 50],
      ['canary-00002', 50],
    ]);
  });

  it('configurationName and latestRevision targets follow the latest ready revision', async () => {
    const cfg: Configuration = {
      apiVersion: 'serving.knative.dev/v1',
      kind: 'Configuration',
      metadata: { name: 'follow', namespace: ns },
      spec: { template: { spec: { containers: [{ image: 'dev.local/helloworld' }] } } },
    };
    await custom.create(CONFIGURATIONS, cfg);
    await custom.create<Route>(ROUTES, {
      apiVersion: 'serving.knative.dev/v1',
      kind: 'Route',
      metadata: { name: 'follow', namespace: ns },
      spec: { traffic: [{ configurationName: 'follow', percent: 100 }] },
    });
    const first = await settled<Route>(ROUTES, 'follow');
    expect(first.status?.traffic).toEqual([
      { revisionName: 'follow-00001', latestRevision: true, percent: 100 },
    ]);

    const stored = await custom.get<Configuration>(CONFIGURATIONS, ns, 'follow');
    stored.spec.template.spec = {
      containers: [{ image: 'dev.local/helloworld', env: [{ name: 'TARGET', value: 'next' }] }],
    };
    await custom.replace(CONFIGURATIONS, stored);
    await eventually('route follows follow-00002', async () => {
      const r = await settled<Route>(ROUTES, 'follow');
      return r.status?.traffic?.[0]?.revisionName === 'follow-00002' ? r : undefined;
    });
    const old = await custom.get<Revision>(REVISIONS, ns, 'follow-00001');
    await eventually('follow-00001 goes to reserve', async () => {
      const r = await custom.get<Revision>(REVISIONS, ns, 'follow-00001');
      return r.metadata.labels?.['serving.knative.dev/routingState'] === 'reserve' ? true : undefined;
    });
    expect(old.metadata.name).toBe('follow-00001');
  });
});

describe('gradual rollout', () => {
  it('moves traffic to a new revision in steps, shown in Route status', async () => {
    const svc = hello('gradual-e2e', 'one');
    svc.metadata.annotations = { 'serving.knative.dev/rollout-duration': '20s' };
    await custom.create(SERVING_SERVICES, svc);
    await settled<Service>(SERVING_SERVICES, 'gradual-e2e');
    const stored = await custom.get<Service>(SERVING_SERVICES, ns, 'gradual-e2e');
    stored.spec.template.spec = {
      containers: [{ image: 'dev.local/helloworld', env: [{ name: 'TARGET', value: 'two' }] }],
    };
    await custom.replace(SERVING_SERVICES, stored);

    // Record every split the Route reports until the new revision has everything.
    const seen: string[] = [];
    let inProgress = false;
    await eventually(
      'gradual-e2e-00002 at 100%',
      async () => {
        const route = await custom.get<Route>(ROUTES, ns, 'gradual-e2e');
        const split = (route.status?.traffic ?? [])
          .map((t) => `${t.revisionName ?? ''}=${String(t.percent)}`)
          .join(',');
        if (seen.at(-1) !== split) seen.push(split);
        if (condition(route, 'IngressReady')?.reason === 'RolloutInProgress') inProgress = true;
        return split === 'gradual-e2e-00002=100' ? true : undefined;
      },
      120_000,
    );
    process.stderr.write(`[gradual rollout] ${seen.join(' -> ')}\n`);
    const steps = seen.filter((s) => s.includes('gradual-e2e-00001') && s.includes('gradual-e2e-00002'));
    expect(steps.length).toBeGreaterThanOrEqual(2);
    expect(inProgress).toBe(true);
    await settled<Service>(SERVING_SERVICES, 'gradual-e2e');
  });
});

describe('revision garbage collection', () => {
  it('collects routed-out revisions beyond config-gc, except pinned ones', async () => {
    const gc = { namespace: SYSTEM, name: 'config-gc' };
    const before = await core.readNamespacedConfigMap(gc);
    const restore = before.data ?? {};
    try {
      await core.replaceNamespacedConfigMap({
        ...gc,
        body: {
          metadata: { ...gc, resourceVersion: before.metadata?.resourceVersion },
          data: {
            'min-non-active-revisions': '0',
            'max-non-active-revisions': '1',
            'retain-since-create-time': 'disabled',
            'retain-since-last-active-time': 'disabled',
          },
        },
      });
      await custom.create(SERVING_SERVICES, hello('gc-e2e', 'v1'));
      await settled<Service>(SERVING_SERVICES, 'gc-e2e');
      await custom.patch(
        REVISIONS,
        ns,
        'gc-e2e-00001',
        { metadata: { annotations: { 'serving.knative.dev/no-gc': 'true' } } },
        MERGE,
      );
      for (const target of ['v2', 'v3', 'v4']) {
        const svc = await custom.get<Service>(SERVING_SERVICES, ns, 'gc-e2e');
        svc.spec.template.spec = {
          containers: [{ image: 'dev.local/helloworld', env: [{ name: 'TARGET', value: target }] }],
        };
        await custom.replace(SERVING_SERVICES, svc);
        const generation = { v2: '00002', v3: '00003', v4: '00004' }[target] ?? '';
        await eventually(`gc-e2e-${generation} ready`, async () => {
          const s = await settled<Service>(SERVING_SERVICES, 'gc-e2e');
          return s.status?.latestReadyRevisionName === `gc-e2e-${generation}` ? true : undefined;
        });
      }
      // Non-active: 00001 (pinned), 00002, 00003; max 1 keeps the most recently active, 00003.
      await eventually(
        'gc-e2e-00002 to be collected',
        async () => {
          const names = (await revisionsOf('gc-e2e')).map((r) => r.metadata.name).sort();
          return names.join(',') === 'gc-e2e-00001,gc-e2e-00003,gc-e2e-00004' ? true : undefined;
        },
        90_000,
      );
    } finally {
      const current = await core.readNamespacedConfigMap(gc);
      await core.replaceNamespacedConfigMap({
        ...gc,
        body: { metadata: { ...gc, resourceVersion: current.metadata?.resourceVersion }, data: restore },
      });
    }
  });
});

describe('admission', () => {
  const container = { image: 'dev.local/helloworld' };
  it.each([
    [
      'a reserved environment variable',
      {},
      { template: { spec: { containers: [{ ...container, env: [{ name: 'PORT', value: '1' }] }] } } },
      '"PORT" is a reserved environment variable: spec.template.spec.containers[0].env[0].name',
    ],
    [
      'traffic that does not sum to 100',
      {},
      { template: { spec: { containers: [container] } }, traffic: [{ latestRevision: true, percent: 90 }] },
      'Traffic targets sum to 90, want 100: spec.traffic',
    ],
    [
      'an autoscaling annotation in the wrong place',
      { annotations: { 'autoscaling.knative.dev/min-scale': '1' } },
      { template: { spec: { containers: [container] } } },
      'autoscaling annotations must be put under "spec.template.metadata.annotations" to work',
    ],
  ])('kubectl apply rejects %s with Knative’s message', async (_what, metadata, spec, message) => {
    const file = join(tmpdir(), `ebb-e2e-${ns}-rejected.json`);
    const manifest = {
      apiVersion: 'serving.knative.dev/v1',
      kind: 'Service',
      metadata: { name: 'rejected', ...metadata },
      spec,
    };
    await writeFile(file, JSON.stringify(manifest));
    const error = await kubectl('apply', '-n', ns, '-f', file).then(
      () => undefined,
      (e: unknown) => e as { stderr?: string },
    );
    expect(error?.stderr).toContain(
      'admission webhook "validation.webhook.serving.knative.dev" denied the request',
    );
    expect(error?.stderr).toContain(message);
  });

  it('kubectl apply prints Knative’s warning for security settings left at insecure defaults, and creates the Service', async () => {
    const file = join(tmpdir(), `ebb-e2e-${ns}-warned.json`);
    const manifest = {
      apiVersion: 'serving.knative.dev/v1',
      kind: 'Service',
      metadata: { name: 'warned' },
      spec: { template: { spec: { containers: [container] } } },
    };
    await writeFile(file, JSON.stringify(manifest));
    const { stdout, stderr } = await kubectlOutput('apply', '-n', ns, '-f', file);
    expect(stdout).toContain('service.serving.knative.dev/warned created');
    expect(stderr).toContain(
      'Warning: Kubernetes default value is insecure, Knative may default this to secure in a future release: spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation, spec.template.spec.containers[0].securityContext.capabilities, spec.template.spec.containers[0].securityContext.runAsNonRoot, spec.template.spec.containers[0].securityContext.seccompProfile',
    );
    await custom.delete(SERVING_SERVICES, ns, 'warned');
  });

  it('records the creator and lastModifier', async () => {
    await custom.create(SERVING_SERVICES, hello('who', 'x'));
    const svc = await custom.get<Service>(SERVING_SERVICES, ns, 'who');
    expect(svc.metadata.annotations).toMatchObject({
      'serving.knative.dev/creator': 'kubernetes-admin',
      'serving.knative.dev/lastModifier': 'kubernetes-admin',
    });
  });
});

describe('lifecycle', () => {
  it('deleting a Service deletes its Configuration, Route, Revisions, Deployments and Services', async () => {
    await custom.create(SERVING_SERVICES, hello('doomed', 'x'));
    await settled<Service>(SERVING_SERVICES, 'doomed');
    await custom.delete(SERVING_SERVICES, ns, 'doomed');
    await eventually(
      'everything of doomed to be gone',
      async () => {
        const left: string[] = [];
        for (const kind of [CONFIGURATIONS, ROUTES, REVISIONS, PODAUTOSCALERS]) {
          const items = (await custom.list<{ metadata: { namespace?: string; name?: string } }>(kind)).items;
          for (const i of items)
            if (i.metadata.namespace === ns && i.metadata.name?.startsWith('doomed') === true)
              left.push(`${kind.kind}/${i.metadata.name}`);
        }
        const deployments = await apps.listNamespacedDeployment({ namespace: ns });
        left.push(
          ...deployments.items
            .filter((d) => d.metadata?.name?.startsWith('doomed') === true)
            .map((d) => `Deployment/${d.metadata?.name ?? ''}`),
        );
        const services = await core.listNamespacedService({ namespace: ns });
        left.push(
          ...services.items
            .filter((s) => s.metadata?.name === 'doomed')
            .map((s) => `Service/${s.metadata?.name ?? ''}`),
        );
        return left.length === 0 ? true : undefined;
      },
      120_000,
    );
  });

  it('a config-domain change updates every route URL', async () => {
    const before = await core.readNamespacedConfigMap({ namespace: SYSTEM, name: 'config-domain' });
    const data = before.data ?? {};
    try {
      await core.replaceNamespacedConfigMap({
        namespace: SYSTEM,
        name: 'config-domain',
        body: {
          metadata: {
            name: 'config-domain',
            namespace: SYSTEM,
            resourceVersion: before.metadata?.resourceVersion,
          },
          data: { 'ebb.test': '' },
        },
      });
      await eventually('every route on ebb.test', async () => {
        const routes = (await custom.list<Route>(ROUTES)).items.filter((r) => r.metadata.namespace === ns);
        const external = routes.filter((r) => r.metadata.name !== 'internal');
        return external.length > 0 &&
          external.every((r) => r.status?.url === `http://${r.metadata.name ?? ''}.${ns}.ebb.test`)
          ? true
          : undefined;
      });
      // The Service copies its Route's URL on its own reconcile, a moment after the Route's.
      const svc = await eventually('Service hello to show the new URL', async () => {
        const s = await custom.get<Service>(SERVING_SERVICES, ns, 'hello');
        return s.status?.url === `http://hello.${ns}.ebb.test` ? s : undefined;
      });
      expect(svc.status?.url).toBe(`http://hello.${ns}.ebb.test`);
      const internal = await custom.get<Route>(ROUTES, ns, 'internal');
      expect(internal.status?.url).toBe(`http://internal.${ns}.svc.cluster.local`);
    } finally {
      const current = await core.readNamespacedConfigMap({ namespace: SYSTEM, name: 'config-domain' });
      await core.replaceNamespacedConfigMap({
        namespace: SYSTEM,
        name: 'config-domain',
        body: {
          metadata: {
            name: 'config-domain',
            namespace: SYSTEM,
            resourceVersion: current.metadata?.resourceVersion,
          },
          data,
        },
      });
    }
  });

  it('a bad ConfigMap change is rejected by the webhook, naming the key', async () => {
    const error = await core
      .patchNamespacedConfigMap(
        { namespace: SYSTEM, name: 'config-gc', body: { data: { 'min-non-active-revisions': 'many' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )
      .then(
        () => undefined,
        (e: unknown) => String((e as { body?: unknown }).body ?? e),
      );
    expect(error).toContain('min-non-active-revisions');
  });
});
