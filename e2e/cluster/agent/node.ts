// The node as the API server sees it: a Node object with capacity, addresses and kubelet-style
// conditions, a Lease renewed every 10 s, and the status re-posted every 10 s as the kubelet
// does, so the node is Ready again soon after an API server outage.
import {
  PatchStrategy,
  setHeaderOptions,
  type CoordinationV1Api,
  type CoreV1Api,
  type V1Node,
  type V1NodeCondition,
} from '@kubernetes/client-node';
import { cpus, totalmem } from 'node:os';
import { BRIDGE_IP, NODE_NAME, POD_CIDR, PORTS } from '../topology.ts';

const LEASE_SECONDS = 40;

function conditions(): V1NodeCondition[] {
  const at = new Date();
  const c = (type: string, status: string, reason: string, message: string): V1NodeCondition => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: at,
    lastTransitionTime: at,
  });
  return [
    c('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'node agent has sufficient memory available'),
    c('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'node agent has no disk pressure'),
    c('PIDPressure', 'False', 'KubeletHasSufficientPID', 'node agent has sufficient PID available'),
    c('NetworkUnavailable', 'False', 'RouteCreated', 'pod bridge is up'),
    c('Ready', 'True', 'KubeletReady', 'ebb node agent is posting ready status'),
  ];
}

function nodeStatus(version: string): V1Node['status'] {
  const capacity = {
    cpu: String(cpus().length),
    memory: `${Math.floor(totalmem() / 1024)}Ki`,
    pods: '250',
    'ephemeral-storage': '100Gi',
  };
  return {
    capacity,
    allocatable: capacity,
    addresses: [
      { type: 'InternalIP', address: BRIDGE_IP },
      { type: 'Hostname', address: NODE_NAME },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: PORTS.kubelet } },
    nodeInfo: {
      architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      operatingSystem: 'linux',
      kubeletVersion: version,
      kubeProxyVersion: version,
      containerRuntimeVersion: 'ebb-process://1',
      kernelVersion: '',
      osImage: 'ebb local node',
      bootID: '',
      machineID: '',
      systemUUID: '',
    },
    conditions: conditions(),
  };
}

export class NodeHeartbeat {
  private readonly core: CoreV1Api;
  private readonly coordination: CoordinationV1Api;
  private readonly version: string;
  private timers: NodeJS.Timeout[] = [];
  private uid = '';

  constructor(core: CoreV1Api, coordination: CoordinationV1Api, version: string) {
    this.core = core;
    this.coordination = coordination;
    this.version = version;
  }

  async register(): Promise<void> {
    const node: V1Node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: NODE_NAME,
        labels: {
          'kubernetes.io/hostname': NODE_NAME,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch,
          'node.kubernetes.io/instance-type': 'ebb-local',
        },
        annotations: { 'node.alpha.kubernetes.io/ttl': '0' },
      },
      spec: { podCIDR: POD_CIDR, podCIDRs: [POD_CIDR] },
      status: nodeStatus(this.version),
    };
    try {
      this.uid = (await this.core.createNode({ body: node })).metadata?.uid ?? '';
    } catch {
      this.uid = (await this.core.readNode({ name: NODE_NAME })).metadata?.uid ?? '';
    }
    await this.postStatus();
    await this.renewLease();
    this.timers.push(setInterval(() => void this.renewLease().catch(() => undefined), 10_000));
    this.timers.push(setInterval(() => void this.postStatus().catch(() => undefined), 10_000));
  }

  /** The node identity may patch, not read, its status (as the kubelet does). */
  private async postStatus(): Promise<void> {
    await this.core.patchNodeStatus(
      { name: NODE_NAME, body: { status: nodeStatus(this.version) } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
  }

  /** Lease times are MicroTime (six fractional digits), which a Date would not serialise to. */
  private async renewLease(): Promise<void> {
    const namespace = 'kube-node-lease';
    const renewTime = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
    try {
      await this.coordination.readNamespacedLease({ name: NODE_NAME, namespace });
    } catch {
      await this.coordination.createNamespacedLease({
        namespace,
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: {
            name: NODE_NAME,
            namespace,
            ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: NODE_NAME, uid: this.uid }],
          },
          spec: { holderIdentity: NODE_NAME, leaseDurationSeconds: LEASE_SECONDS },
        },
      });
    }
    await this.coordination.patchNamespacedLease(
      {
        name: NODE_NAME,
        namespace,
        body: { spec: { holderIdentity: NODE_NAME, leaseDurationSeconds: LEASE_SECONDS, renewTime } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
  }
}
