// Tests for the Configuration a Service owns: name, owner, labels and annotations propagated from
// the Service (Knative's MakeConfiguration), and the template copied as is.
import { describe, expect, it } from '@jest/globals';
import { ANNOTATIONS, LABELS } from '../../../apis/serving/register.ts';
import type { Service } from '../../../apis/serving/v1/service-types.ts';
import { LAST_APPLIED } from '../../shared/meta.ts';
import { makeConfiguration, serviceChildLabels } from './configuration.ts';

function service(labels: Record<string, string> = {}, annotations: Record<string, string> = {}): Service {
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name: 'hello', namespace: 'default', uid: 'svc-uid', generation: 3, labels, annotations },
    spec: {
      template: {
        metadata: {
          name: 'hello-byo',
          labels: { app: 'x' },
          annotations: { 'autoscaling.knative.dev/min-scale': '1' },
        },
        spec: {
          containers: [{ image: 'ghcr.io/example/hello:1', env: [{ name: 'A', value: '1' }] }],
          timeoutSeconds: 30,
        },
      },
      traffic: [{ latestRevision: true, percent: 100 }],
    },
  };
}

describe('serviceChildLabels', () => {
  it.each<[string, Record<string, string>, Record<string, string>]>([
    ['adds the service name and UID', {}, { [LABELS.service]: 'hello', [LABELS.serviceUID]: 'svc-uid' }],
    [
      'keeps the Service’s own labels',
      { team: 'a', 'app.kubernetes.io/name': 'hello' },
      {
        team: 'a',
        'app.kubernetes.io/name': 'hello',
        [LABELS.service]: 'hello',
        [LABELS.serviceUID]: 'svc-uid',
      },
    ],
    [
      'the Service’s labels cannot override the service labels',
      { [LABELS.service]: 'other', [LABELS.serviceUID]: 'forged' },
      { [LABELS.service]: 'hello', [LABELS.serviceUID]: 'svc-uid' },
    ],
  ])('%s', (_name, labels, want) => {
    expect(serviceChildLabels(service(labels))).toEqual(want);
  });

  it('returns the keys sorted, so equal inputs give byte-equal objects', () => {
    const keys = Object.keys(serviceChildLabels(service({ zeta: '1', alpha: '2' })));
    expect(keys).toEqual([...keys].sort());
  });
});

describe('makeConfiguration', () => {
  it('names the Configuration after the Service and makes the Service its controller', () => {
    const cfg = makeConfiguration(service());
    expect(cfg.apiVersion).toBe('serving.knative.dev/v1');
    expect(cfg.kind).toBe('Configuration');
    expect(cfg.metadata.name).toBe('hello');
    expect(cfg.metadata.namespace).toBe('default');
    expect(cfg.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'serving.knative.dev/v1',
        kind: 'Service',
        name: 'hello',
        uid: 'svc-uid',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(cfg.metadata.generation).toBeUndefined();
  });

  it('labels the Configuration with the Service’s labels plus its name and UID', () => {
    expect(makeConfiguration(service({ team: 'a' })).metadata.labels).toEqual({
      team: 'a',
      [LABELS.service]: 'hello',
      [LABELS.serviceUID]: 'svc-uid',
    });
  });

  it('copies the Service’s annotations except kubectl’s last-applied record', () => {
    const anns = makeConfiguration(
      service({}, { [LAST_APPLIED]: '{"kind":"Service"}', [ANNOTATIONS.lastModifier]: 'alice', note: 'x' }),
    ).metadata.annotations;
    expect(anns).toMatchObject({ [ANNOTATIONS.lastModifier]: 'alice', note: 'x' });
    expect(anns).not.toHaveProperty([LAST_APPLIED]);
  });

  it('does not copy the rollout-duration annotations, which are for the Route', () => {
    const anns = makeConfiguration(
      service(
        {},
        { [ANNOTATIONS.rolloutDuration]: '60s', [ANNOTATIONS.rolloutDurationAlias]: '60s', note: 'x' },
      ),
    ).metadata.annotations;
    expect(anns).toMatchObject({ note: 'x' });
    expect(anns).not.toHaveProperty([ANNOTATIONS.rolloutDuration]);
    expect(anns).not.toHaveProperty([ANNOTATIONS.rolloutDurationAlias]);
  });

  it('lists the Service’s Route in the routes annotation, as the route labeler would', () => {
    expect(makeConfiguration(service()).metadata.annotations?.[ANNOTATIONS.routes]).toBe('hello');
  });

  it('copies the template unchanged, name included', () => {
    const svc = service();
    expect(makeConfiguration(svc).spec).toEqual({ template: svc.spec.template });
  });

  it('copies the template deeply, so editing the Configuration leaves the Service alone', () => {
    const svc = service();
    const cfg = makeConfiguration(svc);
    const container = cfg.spec.template.spec?.containers?.[0];
    if (container === undefined) throw new Error('template lost its container');
    container.image = 'changed';
    expect(svc.spec.template.spec?.containers?.[0]?.image).toBe('ghcr.io/example/hello:1');
  });

  it('is deterministic', () => {
    expect(JSON.stringify(makeConfiguration(service({ b: '1', a: '2' }, { y: '1', x: '2' })))).toBe(
      JSON.stringify(makeConfiguration(service({ a: '2', b: '1' }, { x: '2', y: '1' }))),
    );
  });
});
