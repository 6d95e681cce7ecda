// The upstream control plane as local processes: etcd, kube-apiserver (Node and RBAC
// authorization, ServiceAccount tokens, aggregator routing so Service-referenced webhooks reach
// pods), kube-controller-manager and kube-scheduler, each with its own identity.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Daemons, DaemonSpec } from './daemons.ts';
import { writeIfChanged } from './files.ts';
import { waitHealthy } from './health.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { binary } from './paths.ts';
import { APISERVER_URL, BRIDGE_IP, CLUSTER_DOMAIN, PORTS, SERVICE_CIDR } from './topology.ts';

export interface ControlPlaneDirs {
  state: string;
  pki: string;
}

export function kubeconfigPath(dirs: ControlPlaneDirs, identity = 'admin'): string {
  return join(dirs.state, `${identity}.kubeconfig`);
}

function specs(
  dirs: ControlPlaneDirs,
): Record<'etcd' | 'apiserver' | 'controllerManager' | 'scheduler', DaemonSpec> {
  const pki = (f: string) => join(dirs.pki, f);
  // Go's pprof endpoints (`kubectl get --raw /debug/pprof/profile`) for performance work only.
  const profiling = `--profiling=${process.env.EBB_CLUSTER_PROFILING === '1'}`;
  return {
    etcd: {
      name: 'etcd',
      command: binary('etcd'),
      args: [
        '--name=node0',
        `--data-dir=${join(dirs.state, 'etcd')}`,
        `--listen-client-urls=http://127.0.0.1:${PORTS.etcdClient}`,
        `--advertise-client-urls=http://127.0.0.1:${PORTS.etcdClient}`,
        `--listen-peer-urls=http://127.0.0.1:${PORTS.etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${PORTS.etcdPeer}`,
        `--initial-cluster=node0=http://127.0.0.1:${PORTS.etcdPeer}`,
        '--unsafe-no-fsync=true',
        '--auto-compaction-retention=1',
        '--quota-backend-bytes=2147483648',
        '--log-level=warn',
      ],
    },
    apiserver: {
      name: 'kube-apiserver',
      command: binary('kube-apiserver'),
      args: [
        `--etcd-servers=http://127.0.0.1:${PORTS.etcdClient}`,
        `--bind-address=${BRIDGE_IP}`,
        `--advertise-address=${BRIDGE_IP}`,
        `--secure-port=${PORTS.apiserver}`,
        `--tls-cert-file=${pki('apiserver.crt')}`,
        `--tls-private-key-file=${pki('apiserver.key')}`,
        `--client-ca-file=${pki('ca.crt')}`,
        `--service-account-issuer=https://kubernetes.default.svc.${CLUSTER_DOMAIN}`,
        `--service-account-signing-key-file=${pki('sa.key')}`,
        `--service-account-key-file=${pki('sa.pub')}`,
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        '--authorization-mode=Node,RBAC',
        '--enable-admission-plugins=NodeRestriction',
        '--enable-aggregator-routing=true',
        `--kubelet-client-certificate=${pki('apiserver-kubelet-client.crt')}`,
        `--kubelet-client-key=${pki('apiserver-kubelet-client.key')}`,
        `--kubelet-certificate-authority=${pki('ca.crt')}`,
        '--kubelet-preferred-address-types=InternalIP',
        '--allow-privileged=true',
        profiling,
        '--v=1',
      ],
    },
    controllerManager: {
      name: 'kube-controller-manager',
      command: binary('kube-controller-manager'),
      args: [
        `--kubeconfig=${kubeconfigPath(dirs, 'kube-controller-manager')}`,
        `--authentication-kubeconfig=${kubeconfigPath(dirs, 'kube-controller-manager')}`,
        `--authorization-kubeconfig=${kubeconfigPath(dirs, 'kube-controller-manager')}`,
        '--use-service-account-credentials=true',
        '--controllers=*',
        '--leader-elect=false',
        `--service-account-private-key-file=${pki('sa.key')}`,
        `--root-ca-file=${pki('ca.crt')}`,
        `--cluster-signing-cert-file=${pki('ca.crt')}`,
        `--cluster-signing-key-file=${pki('ca.key')}`,
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${PORTS.controllerManager}`,
        '--node-monitor-grace-period=40s',
        profiling,
        '--v=1',
      ],
    },
    scheduler: {
      name: 'kube-scheduler',
      command: binary('kube-scheduler'),
      args: [
        `--config=${join(dirs.state, 'scheduler.yaml')}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${PORTS.scheduler}`,
        '--profiling=false',
        '--v=1',
      ],
    },
  };
}

export const CONTROL_PLANE = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;

export async function startControlPlane(daemons: Daemons, dirs: ControlPlaneDirs): Promise<void> {
  await mkdir(dirs.state, { recursive: true });
  for (const id of ['admin', 'kube-controller-manager', 'kube-scheduler']) {
    await writeKubeconfig(dirs.pki, id, APISERVER_URL, kubeconfigPath(dirs, id));
  }
  await writeIfChanged(
    join(dirs.state, 'scheduler.yaml'),
    [
      'apiVersion: kubescheduler.config.k8s.io/v1',
      'kind: KubeSchedulerConfiguration',
      `clientConnection: {kubeconfig: ${kubeconfigPath(dirs, 'kube-scheduler')}}`,
      'leaderElection: {leaderElect: false}',
      '',
    ].join('\n'),
  );
  const s = specs(dirs);
  const alive = (name: string) => async () => (await daemons.pid(name)) !== undefined;

  await daemons.start(s.etcd);
  await waitHealthy('etcd', { url: `http://127.0.0.1:${PORTS.etcdClient}/health` }, 30_000, alive('etcd'));
  await daemons.start(s.apiserver);
  await waitHealthy(
    'kube-apiserver',
    { url: `${APISERVER_URL}/readyz`, pkiDir: dirs.pki },
    90_000,
    alive('kube-apiserver'),
  );
  await daemons.start(s.controllerManager);
  await daemons.start(s.scheduler);
  await waitHealthy(
    'kube-controller-manager',
    { url: `https://127.0.0.1:${PORTS.controllerManager}/healthz`, selfSigned: true },
    60_000,
    alive('kube-controller-manager'),
  );
  await waitHealthy(
    'kube-scheduler',
    { url: `https://127.0.0.1:${PORTS.scheduler}/healthz`, selfSigned: true },
    60_000,
    alive('kube-scheduler'),
  );
}
