// The parts of Kubernetes' core/v1 PodSpec that a Revision embeds. Every PodSpec and Container
// field is listed, so that a misspelt field is an error as in Knative's strict decoding; which
// of them a Revision may set is decided later by the field masks in serving/k8s-validation.ts.
// Deep Kubernetes structures that Knative passes through unchanged stay open.
import { z } from 'zod';

const stringMap = z.record(z.string(), z.string());
/** A Kubernetes type ebb passes through without checking its inside. */
const open = (description: string) => z.looseObject({}).meta({ description, preserveUnknownFields: true });
export const IntOrString = z.union([z.int(), z.string()]).meta({ intOrString: true });
const Quantity = z.union([z.number(), z.string()]).meta({ intOrString: true });

export const ContainerPort = z.strictObject({
  name: z.string().optional(),
  containerPort: z.int(),
  protocol: z.string().optional(),
  hostPort: z.int().optional(),
  hostIP: z.string().optional(),
});
export type ContainerPort = z.infer<typeof ContainerPort>;

const KeySelector = z.strictObject({
  name: z.string().optional(),
  key: z.string(),
  optional: z.boolean().optional(),
});

export const EnvVarSource = z.strictObject({
  configMapKeyRef: KeySelector.optional(),
  secretKeyRef: KeySelector.optional(),
  fieldRef: z.strictObject({ apiVersion: z.string().optional(), fieldPath: z.string() }).optional(),
  resourceFieldRef: z
    .strictObject({
      containerName: z.string().optional(),
      resource: z.string(),
      divisor: Quantity.optional(),
    })
    .optional(),
  fileKeyRef: open('Select a key of an env file.').optional(),
});

export const EnvVar = z.strictObject({
  name: z.string(),
  value: z.string().optional(),
  valueFrom: EnvVarSource.optional(),
});
export type EnvVar = z.infer<typeof EnvVar>;

const LocalRef = z.strictObject({ name: z.string().optional(), optional: z.boolean().optional() });
export const EnvFromSource = z.strictObject({
  prefix: z.string().optional(),
  configMapRef: LocalRef.optional(),
  secretRef: LocalRef.optional(),
});
export type EnvFromSource = z.infer<typeof EnvFromSource>;

export const ResourceRequirements = z.strictObject({
  limits: z.record(z.string(), Quantity).optional(),
  requests: z.record(z.string(), Quantity).optional(),
  claims: z.array(z.looseObject({ name: z.string() })).optional(),
});

export const VolumeMount = z.strictObject({
  name: z.string(),
  mountPath: z.string(),
  readOnly: z.boolean().optional(),
  recursiveReadOnly: z.string().optional(),
  subPath: z.string().optional(),
  subPathExpr: z.string().optional(),
  mountPropagation: z.string().optional(),
});
export type VolumeMount = z.infer<typeof VolumeMount>;

export const HTTPGetAction = z.strictObject({
  path: z.string().optional(),
  port: IntOrString.optional(),
  host: z.string().optional(),
  scheme: z.string().optional(),
  httpHeaders: z.array(z.strictObject({ name: z.string(), value: z.string() })).optional(),
});
export const TCPSocketAction = z.strictObject({ port: IntOrString.optional(), host: z.string().optional() });
export const ExecAction = z.strictObject({ command: z.array(z.string()).optional() });
export const GRPCAction = z.strictObject({ port: z.int(), service: z.string().optional() });

export const Probe = z.strictObject({
  exec: ExecAction.optional(),
  httpGet: HTTPGetAction.optional(),
  tcpSocket: TCPSocketAction.optional(),
  grpc: GRPCAction.optional(),
  initialDelaySeconds: z.int().optional(),
  timeoutSeconds: z.int().optional(),
  periodSeconds: z.int().optional(),
  successThreshold: z.int().optional(),
  failureThreshold: z.int().optional(),
  terminationGracePeriodSeconds: z.int().optional(),
});
export type Probe = z.infer<typeof Probe>;

export const SecurityContext = z.strictObject({
  capabilities: z
    .strictObject({ add: z.array(z.string()).optional(), drop: z.array(z.string()).optional() })
    .optional(),
  privileged: z.boolean().optional(),
  seLinuxOptions: open('SELinux context.').optional(),
  windowsOptions: open('Windows options.').optional(),
  runAsUser: z.int().optional(),
  runAsGroup: z.int().optional(),
  runAsNonRoot: z.boolean().optional(),
  readOnlyRootFilesystem: z.boolean().optional(),
  allowPrivilegeEscalation: z.boolean().optional(),
  procMount: z.string().optional(),
  seccompProfile: z.strictObject({ type: z.string(), localhostProfile: z.string().optional() }).optional(),
  appArmorProfile: open('AppArmor profile.').optional(),
});
export type SecurityContext = z.infer<typeof SecurityContext>;

export const Container = z.strictObject({
  name: z.string().optional(),
  image: z.string().optional(),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  workingDir: z.string().optional(),
  ports: z.array(ContainerPort).optional(),
  envFrom: z.array(EnvFromSource).optional(),
  env: z.array(EnvVar).optional(),
  resources: ResourceRequirements.optional(),
  resizePolicy: z.array(open('Resize policy.')).optional(),
  restartPolicy: z.string().optional(),
  restartPolicyRules: z.array(open('Restart policy rule.')).optional(),
  volumeMounts: z.array(VolumeMount).optional(),
  volumeDevices: z.array(open('Volume device.')).optional(),
  livenessProbe: Probe.optional(),
  readinessProbe: Probe.optional(),
  startupProbe: Probe.optional(),
  lifecycle: open('Lifecycle hooks.').optional(),
  terminationMessagePath: z.string().optional(),
  terminationMessagePolicy: z.string().optional(),
  imagePullPolicy: z.string().optional(),
  securityContext: SecurityContext.optional(),
  stdin: z.boolean().optional(),
  stdinOnce: z.boolean().optional(),
  tty: z.boolean().optional(),
});
export type Container = z.infer<typeof Container>;

const KeyToPath = z.strictObject({ key: z.string(), path: z.string(), mode: z.int().optional() });
const ConfigMapProjection = z.strictObject({
  name: z.string().optional(),
  items: z.array(KeyToPath).optional(),
  optional: z.boolean().optional(),
});

export const VolumeProjection = z.strictObject({
  secret: ConfigMapProjection.optional(),
  configMap: ConfigMapProjection.optional(),
  serviceAccountToken: z
    .strictObject({
      audience: z.string().optional(),
      expirationSeconds: z.int().optional(),
      path: z.string(),
    })
    .optional(),
  downwardAPI: open('Downward API projection.').optional(),
  clusterTrustBundle: open('Cluster trust bundle projection.').optional(),
  podCertificate: open('Pod certificate projection.').optional(),
});

export const Volume = z.strictObject({
  name: z.string(),
  secret: z
    .strictObject({
      secretName: z.string().optional(),
      items: z.array(KeyToPath).optional(),
      defaultMode: z.int().optional(),
      optional: z.boolean().optional(),
    })
    .optional(),
  configMap: z
    .strictObject({
      name: z.string().optional(),
      items: z.array(KeyToPath).optional(),
      defaultMode: z.int().optional(),
      optional: z.boolean().optional(),
    })
    .optional(),
  projected: z
    .strictObject({ sources: z.array(VolumeProjection).optional(), defaultMode: z.int().optional() })
    .optional(),
  emptyDir: z.strictObject({ medium: z.string().optional(), sizeLimit: Quantity.optional() }).optional(),
  persistentVolumeClaim: z
    .strictObject({ claimName: z.string(), readOnly: z.boolean().optional() })
    .optional(),
  hostPath: z.strictObject({ path: z.string(), type: z.string().optional() }).optional(),
  csi: open('CSI volume.').optional(),
  ephemeral: open('Ephemeral volume.').optional(),
  image: open('Image volume.').optional(),
  downwardAPI: open('Downward API volume.').optional(),
  // Volume sources Knative never allows; listed so that they are reported as not allowed.
  nfs: open('NFS volume.').optional(),
  iscsi: open('iSCSI volume.').optional(),
  gitRepo: open('Git repository volume.').optional(),
});
export type Volume = z.infer<typeof Volume>;

export const PodSpec = {
  volumes: z.array(Volume).optional(),
  initContainers: z.array(Container).optional(),
  containers: z.array(Container).optional(),
  ephemeralContainers: z.array(open('Ephemeral container.')).optional(),
  restartPolicy: z.string().optional(),
  terminationGracePeriodSeconds: z.int().optional(),
  activeDeadlineSeconds: z.int().optional(),
  dnsPolicy: z.string().optional(),
  nodeSelector: stringMap.optional(),
  serviceAccountName: z.string().optional(),
  serviceAccount: z.string().optional(),
  automountServiceAccountToken: z.boolean().optional(),
  nodeName: z.string().optional(),
  hostNetwork: z.boolean().optional(),
  hostPID: z.boolean().optional(),
  hostIPC: z.boolean().optional(),
  hostUsers: z.boolean().optional(),
  shareProcessNamespace: z.boolean().optional(),
  securityContext: open('Pod security context.').optional(),
  imagePullSecrets: z.array(z.strictObject({ name: z.string().optional() })).optional(),
  hostname: z.string().optional(),
  hostnameOverride: z.string().optional(),
  subdomain: z.string().optional(),
  affinity: open('Scheduling affinity.').optional(),
  schedulerName: z.string().optional(),
  tolerations: z.array(open('Toleration.')).optional(),
  hostAliases: z.array(open('Host alias.')).optional(),
  priorityClassName: z.string().optional(),
  priority: z.int().optional(),
  dnsConfig: open('DNS configuration.').optional(),
  readinessGates: z.array(open('Readiness gate.')).optional(),
  runtimeClassName: z.string().optional(),
  enableServiceLinks: z.boolean().optional(),
  preemptionPolicy: z.string().optional(),
  overhead: z.record(z.string(), Quantity).optional(),
  topologySpreadConstraints: z.array(open('Topology spread constraint.')).optional(),
  setHostnameAsFQDN: z.boolean().optional(),
  os: z.strictObject({ name: z.string() }).optional(),
  schedulingGates: z.array(open('Scheduling gate.')).optional(),
  resourceClaims: z.array(open('Resource claim.')).optional(),
  resources: ResourceRequirements.optional(),
};
