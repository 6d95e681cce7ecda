// The ebb release on a cluster, as data: the helm commands `npm run deploy` and `npm run undeploy`
// run, and the account of what keeps a release from becoming ready (pods and warning events).
// Pure: deploy.ts runs the commands and reads the cluster.
import type { CoreV1Event, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';

export const RELEASE = 'ebb';
export const NAMESPACE = 'ebb-system';
/** The image every component runs; on the local cluster `npm run deploy` builds it from this checkout's Dockerfile. */
export const LOCAL_IMAGE = { repository: 'dev.local/ebb', tag: 'dev' } as const;
export const INSTALL_TIMEOUT = '3m';

/**
 * `helm upgrade --install` with the local cluster's values: its image (pulled from the local
 * registry by each node that runs it) and `example.com` as the domain, so URLs look like those in Knative's docs. `extra` comes
 * last, so a user's `--set` overrides ours (helm keeps the last value).
 */
export function installArgs(chart: string, extra: readonly string[] = []): string[] {
  return [
    'upgrade',
    '--install',
    RELEASE,
    chart,
    '--namespace',
    NAMESPACE,
    '--create-namespace',
    '--set',
    `image.repository=${LOCAL_IMAGE.repository}`,
    '--set',
    `image.tag=${LOCAL_IMAGE.tag}`,
    '--set',
    'image.pullPolicy=IfNotPresent',
    '--set-json',
    'config.domain={"example.com":""}',
    '--wait',
    '--timeout',
    INSTALL_TIMEOUT,
    ...extra,
  ];
}

/** The helm flags EBB_E2E_HELM_ARGS gives ebb on a cluster other than the local one (e2e/run.ts). */
export function e2eHelmArgs(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.EBB_E2E_HELM_ARGS ?? '').split(/\s+/).filter((a) => a !== '');
}

/** Uninstalling twice, or a release that never was, is not an error. */
export function uninstallArgs(): string[] {
  return ['uninstall', RELEASE, '--namespace', NAMESPACE, '--ignore-not-found', '--wait', '--timeout', '2m'];
}

const MESSAGE_LINES = 5;

/** The last lines of a message (the local cluster puts a container's log tail there), indented. */
function tail(message: string | undefined): string[] {
  if (message === undefined || message.trim() === '') return [];
  return message
    .trimEnd()
    .split('\n')
    .slice(-MESSAGE_LINES)
    .map((line) => `    | ${line}`);
}

function containerProblem(pod: string, status: V1ContainerStatus): string[] {
  if (status.ready) return [];
  const where = `${pod}/${status.name}`;
  const restarts = status.restartCount > 0 ? `, ${status.restartCount} restart(s)` : '';
  const last = status.lastState?.terminated;
  const lastExit = last === undefined ? '' : `, last exit code ${last.exitCode}`;
  const { waiting, running, terminated } = status.state ?? {};
  if (waiting !== undefined) {
    return [
      `${where}: ${waiting.reason ?? 'Waiting'}${lastExit}${restarts}`,
      // The last exit's message (on the local cluster, the log tail) says more than "back-off".
      ...tail(last?.message ?? waiting.message),
    ];
  }
  if (terminated !== undefined) {
    return [
      `${where}: terminated (${terminated.reason ?? 'Error'}, exit code ${terminated.exitCode})${restarts}`,
      ...tail(terminated.message),
    ];
  }
  if (running !== undefined) {
    const probe = status.started === false ? 'startup' : 'readiness';
    return [`${where}: running but not ready (its ${probe} probe fails)${lastExit}${restarts}`];
  }
  return [`${where}: no state reported yet`];
}

/** One entry per container of a pod that is not ready, with the reason and message it reports. */
export function podProblems(pods: readonly V1Pod[]): string[] {
  const lines: string[] = [];
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '?';
    // Pods of a replaced ReplicaSet on their way out say nothing about the new ones.
    if (pod.metadata?.deletionTimestamp !== undefined) continue;
    const conditions = pod.status?.conditions ?? [];
    if (conditions.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
    const unscheduled = conditions.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    if (unscheduled !== undefined) {
      lines.push(
        `${name}: not scheduled (${unscheduled.reason ?? 'Unschedulable'})`,
        ...tail(unscheduled.message),
      );
      continue;
    }
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    const problems = statuses.flatMap((s) => containerProblem(name, s));
    lines.push(
      ...(problems.length > 0 ? problems : [`${name}: ${pod.status?.phase ?? 'Pending'}, not ready`]),
    );
  }
  return lines;
}

const MAX_EVENTS = 10;

/** The latest Warning events (failed pod creation, probe failures, back-off), oldest first. */
export function warningEvents(events: readonly CoreV1Event[]): string[] {
  const time = (e: CoreV1Event) =>
    new Date(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? 0).getTime();
  return events
    .filter((e) => e.type === 'Warning')
    .sort((a, b) => time(a) - time(b))
    .slice(-MAX_EVENTS)
    .map((e) => {
      const count = (e.count ?? 1) > 1 ? ` (x${e.count ?? 1})` : '';
      const object = `${e.involvedObject.kind ?? '?'}/${e.involvedObject.name ?? '?'}`;
      return `${object}: ${e.reason ?? 'Warning'}${count}: ${(e.message ?? '').trim()}`;
    });
}

const HELM_RELEASE_NAME = 'meta.helm.sh/release-name';
const HELM_RELEASE_NAMESPACE = 'meta.helm.sh/release-namespace';
const MANAGED_BY = 'app.kubernetes.io/managed-by';

export type CrdOwnership =
  | { kind: 'ours' }
  | {
      kind: 'adopt';
      patch: { metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
    }
  | { kind: 'foreign'; release: string };

/**
 * Whether `helm upgrade --install` can own an existing CRD. Before chart 0.2.0 the CRDs came from
 * the chart's crds/ (and `kubectl apply -f crds/` applies them the same way), which Helm installs
 * without its ownership labels; a chart whose templates hold them then fails with "invalid
 * ownership metadata". Such a CRD is adopted with the labels Helm would have set. One that another
 * release owns is left alone, and the install stops.
 */
export function crdOwnership(metadata: {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}): CrdOwnership {
  const release = metadata.annotations?.[HELM_RELEASE_NAME];
  const namespace = metadata.annotations?.[HELM_RELEASE_NAMESPACE];
  if (release === RELEASE && namespace === NAMESPACE && metadata.labels?.[MANAGED_BY] === 'Helm') {
    return { kind: 'ours' };
  }
  if (release !== undefined && (release !== RELEASE || namespace !== NAMESPACE)) {
    return { kind: 'foreign', release: `${namespace ?? '?'}/${release}` };
  }
  return {
    kind: 'adopt',
    patch: {
      metadata: {
        labels: { [MANAGED_BY]: 'Helm' },
        annotations: { [HELM_RELEASE_NAME]: RELEASE, [HELM_RELEASE_NAMESPACE]: NAMESPACE },
      },
    },
  };
}
