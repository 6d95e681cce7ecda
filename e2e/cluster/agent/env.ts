// A container's environment as the kubelet builds it: the Service environment for the
// `kubernetes` Service, envFrom, then env with valueFrom configMapKeyRef, secretKeyRef and fieldRef.
import type { CoreV1Api, V1Container, V1Pod } from '@kubernetes/client-node';
import { BRIDGE_IP, KUBERNETES_SERVICE_IP } from '../topology.ts';
import { decodeSecret } from './volumes.ts';

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
  const configMaps = new Map<string, Record<string, string>>();
  const secrets = new Map<string, Record<string, string>>();
  const configMap = async (name: string) => {
    if (!configMaps.has(name))
      configMaps.set(name, (await core.readNamespacedConfigMap({ name, namespace })).data ?? {});
    return configMaps.get(name) ?? {};
  };
  const secret = async (name: string) => {
    if (!secrets.has(name)) {
      secrets.set(name, decodeSecret((await core.readNamespacedSecret({ name, namespace })).data));
    }
    return secrets.get(name) ?? {};
  };
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    const data =
      from.configMapRef !== undefined
        ? await configMap(from.configMapRef.name ?? '')
        : from.secretRef !== undefined
          ? await secret(from.secretRef.name ?? '')
          : {};
    for (const [k, v] of Object.entries(data)) env[prefix + k] = v;
  }
  for (const e of container.env ?? []) {
    const source = e.valueFrom;
    if (source === undefined)
      env[e.name] = (e.value ?? '').replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, n: string) => env[n] ?? m);
    else if (source.configMapKeyRef !== undefined) {
      const ref = source.configMapKeyRef;
      const value = (await configMap(ref.name ?? ''))[ref.key];
      if (value === undefined && ref.optional !== true)
        throw new Error(`key "${ref.key}" not found in configmap "${ref.name ?? ''}"`);
      if (value !== undefined) env[e.name] = value;
    } else if (source.secretKeyRef !== undefined) {
      const ref = source.secretKeyRef;
      const value = (await secret(ref.name ?? ''))[ref.key];
      if (value === undefined && ref.optional !== true)
        throw new Error(`key "${ref.key}" not found in secret "${ref.name ?? ''}"`);
      if (value !== undefined) env[e.name] = value;
    } else if (source.fieldRef !== undefined) {
      env[e.name] = fieldValue(pod, podIP, source.fieldRef.fieldPath);
    }
  }
  return env;
}
