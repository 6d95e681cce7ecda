// The host ports the local cluster's daemons listen on, and which of them another program already
// holds: `cluster:up` checks them before it starts anything, so that a busy port is one clear
// message instead of a daemon that dies with "address already in use" in its log.
import { BRIDGE_IP, nodeLayout, PORTS, REGISTRY_ADDRESS } from './topology.ts';

const firstNode = nodeLayout(1);
const [registryHost = '', registryPort = ''] = REGISTRY_ADDRESS.split(':');

/** TCP ports each daemon listens on, with the address it binds. */
export const DAEMON_PORTS: Record<string, { port: number; address: string }[]> = {
  etcd: [
    { port: PORTS.etcdClient, address: '127.0.0.1' },
    { port: PORTS.etcdPeer, address: '127.0.0.1' },
  ],
  'kube-apiserver': [{ port: PORTS.apiserver, address: BRIDGE_IP }],
  'kube-controller-manager': [{ port: PORTS.controllerManager, address: '127.0.0.1' }],
  'kube-scheduler': [{ port: PORTS.scheduler, address: '127.0.0.1' }],
  registry: [{ port: Number(registryPort), address: registryHost }],
  [`kubelet-${firstNode.name}`]: [
    { port: firstNode.kubeletPort, address: firstNode.ip },
    { port: firstNode.healthzPort, address: '127.0.0.1' },
  ],
  'kube-proxy': [
    { port: PORTS.proxyHealth, address: '127.0.0.1' },
    { port: PORTS.proxyMetrics, address: '127.0.0.1' },
  ],
  coredns: [
    { port: PORTS.dns, address: BRIDGE_IP },
    { port: PORTS.dnsHealth, address: '127.0.0.1' },
  ],
};

export interface PortConflict {
  daemon: string;
  port: number;
  /** What holds it, as `ss` names it: `"nginx",pid=812` or the bare address when ss shows no process. */
  holder: string;
}

/** Wildcard listeners take every address, so they collide with a bind to any one of them. */
const WILDCARDS = new Set(['0.0.0.0', '*', '[::]', '::']);

/**
 * The conflicts in `ss -Hltnp` output for the daemons that are not running yet (a running daemon
 * of ours holds its own ports). A line reads `LISTEN 0 4096 127.0.0.1:6443 0.0.0.0:* users:(...)`.
 */
export function portConflicts(ssOutput: string, daemons: readonly string[]): PortConflict[] {
  const listeners: { address: string; port: number; holder: string }[] = [];
  for (const line of ssOutput.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const local = fields[3];
    if (fields[0] !== 'LISTEN' || local === undefined) continue;
    const colon = local.lastIndexOf(':');
    const address = local.slice(0, colon).replace(/%.*$/, '');
    const port = Number(local.slice(colon + 1));
    const users = /users:\(\((.+?)(?:,fd=\d+)?\)/.exec(line)?.[1];
    listeners.push({ address, port, holder: users ?? `a listener on ${local}` });
  }
  const conflicts: PortConflict[] = [];
  for (const daemon of daemons) {
    for (const want of DAEMON_PORTS[daemon] ?? []) {
      const taken = listeners.find(
        (l) => l.port === want.port && (l.address === want.address || WILDCARDS.has(l.address)),
      );
      if (taken !== undefined) conflicts.push({ daemon, port: want.port, holder: taken.holder });
    }
  }
  return conflicts;
}
