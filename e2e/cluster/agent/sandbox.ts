// A pod's network sandbox: its own network namespace, a veth pair to the cluster bridge and an
// address from the pod range. Routes inside the namespace cover only the pod and service ranges,
// so a pod cannot reach anything beyond the machine.
import { sh, succeeds } from '../shell.ts';
import { BRIDGE, BRIDGE_IP, POD_PREFIX, SERVICE_CIDR } from '../topology.ts';

export const NETNS_PREFIX = 'ebbpod-';

export function netnsName(uid: string): string {
  return `${NETNS_PREFIX}${uid.replace(/-/g, '').slice(0, 16)}`;
}

function hostVeth(uid: string): string {
  return `veb${uid.replace(/-/g, '').slice(0, 12)}`;
}

/** Pod addresses come from 10.244.1.0 upwards; 10.244.0.0/24 is the host's. */
const FIRST = 256;
const LAST = 65_534;

export class AddressPool {
  private readonly used = new Set<number>();
  /** Where the next search starts: addresses go round the range, as host-local IPAM does, so a
   * freed address is not handed out again at once while neighbours still cache its old MAC. */
  private next = FIRST;

  reserve(ip: string): void {
    const i = toIndex(ip);
    this.used.add(i);
    if (i >= this.next) this.next = i + 1 < LAST ? i + 1 : FIRST;
  }

  allocate(): string {
    for (let n = 0; n < LAST - FIRST; n++) {
      const i = this.next;
      this.next = i + 1 < LAST ? i + 1 : FIRST;
      if (!this.used.has(i)) {
        this.used.add(i);
        return `10.244.${Math.floor(i / 256)}.${i % 256}`;
      }
    }
    throw new Error('pod address range 10.244.0.0/16 is exhausted');
  }

  release(ip: string): void {
    this.used.delete(toIndex(ip));
  }
}

function toIndex(ip: string): number {
  const [, , c = '0', d = '0'] = ip.split('.');
  return Number(c) * 256 + Number(d);
}

export async function createSandbox(uid: string, ip: string): Promise<string> {
  const ns = netnsName(uid);
  const veth = hostVeth(uid);
  await deleteSandbox(uid);
  await sh('ip', ['netns', 'add', ns]);
  // Two `ip` processes for the rest (host side, then pod side): each invocation costs milliseconds.
  await sh(
    'ip',
    ['-batch', '-'],
    [
      `link add ${veth} type veth peer name eth0 netns ${ns}`,
      `link set ${veth} master ${BRIDGE}`,
      `link set ${veth} up`,
      '',
    ].join('\n'),
  );
  await sh(
    'ip',
    ['-n', ns, '-batch', '-'],
    [
      'link set lo up',
      `addr add ${ip}/${POD_PREFIX} dev eth0`,
      'link set eth0 up',
      `route add ${SERVICE_CIDR} via ${BRIDGE_IP}`,
      '',
    ].join('\n'),
  );
  return ns;
}

/** Kills whatever still runs in the namespace, then removes it and its veth. */
export async function deleteSandbox(uid: string): Promise<void> {
  await removeNetns(netnsName(uid));
  await sh('ip', ['link', 'del', hostVeth(uid)]).catch(() => undefined);
}

/** Deleting the namespace also deletes the veth end inside it, and so the pair. */
export async function removeNetns(ns: string): Promise<void> {
  if (await succeeds('ip', ['netns', 'pids', ns])) {
    const pids = (await sh('ip', ['netns', 'pids', ns])).split('\n').filter((p) => p !== '');
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await sh('ip', ['netns', 'del', ns]).catch(() => undefined);
  }
}

export async function listSandboxNamespaces(): Promise<string[]> {
  const out = await sh('ip', ['netns', 'list']);
  return out
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(NETNS_PREFIX));
}
