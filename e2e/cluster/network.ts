// The host side of the pod network: a bridge carrying the pod range, a route that keeps the
// service range on that bridge, and an nftables table that lets pods talk to each other and to
// the host but forwards nothing else, so no packet for a cluster range ever leaves the machine.
import { BRIDGE, BRIDGE_IP, POD_CIDR, POD_PREFIX, SERVICE_CIDR } from './topology.ts';
import { sh, succeeds } from './shell.ts';

/** Locally administered, so it collides with no real NIC. */
const BRIDGE_MAC = '02:eb:b0:00:00:01';

export const NFT_TABLE = 'ebb_cluster';

const RULES = `
table inet ${NFT_TABLE} {
  chain forward {
    type filter hook forward priority -10; policy drop;
    iifname "${BRIDGE}" oifname "${BRIDGE}" ip saddr ${POD_CIDR} accept comment "pod to pod, also through a ClusterIP"
    counter comment "anything else: pods reach only pods and the host, and the host routes nothing else"
  }
  chain postrouting {
    type nat hook postrouting priority 110; policy accept;
    oifname "${BRIDGE}" ip saddr ${POD_CIDR} ct status dnat masquerade comment "pod to pod through a ClusterIP"
  }
}
`;

/** Returns the previous net.ipv4.ip_forward value, for teardown to restore. */
export async function setupHostNetwork(): Promise<string> {
  const previousForward = (await sh('sysctl', ['-n', 'net.ipv4.ip_forward'])).trim();
  if (!(await succeeds('ip', ['link', 'show', BRIDGE]))) {
    // A fixed MAC: a bridge otherwise takes the lowest MAC of its ports, which changes as pods come
    // and go and leaves every pod's cached neighbour entry for its gateway (the bridge) stale.
    await sh('ip', ['link', 'add', BRIDGE, 'address', BRIDGE_MAC, 'type', 'bridge']);
  }
  await sh('ip', ['addr', 'replace', `${BRIDGE_IP}/${POD_PREFIX}`, 'dev', BRIDGE]);
  await sh('ip', ['link', 'set', BRIDGE, 'up']);
  await sh('ip', ['route', 'replace', SERVICE_CIDR, 'dev', BRIDGE]);
  await sh('nft', ['delete', 'table', 'inet', NFT_TABLE]).catch(() => undefined);
  await sh('nft', ['-f', '-'], RULES);
  // Forwarding is needed for pod → ClusterIP → pod; the forward chain above confines it.
  await sh('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
  return previousForward;
}

export async function teardownHostNetwork(previousForward: string | undefined): Promise<void> {
  if (previousForward !== undefined)
    await sh('sysctl', ['-q', '-w', `net.ipv4.ip_forward=${previousForward}`]);
  await sh('nft', ['delete', 'table', 'inet', NFT_TABLE]).catch(() => undefined);
  await sh('ip', ['route', 'del', SERVICE_CIDR, 'dev', BRIDGE]).catch(() => undefined);
  await sh('ip', ['link', 'del', BRIDGE]).catch(() => undefined);
}

export async function hostNetworkHealthy(): Promise<string | undefined> {
  if (!(await succeeds('ip', ['link', 'show', BRIDGE]))) return `bridge ${BRIDGE} missing`;
  if (!(await succeeds('nft', ['list', 'table', 'inet', NFT_TABLE])))
    return `nftables table ${NFT_TABLE} missing`;
  return undefined;
}
