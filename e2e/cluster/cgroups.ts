// The nodes' cgroup v1 subtrees: each node's daemons, shims and pods live under /ebb/<node> in
// every mounted hierarchy, so `cluster:down` can kill what is left of a node and remove its
// cgroups without touching anything else on the host.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const CGROUP_FS = '/sys/fs/cgroup';

/** Every hierarchy mounted under /sys/fs/cgroup (v1 controllers, the named systemd one and the
 * unified mirror that libcontainer also writes to on a hybrid host). */
export async function hierarchies(): Promise<string[]> {
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  const found = new Set<string>();
  for (const line of mounts.split('\n')) {
    const target = line.split(' ')[4] ?? '';
    const fsType = line.split(' - ')[1]?.split(' ')[0] ?? '';
    if ((fsType === 'cgroup' || fsType === 'cgroup2') && target.startsWith(`${CGROUP_FS}/`))
      found.add(target);
  }
  return [...found].sort();
}

/** Creates `path` (e.g. /ebb/ebb-node) in every hierarchy. A new cpuset cgroup starts with no CPUs
 * and no memory nodes, so each level copies its parent's before anything joins it. */
export async function ensureCgroup(path: string): Promise<void> {
  for (const root of await hierarchies()) {
    let dir = root;
    for (const part of path.split('/').filter((p) => p !== '')) {
      const parent = dir;
      dir = join(dir, part);
      if (existsSync(dir)) continue;
      await mkdir(dir);
      if (existsSync(join(dir, 'cpuset.cpus'))) {
        for (const file of ['cpuset.cpus', 'cpuset.mems']) {
          const value = (await readFile(join(parent, file), 'utf8')).trim();
          await writeFile(join(dir, file), value);
        }
      }
    }
  }
}

/** The cgroup.procs files a process writes its pid to, to join `path` in every hierarchy. */
export async function procsFiles(path: string): Promise<string[]> {
  return (await hierarchies()).map((root) => join(root, path, 'cgroup.procs'));
}

async function pidsUnder(dir: string): Promise<number[]> {
  if (!existsSync(dir)) return [];
  const pids: number[] = [];
  const text = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
  for (const line of text.split('\n')) if (line !== '') pids.push(Number(line));
  for (const entry of await readdir(dir, { withFileTypes: true }))
    if (entry.isDirectory()) pids.push(...(await pidsUnder(join(dir, entry.name))));
  return pids;
}

/** Every process in `path`'s subtree, in any hierarchy. */
export async function processesIn(path: string): Promise<number[]> {
  const all = new Set<number>();
  for (const root of await hierarchies()) for (const pid of await pidsUnder(join(root, path))) all.add(pid);
  return [...all];
}

/** SIGKILLs everything in the subtree, then removes its directories, deepest first. */
export async function removeCgroup(path: string): Promise<void> {
  for (let round = 0; round < 50; round++) {
    const pids = await processesIn(path);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await sleep(100);
  }
  for (const root of await hierarchies()) await removeTree(join(root, path));
}

async function removeTree(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const entry of await readdir(dir, { withFileTypes: true }))
    if (entry.isDirectory()) await removeTree(join(dir, entry.name));
  // A cgroup whose last process just exited can be busy for a moment.
  for (let attempt = 0; ; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      if (attempt >= 50)
        throw new Error(`cannot remove cgroup ${dir}: ${(error as Error).message}`, { cause: error });
      await sleep(100);
    }
  }
}
