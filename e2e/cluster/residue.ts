// What the local cluster may leave on the host, for `cluster:down` to prove it leaves nothing:
// processes, mounts, cgroups, links, routes, nftables tables and state.
import { existsSync } from 'node:fs';
import { readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { hierarchies } from './cgroups.ts';
import { RUN_ROOT, RUNC } from './kubelet-node.ts';
import { NFT_TABLE } from './network.ts';
import { BIN_DIR, NODE_BIN_DIR, STATE_DIR } from './paths.ts';
import { sh } from './shell.ts';
import { BRIDGE, SERVICE_CIDR } from './topology.ts';

/** What is left; `createdPaths` are the host paths cluster:up created (from its host-state.json). */
export async function findResidue(createdPaths: readonly string[] = []): Promise<string[]> {
  const found: string[] = [];
  const links = (await sh('ip', ['-o', 'link', 'show']))
    .split('\n')
    .map((l) => l.split(': ')[1]?.split('@')[0] ?? '');
  found.push(...links.filter((l) => l === BRIDGE).map((l) => `link ${l}`));
  if ((await sh('ip', ['route', 'show', SERVICE_CIDR])).trim() !== '') found.push(`route ${SERVICE_CIDR}`);
  const tables = (await sh('nft', ['list', 'tables'])).split('\n');
  found.push(
    ...tables
      .filter((t) => t.endsWith(` ${NFT_TABLE}`) || t.endsWith(' kube-proxy') || t.endsWith(' cni_hostport'))
      .map((t) => `nftables ${t}`),
  );
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const exe = await readlink(`/proc/${pid}/exe`).catch(() => '');
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' ');
    if (
      exe.startsWith(BIN_DIR) ||
      exe.startsWith(NODE_BIN_DIR) ||
      exe === RUNC ||
      cmdline.includes('e2e/cluster/images/registry.ts')
    ) {
      found.push(`process ${pid}: ${cmdline.slice(0, 120)}`);
    }
  }
  for (const root of await hierarchies())
    if (existsSync(join(root, 'ebb'))) found.push(`cgroup ${join(root, 'ebb')}`);
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  found.push(
    ...mounts
      .split('\n')
      .filter((m) => m.includes(STATE_DIR) || m.includes(RUN_ROOT))
      .map((m) => `mount ${m.split(' ')[4] ?? m}`),
  );
  if (existsSync(STATE_DIR)) found.push(`state directory ${STATE_DIR}`);
  if (existsSync(RUN_ROOT)) found.push(`run directory ${RUN_ROOT}`);
  for (const path of createdPaths) if (existsSync(path)) found.push(`directory ${path}`);
  return found;
}
