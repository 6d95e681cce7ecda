import { describe, expect, it } from '@jest/globals';
import { portConflicts } from './ports.ts';
import { BRIDGE_IP } from './topology.ts';

const SS = [
  'LISTEN 0      128          0.0.0.0:2024       0.0.0.0:*    users:(("sshd",pid=101,fd=3))',
  'LISTEN 0      4096       127.0.0.1:10257      0.0.0.0:*    users:(("other-kcm",pid=202,fd=7))',
  `LISTEN 0      4096   ${BRIDGE_IP}:10250      0.0.0.0:*`,
  'LISTEN 0      511                *:10256            *:*    users:(("node",pid=303,fd=20))',
  'LISTEN 0      4096   127.0.0.53%lo:53         0.0.0.0:*    users:(("systemd-resolve",pid=404,fd=14))',
].join('\n');

describe('portConflicts', () => {
  it('names each port a daemon that is not running would collide on, and who holds it', () => {
    expect(portConflicts(SS, ['kube-controller-manager', 'kubelet-ebb-node', 'kube-proxy'])).toEqual([
      { daemon: 'kube-controller-manager', port: 10257, holder: '"other-kcm",pid=202' },
      { daemon: 'kubelet-ebb-node', port: 10250, holder: `a listener on ${BRIDGE_IP}:10250` },
      { daemon: 'kube-proxy', port: 10256, holder: '"node",pid=303' },
    ]);
  });

  it('ignores daemons that already run (their ports are their own) and listeners on other addresses', () => {
    // systemd-resolved holds 127.0.0.53:53; CoreDNS binds the bridge address, so both can be.
    expect(portConflicts(SS, ['etcd', 'kube-apiserver', 'coredns'])).toEqual([]);
  });

  it('finds nothing in empty output', () => {
    expect(portConflicts('', ['etcd'])).toEqual([]);
  });
});
