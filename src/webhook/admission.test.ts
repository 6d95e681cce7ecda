import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { checkObject } from '../apis/check.ts';
import {
  clusterConfigFromData,
  defaultClusterConfig,
  type ClusterConfig,
} from '../apis/config/cluster-config.ts';
import {
  configValidation,
  defaulting,
  malformedReview,
  review,
  validation,
  type AdmissionContext,
  type AdmissionRequest,
  type AdmissionResponse,
} from './admission.ts';
import { makeDryRunPod, type DryRunPod } from './dry-run.ts';
import type { JsonPatchOperation } from './json-patch.ts';

const ctx: AdmissionContext = { clusterConfig: defaultClusterConfig, systemNamespace: 'ebb-system' };
const CREATOR = 'serving.knative.dev/creator';
const MODIFIER = 'serving.knative.dev/lastModifier';

const container = { image: 'dev.local/helloworld' };
/** What Knative's webhook says about `container` in a Service's template. */
const INSECURE_WARNING =
  'Kubernetes default value is insecure, Knative may default this to secure in a future release: ' +
  ['allowPrivilegeEscalation', 'capabilities', 'runAsNonRoot', 'seccompProfile']
    .map((f) => `spec.template.spec.containers[0].securityContext.${f}`)
    .join(', ');
const SECURE = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  seccompProfile: { type: 'RuntimeDefault' },
  capabilities: { drop: ['ALL'] },
};
const service = {
  apiVersion: 'serving.knative.dev/v1',
  kind: 'Service',
  metadata: { name: 'hello', namespace: 'default' },
  spec: { template: { spec: { containers: [container] } } },
};
const revision = {
  apiVersion: 'serving.knative.dev/v1',
  kind: 'Revision',
  metadata: { name: 'hello-00001', namespace: 'default' },
  spec: { containers: [container] },
};
const configuration = {
  apiVersion: 'serving.knative.dev/v1',
  kind: 'Configuration',
  metadata: { name: 'hello', namespace: 'default' },
  spec: { template: { spec: { containers: [container] } } },
};
const route = {
  apiVersion: 'serving.knative.dev/v1',
  kind: 'Route',
  metadata: { name: 'hello', namespace: 'default' },
  spec: { traffic: [{ configurationName: 'hello', percent: 100 }] },
};

/** What the defaulting webhook would have stored for `object` created by `user`. */
function stored<T>(object: T, user = 'alice'): T {
  return checkObject(object, defaultClusterConfig(), { user }).defaulted as T;
}

function withAnnotations<T extends { metadata: object }>(
  object: T,
  annotations: Record<string, string>,
): T & { metadata: { annotations: Record<string, string> } } {
  return { ...object, metadata: { ...object.metadata, annotations } };
}

function request(object: unknown, overrides: Partial<AdmissionRequest> = {}): AdmissionRequest {
  const kind = (object as { kind?: string } | null)?.kind ?? 'Service';
  return {
    uid: 'uid-1',
    kind: { group: 'serving.knative.dev', version: 'v1', kind },
    operation: 'CREATE',
    userInfo: { username: 'alice' },
    namespace: 'default',
    object,
    ...overrides,
  };
}

function patchOf(response: AdmissionResponse): JsonPatchOperation[] {
  expect(response.patchType).toBe('JSONPatch');
  return JSON.parse(Buffer.from(response.patch ?? '', 'base64').toString()) as JsonPatchOperation[];
}

/** Applies the add / replace / remove operations the defaulting webhook emits. */
function apply(document: unknown, ops: readonly JsonPatchOperation[]): unknown {
  const doc: unknown = structuredClone(document);
  for (const op of ops) {
    const tokens = op.path
      .slice(1)
      .split('/')
      .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
    const last = tokens.pop() ?? '';
    let parent = doc as Record<string, unknown>;
    for (const t of tokens) parent = parent[t] as Record<string, unknown>;
    if (Array.isArray(parent) && op.op === 'add') parent.splice(Number(last), 0, op.value);
    else if (op.op === 'remove') Reflect.deleteProperty(parent, last);
    else parent[last] = op.value;
  }
  return doc;
}

describe('defaulting', () => {
  it.each([
    ['Service', service, true],
    ['Configuration', configuration, true],
    ['Route', route, true],
    // checkObject records users on the kinds people write; Revisions come from Configurations.
    ['Revision', revision, false],
  ])('patches a new %s into its defaulted form', (_kind, object, annotated) => {
    const response = defaulting(request(object), ctx);
    expect(response).toMatchObject({ uid: 'uid-1', allowed: true });
    const patched = apply(object, patchOf(response)) as {
      metadata: { annotations?: Record<string, string> };
    };
    expect(patched).toEqual(stored(object));
    expect(patched.metadata.annotations).toEqual(
      annotated ? { [CREATOR]: 'alice', [MODIFIER]: 'alice' } : undefined,
    );
  });

  it('escapes the annotation keys it adds to existing annotations', () => {
    const response = defaulting(request(withAnnotations(route, { team: 'a' })), ctx);
    expect(patchOf(response)).toEqual(
      expect.arrayContaining([
        { op: 'add', path: '/metadata/annotations/serving.knative.dev~1creator', value: 'alice' },
        { op: 'add', path: '/metadata/annotations/serving.knative.dev~1lastModifier', value: 'alice' },
      ]),
    );
  });

  it('fills in the Service defaults Knative documents', () => {
    const patched = apply(service, patchOf(defaulting(request(service), ctx))) as typeof service;
    expect(patched.spec).toMatchObject({
      template: { spec: { timeoutSeconds: 300, containers: [{ name: 'user-container' }] } },
      traffic: [{ latestRevision: true, percent: 100 }],
    });
  });

  it('uses the live cluster config', () => {
    const config = clusterConfigFromData({ 'config-defaults': { 'revision-timeout-seconds': '120' } }).config;
    const response = defaulting(request(service), { ...ctx, clusterConfig: () => config });
    expect(patchOf(response)).toContainEqual({
      op: 'add',
      path: '/spec/template/spec/timeoutSeconds',
      value: 120,
    });
  });

  it('records no user when the request has none', () => {
    const response = defaulting(request(route, { userInfo: {} }), ctx);
    expect(patchOf(response).map((op) => op.path)).not.toContain('/metadata/annotations');
  });

  it.each<[string, AdmissionRequest, Partial<AdmissionResponse>]>([
    [
      'an unchanged update',
      request(stored(service), {
        operation: 'UPDATE',
        oldObject: stored(service),
        userInfo: { username: 'bob' },
      }),
      {},
    ],
    ['a delete', request(null, { operation: 'DELETE', oldObject: service }), {}],
    ['a connect', request(service, { operation: 'CONNECT' }), {}],
    [
      'a status update',
      request(service, { operation: 'UPDATE', oldObject: service, subResource: 'status' }),
      {},
    ],
    ['another group', request(service, { kind: { group: 'apps', version: 'v1', kind: 'Deployment' } }), {}],
    [
      'a serving kind ebb does not serve',
      request(service, { kind: { group: 'serving.knative.dev', version: 'v1', kind: 'DomainMapping' } }),
      {},
    ],
    [
      'a Revision update, never defaulted (Knative issue 8128)',
      request(revision, { operation: 'UPDATE', oldObject: revision }),
      {},
    ],
  ])('allows %s without a patch', (_name, req, extra) => {
    expect(defaulting(req, ctx)).toEqual({ uid: 'uid-1', allowed: true, ...extra });
  });

  it('sets lastModifier and keeps the creator when an update changes the spec', () => {
    const old = stored(service);
    const changed = {
      ...old,
      spec: { ...old.spec, template: { spec: { ...old.spec.template.spec, containerConcurrency: 5 } } },
    };
    const ops = patchOf(
      defaulting(
        request(changed, { operation: 'UPDATE', oldObject: old, userInfo: { username: 'bob' } }),
        ctx,
      ),
    );
    expect(ops).toEqual([
      { op: 'replace', path: '/metadata/annotations/serving.knative.dev~1lastModifier', value: 'bob' },
    ]);
  });

  it('does not claim creation when the stored object does not decode', () => {
    const old = { ...stored(service), bogus: true };
    const incoming = withAnnotations(service, { [CREATOR]: 'alice', [MODIFIER]: 'alice' });
    const response = defaulting(
      request(incoming, { operation: 'UPDATE', oldObject: old, userInfo: { username: 'bob' } }),
      ctx,
    );
    const patched = apply(incoming, patchOf(response)) as typeof incoming;
    expect(patched.metadata.annotations).toEqual({ [CREATOR]: 'alice', [MODIFIER]: 'alice' });
  });

  it.each<[string, AdmissionRequest, string]>([
    [
      'an unknown field',
      request({ ...service, spec: { ...service.spec, bogus: 1 } }),
      'mutation failed: unknown field "bogus": spec.bogus\nremove it, or check its spelling and indentation',
    ],
    [
      'a wrong type',
      request({ ...service, spec: 'x' }),
      'mutation failed: expected object, got string: spec',
    ],
    ['no object on a create', request(undefined), 'mutation failed: the new object may not be nil'],
    ['an array as object', request([]), 'mutation failed: the new object may not be nil'],
  ])('rejects %s', (_name, req, message) => {
    expect(defaulting(req, ctx)).toEqual({
      uid: 'uid-1',
      allowed: false,
      status: { status: 'Failure', code: 400, reason: 'BadRequest', message },
    });
  });

  it('leaves validation to the validating webhook', () => {
    const bad = { ...service, spec: { ...service.spec, traffic: [{ latestRevision: true, percent: 90 }] } };
    expect(defaulting(request(bad), ctx).allowed).toBe(true);
  });
});

describe('validation', () => {
  const badTraffic = {
    ...service,
    spec: { ...service.spec, traffic: [{ latestRevision: true, percent: 90 }] },
  };
  const reservedEnv = {
    ...service,
    spec: { template: { spec: { containers: [{ ...container, env: [{ name: 'PORT', value: '1' }] }] } } },
  };
  const longTimeout = {
    ...service,
    spec: { template: { spec: { containers: [container], timeoutSeconds: 700 } } },
  };
  const oldRevision = stored(revision);
  const changedRevision = { ...oldRevision, spec: { ...oldRevision.spec, containerConcurrency: 3 } };
  const oldService = stored(service);
  const stolen = withAnnotations(oldService, { [CREATOR]: 'mallory', [MODIFIER]: 'alice' });

  it.each<[string, AdmissionRequest, string]>([
    [
      'traffic that does not add up',
      request(badTraffic),
      'validation failed: Traffic targets sum to 90, want 100: spec.traffic\nthe percent of all traffic targets must add up to exactly 100',
    ],
    [
      'two problems, in Knative order',
      request({
        ...reservedEnv,
        spec: { ...reservedEnv.spec, traffic: [{ latestRevision: true, percent: 90 }] },
      }),
      'validation failed: "PORT" is a reserved environment variable: spec.template.spec.containers[0].env[0].name\nTraffic targets sum to 90, want 100: spec.traffic\nthe percent of all traffic targets must add up to exactly 100',
    ],
    [
      'a timeout over the cluster maximum',
      request(longTimeout),
      'validation failed: expected 0 <= 700 <= 600: spec.template.spec.timeoutSeconds',
    ],
    [
      'an unknown field',
      request({ ...route, spec: { ...route.spec, bogus: 1 } }),
      'decoding request failed: unknown field "bogus": spec.bogus\nremove it, or check its spelling and indentation',
    ],
    [
      'a changed Revision spec',
      request(changedRevision, { operation: 'UPDATE', oldObject: oldRevision }),
      'validation failed: Immutable fields changed (-old +new): spec',
    ],
    [
      'a changed creator',
      request(stolen, { operation: 'UPDATE', oldObject: oldService }),
      'validation failed: annotation value is immutable: metadata.annotations.serving.knative.dev/creator',
    ],
    [
      'no object on an update',
      request(null, { operation: 'UPDATE', oldObject: service }),
      'validation failed: the new object may not be nil',
    ],
  ])('rejects %s', async (_name, req, message) => {
    const response = await validation(req, ctx);
    expect(response).toMatchObject({
      uid: 'uid-1',
      allowed: false,
      status: { status: 'Failure', code: 400, reason: 'BadRequest' },
    });
    expect(response.status?.message.startsWith(message)).toBe(true);
  });

  it.each<[string, AdmissionRequest, ClusterConfig]>([
    ['a valid new Service', request(service), defaultClusterConfig()],
    ['each sample kind', request(route), defaultClusterConfig()],
    [
      'a stored Service updated unchanged',
      request(oldService, { operation: 'UPDATE', oldObject: oldService }),
      defaultClusterConfig(),
    ],
    [
      'a delete of anything',
      request(null, { operation: 'DELETE', oldObject: badTraffic }),
      defaultClusterConfig(),
    ],
    [
      'a status update',
      request(badTraffic, { operation: 'UPDATE', oldObject: badTraffic, subResource: 'status' }),
      defaultClusterConfig(),
    ],
    [
      'another group',
      request(badTraffic, { kind: { group: 'apps', version: 'v1', kind: 'Deployment' } }),
      defaultClusterConfig(),
    ],
    [
      'a timeout the cluster config allows',
      request(longTimeout),
      clusterConfigFromData({ 'config-defaults': { 'max-revision-timeout-seconds': '900' } }).config,
    ],
  ])('allows %s', async (_name, req, config) => {
    // Warnings (the insecure-default ones, below) never stand in the way.
    const response = await validation(req, { ...ctx, clusterConfig: () => config });
    expect({ ...response, warnings: undefined }).toEqual({ uid: 'uid-1', allowed: true });
  });

  it("warns about a container left at Kubernetes' insecure defaults, in Knative's words", async () => {
    expect(await validation(request(service), ctx)).toEqual({
      uid: 'uid-1',
      allowed: true,
      warnings: [INSECURE_WARNING],
    });
  });

  it('does not warn about a container with all four settings chosen', async () => {
    const secured = {
      ...service,
      spec: { template: { spec: { containers: [{ ...container, securityContext: SECURE }] } } },
    };
    expect(await validation(request(secured), ctx)).toEqual({ uid: 'uid-1', allowed: true });
  });

  it('passes the warnings on with a denial too', async () => {
    const response = await validation(request(reservedEnv), ctx);
    expect(response.allowed).toBe(false);
    expect(response.warnings).toEqual([INSECURE_WARNING]);
  });
});

describe('validation of a dry run', () => {
  /** A DryRunPod that records its calls and answers `refusal`. */
  function fakeDryRun(refusal?: string): { calls: [string, V1Pod][]; ctx: AdmissionContext } {
    const calls: [string, V1Pod][] = [];
    const dryRunPod: DryRunPod = (namespace, pod) => {
      calls.push([namespace, pod]);
      return Promise.resolve(refusal);
    };
    return { calls, ctx: { ...ctx, dryRunPod } };
  }
  const dryRun = (object: unknown, overrides: Partial<AdmissionRequest> = {}): AdmissionRequest =>
    request(object, { dryRun: true, ...overrides });
  const invalidName = {
    ...service,
    spec: { template: { spec: { containers: [{ ...container, name: '&InvalidValue' }] } } },
  };
  const refusal =
    'Pod "dry-run-validationx7k2p" is invalid: spec.containers[0].name: Invalid value: "&InvalidValue": ' +
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'";
  const owned = {
    ...configuration,
    metadata: {
      ...configuration.metadata,
      labels: { 'serving.knative.dev/service': 'hello' },
      ownerReferences: [
        { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'hello', uid: 'u', controller: true },
      ],
    },
  };

  it("denies with the API server's refusal, in Knative's words, keeping the warnings", async () => {
    const { calls, ctx: withDryRun } = fakeDryRun(refusal);
    expect(await validation(dryRun(invalidName), withDryRun)).toEqual({
      uid: 'uid-1',
      allowed: false,
      status: {
        status: 'Failure',
        code: 400,
        reason: 'BadRequest',
        message: `validation callback failed: dry run failed with ${refusal}: spec.template`,
      },
      warnings: [INSECURE_WARNING],
    });
    expect(calls).toHaveLength(1);
  });

  it('dry-runs the pod ebb would run, in the namespace of the object', async () => {
    const { calls, ctx: withDryRun } = fakeDryRun();
    const elsewhere = { ...invalidName, metadata: { ...invalidName.metadata, namespace: 'team-a' } };
    expect((await validation(dryRun(elsewhere, { namespace: 'team-a' }), withDryRun)).allowed).toBe(true);
    expect(calls).toEqual([
      ['team-a', makeDryRunPod(invalidName.spec.template.spec, 'team-a', ctx.clusterConfig())],
    ]);
    const [[, pod]] = calls as [[string, V1Pod]];
    expect(pod.metadata).toEqual({ generateName: 'dry-run-validation', namespace: 'team-a' });
    expect(pod.spec?.containers[0]?.name).toBe('&InvalidValue');
  });

  it.each<[string, string]>([
    ['an unreachable API server', 'connect ECONNREFUSED 10.96.0.1:443'],
    ['a 5xx', 'Internal error occurred: etcdserver: request timed out'],
    ['a dry run that timed out', 'no answer from the API server within 8s'],
  ])('denies when the dry run fails: %s', async (_name, message) => {
    const response = await validation(dryRun(service), fakeDryRun(message).ctx);
    expect(response.status?.message).toBe(
      `validation callback failed: dry run failed with ${message}: spec.template`,
    );
  });

  it('checks a Configuration no Service owns', async () => {
    const { calls, ctx: withDryRun } = fakeDryRun(refusal);
    expect((await validation(dryRun(configuration), withDryRun)).allowed).toBe(false);
    expect(calls).toHaveLength(1);
  });

  it('allows what another webhook on Pods cannot dry-run', async () => {
    const message = 'admission webhook "policy.example.com" does not support dry run';
    expect(await validation(dryRun(service), fakeDryRun(message).ctx)).toEqual({
      uid: 'uid-1',
      allowed: true,
      warnings: [INSECURE_WARNING],
    });
  });

  it.each<[string, AdmissionRequest]>([
    ['a request that is no dry run', request(invalidName)],
    ['a Configuration a Service owns', dryRun(owned)],
    ['a Revision', dryRun(revision)],
    ['a Route', dryRun(route)],
    ['a delete', dryRun(null, { operation: 'DELETE', oldObject: service })],
  ])('does not dry-run %s', async (_name, req) => {
    const { calls, ctx: withDryRun } = fakeDryRun(refusal);
    expect((await validation(req, withDryRun)).allowed).toBe(true);
    expect(calls).toEqual([]);
  });

  it('reports what validation finds without a dry run', async () => {
    const { calls, ctx: withDryRun } = fakeDryRun(refusal);
    const bad = {
      ...invalidName,
      spec: { ...invalidName.spec, traffic: [{ latestRevision: true, percent: 90 }] },
    };
    const response = await validation(dryRun(bad), withDryRun);
    expect(response.status?.message).toMatch(/^validation failed: Traffic targets sum to 90/);
    expect(calls).toEqual([]);
  });
});

describe('configValidation', () => {
  function configMap(
    name: string,
    data: unknown,
    overrides: Partial<AdmissionRequest> = {},
  ): AdmissionRequest {
    return {
      uid: 'uid-2',
      kind: { group: '', version: 'v1', kind: 'ConfigMap' },
      operation: 'UPDATE',
      namespace: 'ebb-system',
      name,
      object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ebb-system' }, data },
      ...overrides,
    };
  }

  it.each<[string, AdmissionRequest, string]>([
    [
      'a value out of range',
      configMap('config-autoscaler', { 'max-scale-up-rate': '1' }),
      'validation failed: max-scale-up-rate = 1, must be greater than 1.0: data[max-scale-up-rate]',
    ],
    [
      'a bad duration on create',
      configMap('config-autoscaler', { 'stable-window': 'soon' }, { operation: 'CREATE' }),
      'validation failed: failed to parse "stable-window": time: invalid duration "soon": data[stable-window]',
    ],
    [
      'a non-string value',
      configMap('config-gc', { 'min-non-active-revisions': 5 }),
      'validation failed: expected string, got integer: data.min-non-active-revisions',
    ],
  ])('rejects %s', (_name, req, message) => {
    const response = configValidation(req, ctx);
    expect(response).toMatchObject({
      uid: 'uid-2',
      allowed: false,
      status: { code: 400, reason: 'BadRequest' },
    });
    expect(response.status?.message.startsWith(message)).toBe(true);
  });

  it('names the ConfigMap from the object when the request does not', () => {
    const req = configMap('config-autoscaler', { 'max-scale-up-rate': '1' });
    delete req.name;
    expect(configValidation(req, ctx).allowed).toBe(false);
  });

  it.each<[string, AdmissionRequest]>([
    ['a valid ConfigMap', configMap('config-autoscaler', { 'max-scale-up-rate': '2' })],
    ['no data', configMap('config-features', undefined)],
    ['null data', configMap('config-features', null)],
    ['a config-* ConfigMap ebb does not read', configMap('config-logging', { 'zap-logger-config': '{' })],
    ['an unrelated ConfigMap', configMap('my-settings', { 'max-scale-up-rate': '1' })],
    [
      'another namespace',
      configMap('config-autoscaler', { 'max-scale-up-rate': '1' }, { namespace: 'default' }),
    ],
    ['a delete', configMap('config-autoscaler', undefined, { operation: 'DELETE', object: null })],
    [
      'another kind',
      configMap('config-autoscaler', {}, { kind: { group: '', version: 'v1', kind: 'Secret' } }),
    ],
  ])('allows %s', (_name, req) => {
    expect(configValidation(req, ctx)).toEqual({ uid: 'uid-2', allowed: true });
  });
});

describe('review', () => {
  const envelope = (req: unknown): unknown => ({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: req,
  });

  it('wraps the answer in an AdmissionReview that echoes the uid', async () => {
    const outcome = await review('validation', envelope(request(service, { uid: 'abc-123' })), ctx);
    expect(outcome).toEqual({
      httpStatus: 200,
      body: {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: { uid: 'abc-123', allowed: true, warnings: [INSECURE_WARNING] },
      },
      kind: 'Service',
      namespace: 'default',
      name: 'hello',
      operation: 'CREATE',
      allowed: true,
    });
  });

  it('reports the denial for logs', async () => {
    const outcome = await review(
      'config-validation',
      envelope({
        uid: 'u',
        kind: { group: '', version: 'v1', kind: 'ConfigMap' },
        operation: 'CREATE',
        namespace: 'ebb-system',
        object: { metadata: { name: 'config-autoscaler' }, data: { 'max-scale-up-rate': '1' } },
      }),
      ctx,
    );
    expect(outcome).toMatchObject({
      httpStatus: 200,
      kind: 'ConfigMap',
      name: 'config-autoscaler',
      allowed: false,
    });
    expect(outcome.message).toMatch(/^validation failed: max-scale-up-rate/);
  });

  it.each<[string, AdmissionContext['clusterConfig']]>([
    [
      'a failing config getter',
      () => {
        throw new Error('config store broke');
      },
    ],
  ])('answers an internal error for %s', async (_name, clusterConfig) => {
    const outcome = await review('defaulting', envelope(request(service)), { ...ctx, clusterConfig });
    expect(outcome.httpStatus).toBe(200);
    expect(outcome.body.response).toEqual({
      uid: 'uid-1',
      allowed: false,
      status: {
        status: 'Failure',
        code: 500,
        reason: 'InternalError',
        message: 'internal error: config store broke',
      },
    });
  });

  it.each<[string, unknown, string, string]>([
    ['null', null, '', 'malformed AdmissionReview: expected a JSON object'],
    ['an array', [], '', 'malformed AdmissionReview: expected a JSON object'],
    ['a string', 'review', '', 'malformed AdmissionReview: expected a JSON object'],
    [
      'a v1beta1 review',
      { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: { uid: 'old' } },
      'old',
      'malformed AdmissionReview: expected apiVersion "admission.k8s.io/v1" and kind "AdmissionReview", got "admission.k8s.io/v1beta1" "AdmissionReview"',
    ],
    ['no request', envelope(undefined), '', 'malformed AdmissionReview: request: missing field(s)'],
    [
      'no uid',
      envelope({ ...request(service), uid: undefined }),
      '',
      'malformed AdmissionReview: request.uid: missing field(s)',
    ],
    [
      'an unknown operation',
      envelope({ ...request(service), operation: 'PATCH' }),
      'uid-1',
      'malformed AdmissionReview: request.operation: invalid value: "PATCH" (expected one of: "CREATE", "UPDATE", "DELETE", "CONNECT")',
    ],
    [
      'no kind',
      envelope({ ...request(service), kind: undefined }),
      'uid-1',
      'malformed AdmissionReview: request.kind: missing field(s)',
    ],
  ])('answers 400 for %s', async (_name, body, uid, message) => {
    const outcome = await review('defaulting', body, ctx);
    expect(outcome).toMatchObject({ httpStatus: 400, allowed: false, message });
    expect(outcome.body).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: {
        uid,
        allowed: false,
        status: { status: 'Failure', code: 400, reason: 'BadRequest', message },
      },
    });
  });
});

describe('malformedReview', () => {
  it.each([
    [413, 'RequestEntityTooLarge'],
    [415, 'UnsupportedMediaType'],
    [400, 'BadRequest'],
  ])('answers HTTP %d with reason %s', (status, reason) => {
    const outcome = malformedReview('why', 'u', status);
    expect(outcome.httpStatus).toBe(status);
    expect(outcome.body.response).toEqual({
      uid: 'u',
      allowed: false,
      status: { status: 'Failure', code: status, reason, message: 'why' },
    });
  });
});
