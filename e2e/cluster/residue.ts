// What the local cluster may leave on the host, for `cluster:down` to prove it leaves nothing:
// network namespaces, links, routes, nftables tables, processes, memory cgroups, mounts and state.
import { existsSync } from 'node:fs';
import { readFile, readdir, readlink } from 'node:fs/promises';
import { CGROUP_PARENT } from './agent/memory-cgroup.ts';
import { NETNS_PREFIX } from './agent/sandbox.ts';
import { NFT_TABLE } from './network.ts';
import { BIN_DIR, STATE_DIR } from './paths.ts';
import { sh } from './shell.ts';
import { BRIDGE, SERVICE_CIDR } from './topology.ts';

export async function findResidue(): Promise<string[]> {
  const found: string[] = [];
  const netns = (await sh('ip', ['netns', 'list'])).split('\n').filter((l) => l.startsWith(NETNS_PREFIX));
  found.push(...netns.map((n) => `network namespace ${n}`));
  const links = (await sh('ip', ['-o', 'link', 'show']))
    .split('\n')
    .map((l) => l.split(': ')[1]?.split('@')[0] ?? '');
  found.push(...links.filter((l) => l === BRIDGE || l.startsWith('veb')).map((l) => `link ${l}`));
  if ((await sh('ip', ['route', 'show', SERVICE_CIDR])).trim() !== '') found.push(`route ${SERVICE_CIDR}`);
  const tables = (await sh('nft', ['list', 'tables'])).split('\n');
  found.push(
    ...tables
      .filter((t) => t.endsWith(` ${NFT_TABLE}`) || t.endsWith(' kube-proxy'))
      .map((t) => `nftables ${t}`),
  );
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const exe = await readlink(`/proc/${pid}/exe`).catch(() => '');
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' ');
    if (
      exe.startsWith(BIN_DIR) ||
      cmdline.includes('e2e/cluster/agent/main.ts') ||
      cmdline.includes('ebb-container')
    ) {
      found.push(`process ${pid}: ${cmdline.slice(0, 120)}`);
    }
  }
  if (existsSync(CGROUP_PARENT)) found.push(`memory cgroup ${CGROUP_PARENT}`);
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  found.push(
    ...mounts
      .split('\n')
      .filter((m) => m.includes(STATE_DIR))
      .map((m) => `mount ${m.split(' ')[4] ?? m}`),
  );
  if (existsSync(STATE_DIR)) found.push(`state directory ${STATE_DIR}`);
  return found;
}
