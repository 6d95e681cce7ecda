// The host-level services beside the control plane: the local image registry the nodes pull
// from, kube-proxy (nftables mode, so ClusterIPs work from the host and from pods) and CoreDNS
// (cluster.local only; it forwards nothing, so no query leaves the machine), plus the API objects
// they and the nodes need.
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ControlPlaneDirs } from './control-plane.ts';
import { kubeconfigPath } from './control-plane.ts';
import type { Daemons, DaemonSpec } from './daemons.ts';
import { writeIfChanged } from './files.ts';
import { waitHealthy } from './health.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { binary, IMAGE_STORE_DIR } from './paths.ts';
import { IDENTITIES } from './pki.ts';
import { sh } from './shell.ts';
import {
  APISERVER_URL,
  BRIDGE_IP,
  CLUSTER_DOMAIN,
  DNS_SERVICE_IP,
  KUBERNETES_SERVICE_IP,
  NODE_NAME,
  POD_CIDR,
  PORTS,
  REGISTRY_ADDRESS,
} from './topology.ts';

export const NODE_SERVICES = ['registry', 'kube-proxy', 'coredns'] as const;

const registryEntry = new URL('./images/registry.ts', import.meta.url).pathname;

/** Objects the services need: CoreDNS's RBAC, the kube-dns Service pointing at it, and the API
 * server's right to call the kubelets (logs, exec, port-forward) with its kubelet-client identity. */
function addons(): string {
  const docs = [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'ebb-local:apiserver-kubelet-client' },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: 'system:kubelet-api-admin',
      },
      subjects: [
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: IDENTITIES.apiserverKubelet.commonName },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:coredns' },
      rules: [
        {
          apiGroups: [''],
          resources: ['endpoints', 'services', 'pods', 'namespaces'],
          verbs: ['list', 'watch'],
        },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'system:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'system:coredns' }],
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
      spec: {
        clusterIP: DNS_SERVICE_IP,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        ],
      },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: 'kube-dns-node',
        namespace: 'kube-system',
        labels: {
          'kubernetes.io/service-name': 'kube-dns',
          'endpointslice.kubernetes.io/managed-by': 'ebb-local-cluster',
        },
      },
      addressType: 'IPv4',
      endpoints: [{ addresses: [BRIDGE_IP], conditions: { ready: true }, nodeName: NODE_NAME }],
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      ],
    },
  ];
  return docs.map((d) => stringify(d)).join('---\n');
}

function specs(dirs: ControlPlaneDirs): DaemonSpec[] {
  return [
    {
      name: 'registry',
      command: process.execPath,
      args: [registryEntry, '--listen', REGISTRY_ADDRESS, '--store', IMAGE_STORE_DIR],
    },
    {
      name: 'kube-proxy',
      command: binary('kube-proxy'),
      args: [`--config=${join(dirs.state, 'kube-proxy.yaml')}`, '--v=1'],
    },
    { name: 'coredns', command: binary('coredns'), args: ['-conf', join(dirs.state, 'Corefile')] },
  ];
}

export async function startNodeServices(daemons: Daemons, dirs: ControlPlaneDirs): Promise<void> {
  for (const id of ['kube-proxy', 'coredns']) {
    await writeKubeconfig(dirs.pki, id, APISERVER_URL, kubeconfigPath(dirs, id));
  }
  await writeIfChanged(
    join(dirs.state, 'kube-proxy.yaml'),
    stringify({
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      clientConnection: { kubeconfig: kubeconfigPath(dirs, 'kube-proxy') },
      mode: 'nftables',
      clusterCIDR: POD_CIDR,
      hostnameOverride: NODE_NAME,
      bindAddress: BRIDGE_IP,
      healthzBindAddress: `127.0.0.1:${PORTS.proxyHealth}`,
      metricsBindAddress: `127.0.0.1:${PORTS.proxyMetrics}`,
      nodePortAddresses: [`${BRIDGE_IP}/32`],
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    }),
  );
  await writeIfChanged(
    join(dirs.state, 'Corefile'),
    [
      `${CLUSTER_DOMAIN}:53 in-addr.arpa:53 ip6.arpa:53 {`,
      `  bind ${BRIDGE_IP}`,
      '  errors',
      `  health 127.0.0.1:${PORTS.dnsHealth}`,
      `  kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {`,
      `    kubeconfig ${kubeconfigPath(dirs, 'coredns')} ebb-local`,
      '    pods insecure',
      '    fallthrough in-addr.arpa ip6.arpa',
      '  }',
      '  cache 5',
      '}',
      '',
    ].join('\n'),
  );
  await sh(
    binary('kubectl'),
    ['--kubeconfig', kubeconfigPath(dirs), 'apply', '--server-side', '--force-conflicts', '-f', '-'],
    addons(),
  );
  // kube-proxy (1.35, nftables) trusts an endpoint chain it finds in the kernel to hold what its
  // name says. A chain an earlier kube-proxy flushed as stale (its endpoint gone, as the API
  // server's is while it restarts) and exited before deleting stays empty, and every new
  // connection to that ClusterIP is then lost. A kube-proxy that is not running keeps no rules
  // up to date anyway, so the one starting now builds its tables from nothing.
  if ((await daemons.pid('kube-proxy')) === undefined) await removeProxyTables();
  for (const spec of specs(dirs)) await daemons.start(spec);
}

/** kube-proxy counts itself healthy only once its node exists, so this runs after the nodes start. */
export async function waitNodeServices(daemons: Daemons, dirs: ControlPlaneDirs): Promise<void> {
  const alive = (name: string) => async () => (await daemons.pid(name)) !== undefined;
  await waitHealthy(
    'kube-proxy',
    { url: `http://127.0.0.1:${PORTS.proxyHealth}/healthz` },
    60_000,
    alive('kube-proxy'),
  );
  await waitHealthy(
    'the kubernetes Service through its ClusterIP',
    { url: `https://${KUBERNETES_SERVICE_IP}/readyz`, pkiDir: dirs.pki },
    60_000,
    alive('kube-proxy'),
  );
  await waitHealthy(
    'coredns',
    { url: `http://127.0.0.1:${PORTS.dnsHealth}/health` },
    60_000,
    alive('coredns'),
  );
}

/** kube-proxy's nftables tables, IPv4 and IPv6, if there are any. */
export async function removeProxyTables(): Promise<void> {
  for (const family of ['ip', 'ip6'])
    await sh('nft', ['delete', 'table', family, 'kube-proxy']).catch(() => undefined);
}
