// Builds the Deployment that runs a Revision's pods (Knative's resources/deploy.go, without the
// queue-proxy: ebb's gateway measures traffic, so the pod is the user's containers alone and the
// kubelet probes the serving container directly). Pure and deterministic: the same Revision and
// configuration always give a deep-equal Deployment.
import type { V1Deployment, V1PodSpec } from '@kubernetes/client-node';
import { findAnnotation } from '../../../apis/autoscaling/register.ts';
import type { ClusterConfig } from '../../../apis/config/cluster-config.ts';
import type { DeploymentConfig } from '../../../apis/config/deployment.ts';
import { parseGoDuration } from '../../../apis/config/go-duration.ts';
import type { Container, EnvVar, Probe } from '../../../apis/core/v1.ts';
import { ANNOTATIONS, LABELS } from '../../../apis/serving/register.ts';
import type { Revision, RevisionSpec } from '../../../apis/serving/v1/revision-types.ts';
import { controllerRef } from '../../shared/meta.ts';
import { deploymentAnnotations, podAnnotations, revisionChildLabels, revisionSelector } from './meta.ts';
import { deploymentName } from './names.ts';
import { servingContainerIndex, USER_PORT_NAME, userPort } from './serving-container.ts';

/** What the Deployment depends on besides the Revision; a ClusterConfig will do. */
export type DeploymentBuildConfig = Pick<ClusterConfig, 'deployment' | 'autoscaler'> &
  Partial<Pick<ClusterConfig, 'defaults'>>;

export function makeDeployment(rev: Revision, cfg: DeploymentBuildConfig): V1Deployment {
  const labels = revisionChildLabels(rev);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: deploymentName(rev),
      namespace: rev.metadata.namespace,
      labels,
      annotations: deploymentAnnotations(rev),
      ownerReferences: [controllerRef(rev)],
    },
    spec: {
      replicas: initialScale(rev, cfg),
      selector: revisionSelector(rev),
      progressDeadlineSeconds: progressDeadlineSeconds(rev, cfg.deployment),
      // Never take a ready pod away before its replacement is ready.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0 } },
      // Revisions are the history; old ReplicaSets are only clutter in etcd.
      revisionHistoryLimit: 0,
      template: {
        metadata: { labels: { ...labels }, annotations: podAnnotations(rev) },
        spec: makePodSpec(rev, cfg),
      },
    },
  };
}

/** Replicas at creation: the initial-scale annotation, else config-autoscaler's initial-scale.
 * After creation the autoscaler owns replicas (and applies min-scale). */
/**
 * Seconds a leaving pod keeps serving before its containers get SIGTERM. Knative's queue-proxy holds
 * the user container in its preStop hook until it has drained; ebb has no sidecar, so the serving
 * container sleeps in preStop instead, while the gateway replicas see the pod leave its
 * EndpointSlice and stop sending it requests. Longer than that takes on a busy cluster, short
 * enough not to keep scaled-down pods long.
 */
export const POD_DRAIN_SECONDS = 10;

export function initialScale(rev: Revision, cfg: Pick<ClusterConfig, 'autoscaler'>): number {
  const found = findAnnotation(rev.metadata.annotations, 'initialScale');
  if (found !== undefined && /^[+-]?\d+$/.test(found.value)) return Number(found.value);
  return cfg.autoscaler.initialScale;
}

/** Whole seconds from the progress-deadline annotation, else from config-deployment. */
export function progressDeadlineSeconds(rev: Revision, cfg: DeploymentConfig): number {
  const value = rev.metadata.annotations?.[ANNOTATIONS.progressDeadline];
  const ms = value === undefined ? undefined : parseGoDuration(value);
  return Math.trunc((ms ?? cfg.progressDeadlineMs) / 1000);
}

function makePodSpec(rev: Revision, cfg: DeploymentBuildConfig): V1PodSpec {
  const spec: RevisionSpec = structuredClone(rev.spec);
  // Knative's own fields; the rest is a Kubernetes PodSpec.
  delete spec.containerConcurrency;
  delete spec.timeoutSeconds;
  delete spec.responseStartTimeoutSeconds;
  delete spec.idleTimeoutSeconds;
  const serving = servingContainerIndex(rev.spec);
  const port = userPort(rev.spec);
  // Knative gives in-flight requests the whole request timeout to finish on shutdown.
  const grace = rev.spec.timeoutSeconds ?? cfg.defaults?.revisionTimeoutSeconds;
  if (spec.containers !== undefined) {
    spec.containers = spec.containers.map((c, i) =>
      i === serving ? makeServingContainer(c, rev, port, grace) : makeContainer(c, rev),
    );
  }
  // Images stay as the template names them: ebb resolves no tag through a registry, and a
  // Revision's status.imageDigest (revision-status.ts) records what a node ran, not a pin.

  if (grace === undefined) delete spec.terminationGracePeriodSeconds;
  else spec.terminationGracePeriodSeconds = grace;
  // Without config-defaults in hand, Knative's default (no service links) applies.
  const links =
    spec.enableServiceLinks ?? (cfg.defaults === undefined ? false : cfg.defaults.enableServiceLinks);
  if (links === undefined) delete spec.enableServiceLinks;
  else spec.enableServiceLinks = links;

  spec.runtimeClassName ??= runtimeClassName(cfg.deployment, rev.metadata.labels ?? {});
  if (spec.runtimeClassName === undefined) delete spec.runtimeClassName;
  if (
    spec.affinity === undefined &&
    cfg.deployment.defaultAffinityType === 'prefer-spread-revision-over-nodes'
  ) {
    spec.affinity = spreadOverNodes(rev.metadata.name ?? '');
  }
  // The Revision's PodSpec was validated against the same Kubernetes schema that V1PodSpec
  // describes; only the TypeScript spellings of its open parts differ.
  return spec as unknown as V1PodSpec;
}

function knativeEnv(rev: Revision): EnvVar[] {
  const labels = rev.metadata.labels ?? {};
  return [
    { name: 'K_REVISION', value: rev.metadata.name ?? '' },
    { name: 'K_CONFIGURATION', value: labels[LABELS.configuration] ?? '' },
    { name: 'K_SERVICE', value: labels[LABELS.service] ?? '' },
  ];
}

/** Every container: Knative's identity variables first (so user values may refer to them),
 * logs as the termination message when the container wrote none, and no stdin or TTY. */
function makeContainer(c: Container, rev: Revision): Container {
  const out: Container = { ...c, env: [...knativeEnv(rev), ...(c.env ?? [])] };
  for (const key of ['readinessProbe', 'livenessProbe', 'startupProbe'] as const) {
    const probe = out[key];
    if (probe?.httpGet?.scheme !== undefined)
      out[key] = { ...probe, httpGet: { ...probe.httpGet, scheme: httpScheme(probe.httpGet.scheme) } };
  }
  if ((out.terminationMessagePolicy ?? '') === '') out.terminationMessagePolicy = 'FallbackToLogsOnError';
  delete out.stdin;
  delete out.tty;
  return out;
}

/**
 * A probe's scheme as the kubelet takes it. Knative accepts any spelling, since its queue-proxy
 * runs the HTTP probes and parses the scheme as a URL's, case-insensitively; its own e2e tests
 * send "http". The kubelet (and the API server's validation) know only "HTTP" and "HTTPS".
 */
function httpScheme(scheme: string): string {
  return scheme.toUpperCase() === 'HTTPS' ? 'HTTPS' : 'HTTP';
}

/** The serving container also gets PORT, its single port renamed `user-port`, and probes aimed
 * at that port: the kubelet probes it directly where Knative's queue-proxy would. */
function makeServingContainer(c: Container, rev: Revision, port: number, graceSeconds?: number): Container {
  const out = makeContainer(c, rev);
  // Knative forbids lifecycle on user containers, so the hook is always ebb's own. It must end
  // within the grace period, which also has to cover the container's own shutdown.
  const drain = Math.min(POD_DRAIN_SECONDS, graceSeconds ?? POD_DRAIN_SECONDS);
  if (drain > 0) out.lifecycle = { preStop: { sleep: { seconds: drain } } };
  out.env = [{ name: 'PORT', value: String(port) }, ...(out.env ?? [])];
  out.ports = [{ name: USER_PORT_NAME, containerPort: port, protocol: 'TCP' }];
  if (out.readinessProbe !== undefined) out.readinessProbe = readinessProbe(aimAt(out.readinessProbe, port));
  if (out.livenessProbe !== undefined) out.livenessProbe = aimAt(out.livenessProbe, port);
  if (out.startupProbe !== undefined) out.startupProbe = aimAt(out.startupProbe, port);
  return out;
}

/** HTTP and TCP probes of the serving container always target the user port (the port's name
 * is gone from the Deployment); a gRPC probe without a port gets it too. */
function aimAt(probe: Probe, port: number): Probe {
  const out: Probe = { ...probe };
  if (out.httpGet !== undefined) out.httpGet = { ...out.httpGet, port };
  if (out.tcpSocket !== undefined) out.tcpSocket = { ...out.tcpSocket, port };
  if (out.grpc !== undefined && out.grpc.port === 0) out.grpc = { ...out.grpc, port };
  return out;
}

/** Knative reads periodSeconds 0 as "probe aggressively until ready"; the kubelet's closest is
 * once a second (left unset, it would default to every 10s and slow every cold start). */
function readinessProbe(probe: Probe): Probe {
  return (probe.periodSeconds ?? 0) === 0 ? { ...probe, periodSeconds: 1 } : probe;
}

/** config-deployment runtime-class-name: the matching class with the most specific selector,
 * ties going to the alphabetically first name. */
export function runtimeClassName(
  cfg: DeploymentConfig,
  labels: Readonly<Record<string, string>>,
): string | undefined {
  let best: { name: string; specificity: number } | undefined;
  for (const [name, { selector }] of Object.entries(cfg.runtimeClassNames)) {
    const wanted = Object.entries(selector ?? {});
    if (!wanted.every(([k, v]) => labels[k] === v)) continue;
    const specificity = wanted.length;
    if (
      best === undefined ||
      specificity > best.specificity ||
      (specificity === best.specificity && name < best.name)
    ) {
      best = { name, specificity };
    }
  }
  return best?.name;
}

/** default-affinity-type prefer-spread-revision-over-nodes, unless the Revision sets affinity. */
function spreadOverNodes(revision: string): RevisionSpec['affinity'] {
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          podAffinityTerm: {
            topologyKey: 'kubernetes.io/hostname',
            labelSelector: { matchLabels: { [LABELS.revision]: revision } },
          },
        },
      ],
    },
  };
}
