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
