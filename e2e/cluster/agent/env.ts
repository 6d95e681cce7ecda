// A container's environment as the kubelet builds it: the Service environment for the
// `kubernetes` Service, envFrom, then env with valueFrom configMapKeyRef, secretKeyRef and fieldRef.
// What it cannot build is an error in the kubelet's words (`configmap "settings" not found`),
// which becomes the container's CreateContainerConfigError.
import type { CoreV1Api, V1Container, V1Pod } from '@kubernetes/client-node';
import { BRIDGE_IP, KUBERNETES_SERVICE_IP } from '../topology.ts';
import { decodeSecret, readOrMissing } from './volumes.ts';

function fieldValue(pod: V1Pod, podIP: string, path: string): string {
  switch (path) {
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
      return podIP;
    case 'status.hostIP':
      return BRIDGE_IP;
    default: {
      const label = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
      if (label?.[1] === 'labels') return pod.metadata?.labels?.[label[2] ?? ''] ?? '';
      if (label?.[1] === 'annotations') return pod.metadata?.annotations?.[label[2] ?? ''] ?? '';
      throw new Error(`unsupported fieldRef ${path}`);
    }
  }
}

export async function containerEnv(
  core: CoreV1Api,
  pod: V1Pod,
  container: V1Container,
  podIP: string,
): Promise<Record<string, string>> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOSTNAME: pod.metadata?.name ?? '',
    KUBERNETES_SERVICE_HOST: KUBERNETES_SERVICE_IP,
    KUBERNETES_SERVICE_PORT: '443',
    KUBERNETES_SERVICE_PORT_HTTPS: '443',
    KUBERNETES_PORT: `tcp://${KUBERNETES_SERVICE_IP}:443`,
  };
  // undefined: the object does not exist.
  const configMaps = new Map<string, Record<string, string> | undefined>();
  const secrets = new Map<string, Record<string, string> | undefined>();
  const configMap = async (name: string, optional: boolean | undefined) => {
    if (!configMaps.has(name)) {
      const found = await readOrMissing(core.readNamespacedConfigMap({ name, namespace }));
      configMaps.set(name, found === undefined ? undefined : (found.data ?? {}));
    }
    const data = configMaps.get(name);
    if (data === undefined && optional !== true) throw new Error(`configmap "${name}" not found`);
    return data;
  };
  const secret = async (name: string, optional: boolean | undefined) => {
    if (!secrets.has(name)) {
      const found = await readOrMissing(core.readNamespacedSecret({ name, namespace }));
      secrets.set(name, found === undefined ? undefined : decodeSecret(found.data));
    }
    const data = secrets.get(name);
    if (data === undefined && optional !== true) throw new Error(`secret "${name}" not found`);
    return data;
  };
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    const data =
      from.configMapRef !== undefined
        ? await configMap(from.configMapRef.name ?? '', from.configMapRef.optional)
        : from.secretRef !== undefined
          ? await secret(from.secretRef.name ?? '', from.secretRef.optional)
          : {};
    for (const [k, v] of Object.entries(data ?? {})) env[prefix + k] = v;
  }
  for (const e of container.env ?? []) {
    const source = e.valueFrom;
    if (source === undefined)
      env[e.name] = (e.value ?? '').replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, n: string) => env[n] ?? m);
    else if (source.configMapKeyRef !== undefined) {
      const ref = source.configMapKeyRef;
      const value = (await configMap(ref.name ?? '', ref.optional))?.[ref.key];
      if (value === undefined && ref.optional !== true)
        throw new Error(`couldn't find key ${ref.key} in ConfigMap ${namespace}/${ref.name ?? ''}`);
      if (value !== undefined) env[e.name] = value;
    } else if (source.secretKeyRef !== undefined) {
      const ref = source.secretKeyRef;
      const value = (await secret(ref.name ?? '', ref.optional))?.[ref.key];
      if (value === undefined && ref.optional !== true)
        throw new Error(`couldn't find key ${ref.key} in Secret ${namespace}/${ref.name ?? ''}`);
      if (value !== undefined) env[e.name] = value;
    } else if (source.fieldRef !== undefined) {
      env[e.name] = fieldValue(pod, podIP, source.fieldRef.fieldPath);
    }
  }
  return env;
}
