// What each key of Knative's ConfigMaps means to ebb, for docs/configuration.md. The keys, their
// types and defaults come from the parsers themselves (a recording ConfigReader), so only the
// meaning is written here; a test fails when a key read has no line here or a line has no key.
import { CONFIG_MAPS, type ConfigMapName } from './cluster-config.ts';
import { ConfigReader } from './configmap-data.ts';

interface ConfigMapMeaning {
  /** One or two sentences on the ConfigMap as a whole. */
  about: string;
  /** Key → one line on what it does in ebb. */
  keys: Readonly<Record<string, string>>;
}

const NO_QUEUE_PROXY = 'Checked, then unused: ebb has no queue-proxy sidecar.';

function allowField(field: string): string {
  return `Allow \`${field}\` in a Revision's PodSpec.`;
}

export const CONFIG_MAP_MEANINGS: Readonly<Record<ConfigMapName, ConfigMapMeaning>> = {
  'config-autoscaler': {
    about:
      "The KPA's cluster-wide settings. A revision's `autoscaling.knative.dev/*` annotations override most of them.",
    keys: {
      'activator-capacity':
        'Load one gateway replica takes for a revision; sets how many gateway replicas share a buffered revision (at least 2).',
      'allow-zero-initial-scale': 'Whether `initial-scale`, here or in the annotation, may be 0.',
      'container-concurrency-target-default':
        'Target concurrent requests per pod for revisions with `containerConcurrency: 0` and no target annotation.',
      'container-concurrency-target-percentage':
        'Share of the concurrency target, or of `containerConcurrency`, the autoscaler aims for; a value up to 1 is read as a fraction.',
      'enable-scale-to-zero': '`false` keeps every KPA-scaled revision at one pod or more.',
      'initial-scale': 'Pods a new revision starts with; 0 needs `allow-zero-initial-scale`.',
      'max-scale': 'Most pods a revision may have, unless its annotation says otherwise; 0: no limit.',
      'max-scale-down-rate': 'Largest factor by which one decision may shrink the pod count (2: to half).',
      'max-scale-limit': 'Largest `max-scale` a revision may set; 0: no limit.',
      'max-scale-up-rate': 'Largest factor by which one decision may grow the pod count.',
      'min-scale': 'Fewest pods a revision keeps, unless its annotation says otherwise.',
      'panic-threshold-percentage':
        "Load over the panic window, as a percentage of the current pods' capacity, that starts panic mode (no scaling down).",
      'panic-window-percentage': 'The panic window, as a percentage of the stable window.',
      'pod-autoscaler-class':
        'Autoscaler for revisions without the class annotation: `kpa.autoscaling.knative.dev` or `hpa.autoscaling.knative.dev`.',
      'requests-per-second-target-default':
        'Target requests per second per pod for revisions scaled on `rps` without a target annotation.',
      'scale-down-delay':
        'How long a lower scale must hold before the autoscaler scales down (whole seconds).',
      'scale-to-zero-grace-period':
        'How long an idle revision keeps its last pod after the gateway takes over its requests, before it goes to zero.',
      'scale-to-zero-pod-retention-period':
        'Least time the last pod stays once the autoscaler decides on zero; the longer of this and the grace period applies.',
      'stable-window': 'Window the autoscaler averages load over; 6s to 1h, whole seconds.',
      'target-burst-capacity':
        'Spare capacity, in requests, to keep; with less, the gateway stays in the request path. 0: only at zero; -1: always.',
    },
  },
  'config-defaults': {
    about:
      'Defaults and limits the webhook applies to Revisions (`spec.template` of Services and Configurations).',
    keys: {
      'allow-container-concurrency-zero': 'Whether `containerConcurrency` may be 0 (no limit).',
      'container-concurrency': '`containerConcurrency` of revisions that do not set it; 0: no limit.',
      'container-concurrency-max-limit': 'Largest `containerConcurrency` a revision may set.',
      'container-name-template':
        "Name of a revision's unnamed containers; a Go template over the parent's metadata, such as `{{.Name}}`.",
      'enable-service-links':
        '`enableServiceLinks` of revisions that do not set it; `default` leaves it to Kubernetes.',
      'init-container-name-template':
        'Name of unnamed init containers; a Go template like `container-name-template`.',
      'max-revision-timeout-seconds': 'Largest `timeoutSeconds` a revision may set.',
      'revision-cpu-limit': 'CPU limit of every container that sets none.',
      'revision-cpu-request': 'CPU request of every container that sets none.',
      'revision-ephemeral-storage-limit': 'Ephemeral-storage limit of every container that sets none.',
      'revision-ephemeral-storage-request': 'Ephemeral-storage request of every container that sets none.',
      'revision-idle-timeout-seconds':
        '`idleTimeoutSeconds` of revisions that do not set it: longest a request may go without response bytes; 0: no limit.',
      'revision-memory-limit': 'Memory limit of every container that sets none.',
      'revision-memory-request': 'Memory request of every container that sets none.',
      'revision-response-start-timeout-seconds':
        '`responseStartTimeoutSeconds` of revisions that do not set it: longest wait for the first response byte. Absent, it follows `revision-timeout-seconds`.',
      'revision-timeout-seconds':
        '`timeoutSeconds` of revisions that do not set it: longest a request may take.',
    },
  },
  'config-deployment': {
    about: "How a Revision's Deployment is built.",
    keys: {
      'default-affinity-type':
        "`prefer-spread-revision-over-nodes` gives pods without affinity a preferred anti-affinity to their revision's other pods by node.",
      'digest-resolution-timeout':
        'Checked, then unused: ebb does not resolve image tags to digests (an image given by digest keeps it).',
      'pod-is-always-schedulable': 'Checked, then unused.',
      'progress-deadline':
        "How long a revision's pods may take to become ready before the revision fails; also the Deployment's `progressDeadlineSeconds`.",
      'queue-sidecar-cpu-limit': NO_QUEUE_PROXY,
      'queue-sidecar-cpu-request': NO_QUEUE_PROXY,
      'queue-sidecar-ephemeral-storage-limit': NO_QUEUE_PROXY,
      'queue-sidecar-ephemeral-storage-request': NO_QUEUE_PROXY,
      'queue-sidecar-memory-limit': NO_QUEUE_PROXY,
      'queue-sidecar-memory-request': NO_QUEUE_PROXY,
      'registries-skipping-tag-resolving':
        'Checked, then unused: ebb does not resolve image tags to digests.',
      'runtime-class-name':
        'YAML map of RuntimeClass name to an optional `selector` of labels; a revision without `runtimeClassName` gets the most specific match.',
    },
  },
  'config-domain': {
    about:
      "The domain suffix of each Route's URL. Every key is a domain; its value is empty, to match every Route, or YAML `selector: {label: value}`; the most specific matching selector wins. Cluster-local Routes always get `svc.<cluster domain>`.",
    keys: {},
  },
  'config-features': {
    about:
      'Feature flags, chiefly which PodSpec fields a Revision may set. Values are `Enabled`, `Disabled` or `Allowed`, in any case; ebb reports an unknown value where Knative ignores it.',
    keys: {
      'autodetect-http2':
        'Checked, then unused: ebb speaks HTTP/2 to a container only through a port named `h2c`.',
      'kubernetes.containerspec-addcapabilities': 'Allow `securityContext.capabilities.add` on containers.',
      'kubernetes.podspec-affinity': allowField('affinity'),
      'kubernetes.podspec-dnsconfig': allowField('dnsConfig'),
      'kubernetes.podspec-dnspolicy': allowField('dnsPolicy'),
      'kubernetes.podspec-fieldref': 'Allow `fieldRef` and `resourceFieldRef` in `env[].valueFrom`.',
      'kubernetes.podspec-hostaliases': allowField('hostAliases'),
      'kubernetes.podspec-hostipc': allowField('hostIPC'),
      'kubernetes.podspec-hostnetwork': allowField('hostNetwork'),
      'kubernetes.podspec-hostpid': allowField('hostPID'),
      'kubernetes.podspec-init-containers': allowField('initContainers'),
      'kubernetes.podspec-nodeselector': allowField('nodeSelector'),
      'kubernetes.podspec-persistent-volume-claim':
        'Allow `persistentVolumeClaim` volumes, read-only unless `kubernetes.podspec-persistent-volume-write` is on.',
      'kubernetes.podspec-persistent-volume-write': 'Allow writable `persistentVolumeClaim` volumes.',
      'kubernetes.podspec-priorityclassname': allowField('priorityClassName'),
      'kubernetes.podspec-runtimeclassname': allowField('runtimeClassName'),
      'kubernetes.podspec-schedulername': allowField('schedulerName'),
      'kubernetes.podspec-securitycontext':
        'Allow the pod `securityContext` and more container `securityContext` fields (`runAsUser`, `fsGroup`, ...).',
      'kubernetes.podspec-shareprocessnamespace': allowField('shareProcessNamespace'),
      'kubernetes.podspec-tolerations': allowField('tolerations'),
      'kubernetes.podspec-topologyspreadconstraints': allowField('topologySpreadConstraints'),
      'kubernetes.podspec-volumes-csi': 'Allow `csi` volumes.',
      'kubernetes.podspec-volumes-emptydir': 'Allow `emptyDir` volumes.',
      'kubernetes.podspec-volumes-ephemeral': 'Allow `ephemeral` volumes.',
      'kubernetes.podspec-volumes-hostpath': 'Allow `hostPath` volumes.',
      'kubernetes.podspec-volumes-image': 'Allow `image` volumes.',
      'kubernetes.podspec-volumes-mount-propagation': 'Allow `mountPropagation` on volume mounts.',
      'multi-container': 'Allow more than one container in a Revision.',
      'multi-container-probing':
        "Validate sidecars' readiness and startup probes like the serving container's, instead of allowing only some of their fields.",
      'queueproxy.mount-podinfo': NO_QUEUE_PROXY,
      'queueproxy.resource-defaults': NO_QUEUE_PROXY,
      'secure-pod-defaults':
        'Default containers to no privilege escalation, RuntimeDefault seccomp and dropped capabilities; `Enabled` adds `runAsNonRoot`.',
      'tag-header-based-routing':
        "Route a request carrying `Knative-Serving-Tag: <tag>` on a Route's main host to that tag's revision.",
    },
  },
  'config-gc': {
    about:
      'When the controller deletes revisions no Route references; a Configuration\'s latest revisions and those annotated `serving.knative.dev/no-gc: "true"` stay.',
    keys: {
      'max-non-active-revisions':
        'Most unreferenced revisions a Configuration keeps, however recent; `disabled`: no limit.',
      'min-non-active-revisions': 'Fewest unreferenced revisions a Configuration keeps, however old.',
      'retain-since-create-time':
        'An unreferenced revision is kept at least this long after its creation; `disabled` turns the check off.',
      'retain-since-last-active-time':
        'An unreferenced revision is kept at least this long after a Route last used it; `disabled` turns the check off.',
    },
  },
  'config-network': {
    about:
      'URLs and rollouts of Routes. ebb is its own ingress and serves plain HTTP, so the class and TLS keys are checked and recorded but change nothing.',
    keys: {
      'auto-tls': 'Older name for `external-domain-tls`, read when that key is absent.',
      'autocreate-cluster-domain-claims': 'Checked, then unused: ebb has no DomainMapping.',
      'certificate-class': 'Checked, then unused: ebb issues no certificates.',
      'cluster-local-domain-tls': 'Checked, then unused: ebb serves plain HTTP.',
      'default-external-scheme': "Scheme of a Route's external URL in its status.",
      'domain-template':
        "Host of a Route's URL: a Go template over `.Name`, `.Namespace`, `.Domain`, `.Annotations` and `.Labels`.",
      'external-domain-tls': 'Checked, then unused: ebb serves plain HTTP.',
      'http-protocol': 'Checked, then unused: ebb serves every Route over plain HTTP.',
      'ingress-class': 'Checked, then unused: ebb is the ingress.',
      'rollout-duration':
        "Seconds over which a Route moves traffic to a Configuration's newest revision step by step; 0: at once.",
      'system-internal-tls': 'Checked, then unused: ebb serves plain HTTP.',
      'tag-template': "Name part of a tag's host: a Go template over `.Tag` and `.Name`.",
    },
  },
};

/** A key of a ConfigMap as the reference lists it. */
export interface ConfigKeyEntry {
  key: string;
  type: string;
  fallback: string | undefined;
  legacyName: string | undefined;
  meaning: string | undefined;
}

/** The keys a ConfigMap's parser reads, in name order, with their meaning. */
export function configMapKeys(name: ConfigMapName): ConfigKeyEntry[] {
  const reader = ConfigReader.recording();
  CONFIG_MAPS[name].parse(reader);
  const seen = new Set<string>();
  const entries: ConfigKeyEntry[] = [];
  for (const read of reader.keysRead ?? []) {
    if (seen.has(read.key)) continue;
    seen.add(read.key);
    entries.push({ ...read, meaning: CONFIG_MAP_MEANINGS[name].keys[read.key] });
  }
  return entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
