// The pinned upstream versions of the local cluster's components. Changing one rebuilds it.
export const VERSIONS = {
  kubernetes: 'v1.35.4',
  etcd: 'v3.6.16',
  coredns: 'v1.14.7',
  helm: 'v4.3.1',
  containerd: 'v2.4.2',
  cniPlugins: 'v1.10.0',
} as const;

/** The cache key: every version, so that a change never reuses a stale binary. */
export function versionKey(): string {
  return `k8s-${VERSIONS.kubernetes}_etcd-${VERSIONS.etcd}_coredns-${VERSIONS.coredns}_helm-${VERSIONS.helm}`;
}

/** The node's components (kubelet, containerd, the CNI plugins, pause) have a cache key of their own. */
export function nodeVersionKey(): string {
  return `node_k8s-${VERSIONS.kubernetes}_containerd-${VERSIONS.containerd}_cni-${VERSIONS.cniPlugins}`;
}
