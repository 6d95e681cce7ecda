// The local cluster's fixed addresses and ports. One cluster per machine; every range stays on
// the machine (see network.ts).
export const NODE_NAME = 'ebb-node';
export const BRIDGE = 'ebb0';
export const BRIDGE_IP = '10.244.0.1';
export const POD_CIDR = '10.244.0.0/16';
export const POD_PREFIX = 16;
export const SERVICE_CIDR = '10.96.0.0/16';
/** The first address of the service range: the `kubernetes` Service. */
export const KUBERNETES_SERVICE_IP = '10.96.0.1';
export const DNS_SERVICE_IP = '10.96.0.10';
export const CLUSTER_DOMAIN = 'cluster.local';

/** The local registry that the nodes' containerd pulls `dev.local/...` and `knative.test/...` from. */
export const REGISTRY_ADDRESS = '127.0.0.1:23880';

/** One kubelet + containerd node. Node 1 is reached at the bridge's own address; each further node
 * at the next address on the bridge. Each has its own pod range inside POD_CIDR, its own kubelet
 * ports, state directory and cgroup subtree. */
export interface NodeLayout {
  name: string;
  index: number;
  ip: string;
  /** host-local's range for this node's pods: 10.244.<16·index>.1 up to 10.244.<16·index+15>.254. */
  podRange: { start: string; end: string };
  kubeletPort: number;
  healthzPort: number;
  /** The cgroup (v1, in every controller) that holds the node's daemons and its pods. */
  cgroup: string;
}

export const MAX_NODES = 4;

export function nodeLayout(index: number): NodeLayout {
  if (!Number.isInteger(index) || index < 1 || index > MAX_NODES)
    throw new Error(`node index ${index} is out of range: the local cluster has 1 to ${MAX_NODES} nodes`);
  const third = 16 * index;
  return {
    name: index === 1 ? NODE_NAME : `${NODE_NAME}-${index}`,
    index,
    ip: `10.244.0.${index}`,
    podRange: { start: `10.244.${third}.1`, end: `10.244.${third + 15}.254` },
    kubeletPort: 10250,
    healthzPort: 10348 + index,
    cgroup: `/ebb/${index === 1 ? NODE_NAME : `${NODE_NAME}-${index}`}`,
  };
}

/** The node count `cluster:up` is asked for: `--nodes N` or `--nodes=N`, default 1. */
export function parseNodeCount(args: readonly string[]): number {
  const at = args.findIndex((a) => a === '--nodes' || a.startsWith('--nodes='));
  const flag = args[at];
  if (flag === undefined) return 1;
  const text = flag.includes('=') ? flag.slice(flag.indexOf('=') + 1) : (args[at + 1] ?? '');
  const n = Number(text);
  if (text === '' || !Number.isInteger(n) || n < 1 || n > MAX_NODES)
    throw new Error(`--nodes ${text}: give a whole number from 1 to ${MAX_NODES}`);
  return n;
}

export const PORTS = {
  etcdClient: 23790,
  etcdPeer: 23800,
  apiserver: 6443,
  controllerManager: 10257,
  scheduler: 10259,
  kubelet: 10250,
  proxyHealth: 10256,
  proxyMetrics: 10249,
  dns: 53,
  dnsHealth: 10054,
} as const;

export const APISERVER_URL = `https://${BRIDGE_IP}:${PORTS.apiserver}`;
