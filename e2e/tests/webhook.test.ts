// The API server calls a Service-referenced validating webhook that runs as a pod: aggregator
// routing resolves the Service to the pod's endpoint, and the webhook's answer reaches the client.
// Then ebb's own validating webhook, as installed by `npm run deploy`, answers a server-side dry run
// as Knative's does (its e2e TestServiceDryRunValidationWithInvalidPodSpec).
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { AdmissionregistrationV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Service } from '../../src/apis/serving/v1/service-types.ts';
import { CustomResources, SERVING_SERVICES, apiMessage } from '../../src/controller/kube.ts';
import { core, createNamespace, custom, deleteNamespace, eventually, kc } from './kube.ts';

const run = promisify(execFile);
const admission = kc.makeApiClient(AdmissionregistrationV1Api);
let ns: string;
let dir: string;
const configName = () => `e2e-webhook-${ns}`;

/** A throwaway CA and a serving certificate for webhook.<ns>.svc. */
async function certificates(): Promise<{ ca: string; cert: string; key: string }> {
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  await openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '1',
    '-subj',
    '/CN=e2e-webhook-ca',
  );
  await openssl(
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'tls.key',
    '-out',
    'tls.csr',
    '-subj',
    `/CN=webhook.${ns}.svc`,
  );
  const ext = join(dir, 'ext');
  await run('sh', [
    '-c',
    `printf 'subjectAltName=DNS:webhook.${ns}.svc,DNS:webhook.${ns}.svc.cluster.local\\nextendedKeyUsage=serverAuth\\n' > ${ext}`,
  ]);
  await openssl(
    'x509',
    '-req',
    '-in',
    'tls.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-out',
    'tls.crt',
    '-extfile',
    ext,
  );
  const read = (f: string) => readFile(join(dir, f), 'utf8');
  return { ca: await read('ca.crt'), cert: await read('tls.crt'), key: await read('tls.key') };
}

beforeAll(async () => {
  ns = await createNamespace('e2e-webhook');
  dir = await mkdtemp(join(tmpdir(), 'ebb-webhook-'));
});

afterAll(async () => {
  await admission.deleteValidatingWebhookConfiguration({ name: configName() }).catch(() => undefined);
  await deleteNamespace(ns);
  await rm(dir, { recursive: true, force: true });
});

it('calls a Service-referenced validating webhook running in a pod', async () => {
  const { ca, cert, key } = await certificates();
  await core.createNamespacedSecret({
    namespace: ns,
    body: {
      metadata: { name: 'webhook-tls' },
      type: 'kubernetes.io/tls',
      stringData: { 'tls.crt': cert, 'tls.key': key },
    },
  });
  await core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name: 'webhook', labels: { app: 'webhook' } },
      spec: {
        containers: [
          {
            name: 'webhook',
            image: 'dev.local/webhook',
            env: [
              { name: 'TLS_CERT_FILE', value: '/etc/webhook/tls.crt' },
              { name: 'TLS_KEY_FILE', value: '/etc/webhook/tls.key' },
            ],
            ports: [{ containerPort: 8443 }],
            readinessProbe: { tcpSocket: { port: 8443 }, periodSeconds: 1 },
            volumeMounts: [{ name: 'tls', mountPath: '/etc/webhook', readOnly: true }],
          },
        ],
        volumes: [{ name: 'tls', secret: { secretName: 'webhook-tls' } }],
      },
    },
  });
  await core.createNamespacedService({
    namespace: ns,
    body: {
      metadata: { name: 'webhook' },
      spec: { selector: { app: 'webhook' }, ports: [{ port: 443, targetPort: 8443 }] },
    },
  });
  await eventually('the webhook pod Ready', async () => {
    const pod = await core.readNamespacedPod({ name: 'webhook', namespace: ns });
    return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
  });
  await admission.createValidatingWebhookConfiguration({
    body: {
      metadata: { name: configName() },
      webhooks: [
        {
          name: 'deny.e2e.ebb.dev',
          clientConfig: {
            service: { name: 'webhook', namespace: ns, path: '/validate', port: 443 },
            caBundle: Buffer.from(ca).toString('base64'),
          },
          rules: [
            { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'] },
          ],
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
          failurePolicy: 'Fail',
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
          timeoutSeconds: 5,
        },
      ],
    },
  });
  // The API server picks up new webhook configurations asynchronously: retry until it denies.
  const denial = await eventually('the webhook to deny', async () => {
    const name = `denied-${Date.now().toString(36)}`;
    try {
      await core.createNamespacedConfigMap({
        namespace: ns,
        body: { metadata: { name, labels: { 'e2e-deny': 'true' } } },
      });
      await core.deleteNamespacedConfigMap({ name, namespace: ns });
      return undefined;
    } catch (error) {
      return (error as { body?: string }).body;
    }
  });
  expect(denial).toContain('denied by the e2e webhook');
  await core.createNamespacedConfigMap({
    namespace: ns,
    body: { metadata: { name: 'allowed', labels: { 'e2e-deny': 'false' } } },
  });
  const logs = await core.readNamespacedPodLog({ name: 'webhook', namespace: ns });
  expect(logs).toContain('webhook reviewed allowed: allowed');
});

/** A Service's patch with dryRun=All, as Knative's PatchServiceWithDryRun sends it. */
async function patchWithDryRun(name: string, patch: unknown, type: PatchStrategy): Promise<Service> {
  return (await custom.patchNamespacedCustomObject(
    {
      group: 'serving.knative.dev',
      version: 'v1',
      namespace: ns,
      plural: 'services',
      name,
      body: patch,
      dryRun: 'All',
    },
    setHeaderOptions('Content-Type', type),
  )) as Service;
}

/** The API server's message when it refused `call`. */
async function refusal(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    return apiMessage(error);
  }
  throw new Error('expected the API server to refuse');
}

it("answers a dry run of an invalid pod spec as Knative's webhook does, and lets a valid one through", async () => {
  const services = new CustomResources(kc);
  const name = 'dry-run';
  await services.create<Service>(SERVING_SERVICES, {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: { template: { spec: { containers: [{ image: 'dev.local/helloworld' }] } } },
  });
  const stored = await services.get<Service>(SERVING_SERVICES, ns, name);

  // Knative's own validation leaves container names alone; the API server's Pod validation does not.
  const denial = await refusal(
    patchWithDryRun(
      name,
      [{ op: 'add', path: '/spec/template/spec/containers/0/name', value: '&InvalidValue' }],
      PatchStrategy.JsonPatch,
    ),
  );
  // The whole message, as Knative's webhook words it around the API server's refusal.
  expect(denial).toMatch(
    /^admission webhook "validation\.webhook\.serving\.knative\.dev" denied the request: validation callback failed: dry run failed with Pod "dry-run-validation[a-z0-9]*" is invalid: spec\.containers\[0\]\.name: Invalid value: "&InvalidValue": .*: spec\.template$/s,
  );

  const accepted = await patchWithDryRun(
    name,
    {
      spec: {
        template: {
          spec: { containers: [{ image: 'dev.local/helloworld', env: [{ name: 'GREETING', value: 'hi' }] }] },
        },
      },
    },
    PatchStrategy.MergePatch,
  );
  expect(accepted.spec.template.spec?.containers?.[0]?.env).toEqual([{ name: 'GREETING', value: 'hi' }]);

  // Dry runs store nothing: neither the Service's change nor a Pod.
  const after = await services.get<Service>(SERVING_SERVICES, ns, name);
  expect(after.metadata.generation).toBe(stored.metadata.generation);
  const pods = await core.listNamespacedPod({ namespace: ns });
  expect(pods.items.map((p) => p.metadata?.name).filter((n) => n?.startsWith('dry-run-validation'))).toEqual(
    [],
  );
});
