// The quickstart's decisions, as pure functions: its options, the hello world Service it applies,
// how it reads a Service's progress, and the next steps it prints. quickstart.ts runs them.
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export const QUICKSTART_NAMESPACE = 'default';
/** Knative's published hello world, for clusters other than the local one (whose registry has dev.local/helloworld). */
export const PUBLIC_HELLO_IMAGE = 'ghcr.io/knative/helloworld-go:latest';
/** Knative's shortest stable window: the revision goes inactive 6 s after its last request, not 60 s. */
export const QUICKSTART_WINDOW = '6s';
const WINDOW_ANNOTATION = 'autoscaling.knative.dev/window';

export const USAGE = `usage: npm run quickstart [-- --use-current-context --image REPOSITORY:TAG]

From a fresh clone to a Knative Service that answers through ebb's gateway and scales to zero:
brings up the local cluster (root, Go 1.26+, network namespaces; the first run builds Kubernetes
from source in about 20 min), installs ebb with its Helm chart, applies config/samples/helloworld.yaml
and times a request from zero. Safe to run again.

  --use-current-context   install on the cluster of your current kubectl context instead
  --image REPOSITORY:TAG  ebb's image for that cluster (needed with --use-current-context: build
                          it with \`docker build -t REPOSITORY:TAG .\` and push it)
  --sample-image IMAGE    the hello world app's image there (default ${PUBLIC_HELLO_IMAGE}),
                          e.g. a mirror for a cluster without internet access
  -h, --help              this text`;

export interface QuickstartOptions {
  currentContext: boolean;
  image?: { repository: string; tag: string };
  /** The hello world image on the user's cluster. */
  sampleImage?: string;
}

export type ParsedArgs =
  { kind: 'run'; options: QuickstartOptions } | { kind: 'help' } | { kind: 'error'; message: string };

/** The options, help, or a message for a usage error. */
export function parseQuickstartArgs(argv: readonly string[]): ParsedArgs {
  const error = (message: string): ParsedArgs => ({ kind: 'error', message });
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        'use-current-context': { type: 'boolean', default: false },
        image: { type: 'string' },
        'sample-image': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    return error((e as Error).message);
  }
  if (values.help) return { kind: 'help' };
  const options: QuickstartOptions = { currentContext: values['use-current-context'] };
  if (values.image !== undefined) {
    const image = parseImage(values.image);
    if (image === undefined)
      return error(`--image ${values.image}: want REPOSITORY:TAG, e.g. ghcr.io/me/ebb:0.1.0`);
    options.image = image;
  }
  if (options.currentContext && options.image === undefined) {
    return error(
      '--use-current-context needs --image REPOSITORY:TAG: ebb has no published image yet. ' +
        'Build it with `docker build -t REPOSITORY:TAG .`, push it where your cluster can pull it, and pass it here.',
    );
  }
  const sampleImage = values['sample-image'];
  if (sampleImage !== undefined) {
    if (!options.currentContext) {
      return error(
        '--sample-image applies only with --use-current-context: the local cluster runs dev.local/helloworld.',
      );
    }
    if (sampleImage === '' || /\s/.test(sampleImage))
      return error(`--sample-image ${JSON.stringify(sampleImage)}: want an image reference`);
    options.sampleImage = sampleImage;
  }
  if (!options.currentContext && options.image !== undefined) {
    return error(
      '--image applies only with --use-current-context: the local cluster runs this checkout as its image.',
    );
  }
  return { kind: 'run', options };
}

/** `registry[:port]/path:tag` into repository and tag; a colon before the last slash is a port. */
export function parseImage(text: string): { repository: string; tag: string } | undefined {
  if (text === '' || /[\s@]/.test(text)) return undefined;
  const colon = text.lastIndexOf(':');
  if (colon <= text.lastIndexOf('/')) return undefined;
  const repository = text.slice(0, colon);
  const tag = text.slice(colon + 1);
  if (repository === '' || !/^[\w][\w.-]{0,127}$/.test(tag)) return undefined;
  return { repository, tag };
}

/** helm flags that point the chart at the user's image. */
export function imageFlags(image: { repository: string; tag: string }): string[] {
  return [
    '--set',
    `image.repository=${image.repository}`,
    '--set',
    `image.tag=${image.tag}`,
    '--set',
    'image.pullPolicy=IfNotPresent',
  ];
}

const Sample = z.object({
  apiVersion: z.literal('serving.knative.dev/v1'),
  kind: z.literal('Service'),
  metadata: z.object({ name: z.string(), annotations: z.record(z.string(), z.string()).optional() }).loose(),
  spec: z
    .object({
      template: z
        .object({
          metadata: z
            .object({ annotations: z.record(z.string(), z.string()).optional() })
            .loose()
            .optional(),
          spec: z.object({ containers: z.array(z.object({ image: z.string() }).loose()).min(1) }).loose(),
        })
        .loose(),
    })
    .loose(),
});
export type HelloService = z.infer<typeof Sample>;

/**
 * The hello world sample as the quickstart applies it: in `default`, with Knative's shortest stable
 * window so that scale to zero shows in under a minute, and on another cluster with Knative's
 * published image instead of the local cluster's `dev.local/helloworld`.
 */
export function helloWorldService(sampleYaml: string, remoteImage?: string): HelloService {
  const sample = Sample.parse(parseYaml(sampleYaml));
  const template = sample.spec.template;
  const [first, ...rest] = template.spec.containers;
  if (first === undefined) throw new Error('the hello world sample has no container');
  return {
    ...sample,
    metadata: { ...sample.metadata, namespace: QUICKSTART_NAMESPACE },
    spec: {
      ...sample.spec,
      template: {
        ...template,
        metadata: {
          ...template.metadata,
          annotations: { ...template.metadata?.annotations, [WINDOW_ANNOTATION]: QUICKSTART_WINDOW },
        },
        spec: {
          ...template.spec,
          containers: [remoteImage === undefined ? first : { ...first, image: remoteImage }, ...rest],
        },
      },
    },
  };
}

const Condition = z.object({
  type: z.string(),
  status: z.string(),
  reason: z.string().optional(),
  message: z.string().optional(),
});
const ServiceState = z.object({
  metadata: z.object({ name: z.string(), generation: z.number().optional() }),
  status: z
    .object({
      observedGeneration: z.number().optional(),
      url: z.string().optional(),
      latestCreatedRevisionName: z.string().optional(),
      latestReadyRevisionName: z.string().optional(),
      conditions: z.array(Condition).optional(),
    })
    .optional(),
});

export type Progress =
  | { kind: 'ready'; url: string; host: string; revision: string }
  | { kind: 'failed'; line: string }
  | { kind: 'pending'; line: string };

/** Where a Service stands, in one line a person can follow as it changes. */
export function serviceProgress(raw: unknown): Progress {
  const parsed = ServiceState.safeParse(raw);
  if (!parsed.success) return { kind: 'pending', line: 'waiting for the Service to have a status' };
  const { metadata, status } = parsed.data;
  if (status?.observedGeneration === undefined || status.observedGeneration !== metadata.generation) {
    return { kind: 'pending', line: 'waiting for the controller to see the new generation' };
  }
  const conditions = status.conditions ?? [];
  const ready = conditions.find((c) => c.type === 'Ready');
  const parts = conditions
    .filter((c) => c.type !== 'Ready')
    .map((c) => `${c.type}=${c.status}`)
    .join(' ');
  const revision = status.latestCreatedRevisionName ?? 'none yet';
  const detail = [ready?.reason, ready?.message].filter((s) => s !== undefined && s !== '').join(': ');
  if (ready?.status === 'True' && status.url !== undefined && status.latestReadyRevisionName !== undefined) {
    return {
      kind: 'ready',
      url: status.url,
      host: new URL(status.url).host,
      revision: status.latestReadyRevisionName,
    };
  }
  const line = `revision ${revision}; ${parts === '' ? 'no conditions yet' : parts}${detail === '' ? '' : ` (${detail})`}`;
  return ready?.status === 'False' ? { kind: 'failed', line } : { kind: 'pending', line };
}

/** The local port of `kubectl port-forward`'s first "Forwarding from 127.0.0.1:P -> Q" line. */
export function forwardedPort(output: string): number | undefined {
  const match = /Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(output);
  return match === null ? undefined : Number(match[1]);
}

export interface NextStepsInput {
  host: string;
  /** How to reach the gateway from this machine, e.g. `http://10.96.0.12`. */
  gateway: string;
  /** The local cluster's kubeconfig and kubectl; undefined on the user's own cluster. */
  local?: { kubeconfig: string; kubectlDir: string };
}

export function nextSteps(n: NextStepsInput): string {
  const row = (what: string, how: string) => `  ${what.padEnd(28)} ${how}`;
  return [
    '',
    'Next steps',
    ...(n.local === undefined
      ? []
      : [
          row(
            'use the local cluster',
            `export KUBECONFIG=${n.local.kubeconfig} PATH=${n.local.kubectlDir}:$PATH`,
          ),
        ]),
    row('call it again', `curl -H 'Host: ${n.host}' ${n.gateway}/`),
    row('watch it scale', 'kubectl get pods -l serving.knative.dev/service=hello -w'),
    row(
      'a new revision',
      `kubectl patch ksvc hello --type merge -p '{"spec":{"template":{"spec":{"containers":[{"image":"${n.local === undefined ? PUBLIC_HELLO_IMAGE : 'dev.local/helloworld'}","env":[{"name":"TARGET","value":"v2"}]}]}}}}'`,
    ),
    row(
      'split traffic 90/10, tags',
      'kubectl apply -f config/samples/blue-green.yaml; kubectl get route bluegreen',
    ),
    row("a tag's own URL", `curl -H 'Host: green-bluegreen.default.example.com' ${n.gateway}/`),
    row('gradual rollout', 'kubectl apply -f config/samples/gradual-rollout.yaml'),
    row('autoscaling annotations', 'kubectl apply -f config/samples/autoscaling.yaml'),
    row(
      'metrics (Prometheus)',
      'kubectl -n ebb-system port-forward deploy/ebb-gateway 9090; curl 127.0.0.1:9090/metrics',
    ),
    row('what the metrics mean', 'docs/dataplane.md (gateway, autoscaler), docs/controller.md'),
    row('check manifests offline', 'npm run --silent ebb -- validate -f my-service.yaml'),
    row('delete the Service', 'kubectl delete ksvc hello'),
    row('remove ebb', n.local === undefined ? 'KUBECONFIG=<yours> npm run undeploy' : 'npm run undeploy'),
    ...(n.local === undefined
      ? ["  (the samples run the local cluster's dev.local/ images: put your own images in them first)"]
      : [row('stop the local cluster', 'npm run cluster:down')]),
    '',
  ].join('\n');
}
