// The pinned upstream versions of the local cluster's components. Changing one rebuilds it.
export const VERSIONS = {
  kubernetes: 'v1.35.4',
  etcd: 'v3.6.16',
  coredns: 'v1.14.7',
  helm: 'v4.3.1',
} as const;

/** The cache key: every version, so that a change never reuses a stale binary. */
export function versionKey(): string {
  return `k8s-${VERSIONS.kubernetes}_etcd-${VERSIONS.etcd}_coredns-${VERSIONS.coredns}_helm-${VERSIONS.helm}`;
}
