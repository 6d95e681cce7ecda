// Containers' memory limits, enforced as kubelet and runc enforce them on a cgroup v1 host: each
// container runs in a memory cgroup of its own, <hierarchy>/ebb/<pod uid>/<container>, whose
// memory.limit_in_bytes (and memory.memsw.limit_in_bytes, so swap does not dodge it) is its
// resources.limits.memory. Over it, the kernel's OOM killer ends the container, which reports
// OOMKilled. Reading the spec and the kernel's counters is pure; MemoryCgroups does the few writes.
// Without a writable memory controller the agent says so once and runs containers unlimited.
import type { V1Container } from '@kubernetes/client-node';
import { access, mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseQuantity, quantityValue } from '../../../src/apis/core/quantity.ts';
import { errorMessage } from '../shell.ts';
import { SETUP_FAILED_EXIT } from './container-mounts.ts';

/** Where a cgroup v1 host mounts the memory controller. */
export const MEMORY_HIERARCHY = '/sys/fs/cgroup/memory';
/** The agent's part of the hierarchy: every container's cgroup is beneath it. */
export const CGROUP_PARENT = join(MEMORY_HIERARCHY, 'ebb');

/** The bytes a container's `limits.memory` allows; undefined for no limit (none, or 0, which
 * Kubernetes reads as none). */
export function memoryLimit(container: V1Container): bigint | undefined {
  const value = container.resources?.limits?.memory;
  if (value === undefined) return undefined;
  const q = parseQuantity(value);
  const bytes = q === undefined ? undefined : quantityValue(q);
  if (bytes === undefined || bytes < 0n)
    throw new Error(
      `container "${container.name}" resources.limits.memory: "${value}" is not a quantity of bytes`,
    );
  return bytes === 0n ? undefined : bytes;
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function segment(what: string, value: string): string {
  if (!SEGMENT.test(value)) throw new Error(`${what} "${value}" cannot name a cgroup directory`);
  return value;
}

/** A pod's cgroup directory under the agent's parent: its containers' cgroups are beneath. */
export function podCgroup(parent: string, podUid: string): string {
  return join(parent, segment('pod uid', podUid));
}

/** A container's cgroup directory. */
export function containerCgroup(parent: string, podUid: string, container: string): string {
  return join(podCgroup(parent, podUid), segment('container name', container));
}

/**
 * The command that runs `argv` in a cgroup: a shell writes its own pid to the cgroup's
 * cgroup.procs, then execs `argv`, so the container's first process, and all it starts, are in
 * the cgroup from the start. It comes before `ip netns exec`, which mounts a /sys of its own
 * without the cgroup hierarchies.
 */
export function inCgroup(procs: string, argv: readonly string[]): string[] {
  const script = `echo $$ > "$1" || exit ${SETUP_FAILED_EXIT}; shift; exec "$@"`;
  return ['/bin/sh', '-c', script, 'ebb-cgroup', procs, ...argv];
}

/** What the kernel counts for a cgroup: the OOM kills in it (memory.oom_control's oom_kill,
 * since Linux 4.13), or on older kernels its peak usage and its limit. */
export interface MemoryCounters {
  oomKills?: number;
  maxUsage?: bigint;
  limit?: bigint;
}

/** memory.oom_control's oom_kill count, if the kernel has one. */
export function parseOomKills(oomControl: string): number | undefined {
  const m = /^oom_kill (\d+)$/m.exec(oomControl);
  return m === null ? undefined : Number(m[1]);
}

export interface ExitStatus {
  code: number;
  signal: NodeJS.Signals | null;
}

/**
 * Whether a container was OOM-killed, as containerd decides it: the OOM killer struck in its
 * cgroup while it ran (its main process or a child it started). `oomKillsBefore` is the count
 * when the container started, in case its cgroup is one an earlier run left behind. Without the
 * kernel's count, a container killed by SIGKILL whose usage reached its limit was.
 */
export function oomKilled(
  oomKillsBefore: number | undefined,
  after: MemoryCounters,
  exit: ExitStatus,
): boolean {
  if (after.oomKills !== undefined) return after.oomKills > (oomKillsBefore ?? 0);
  const killed = exit.signal === 'SIGKILL' || exit.code === 137;
  return killed && after.limit !== undefined && after.maxUsage !== undefined && after.maxUsage >= after.limit;
}

export interface ContainerCgroup {
  dir: string;
  /** The file a process writes its pid to, to join the cgroup. */
  procs: string;
  /** The cgroup's OOM kills when the container started. */
  oomKillsBefore: number | undefined;
}

type Log = (fields: Record<string, unknown>, message: string) => void;

/** Cgroup files exist already: `r+` never creates one where the controller is not mounted. */
const write = (file: string, value: string) => writeFile(file, value, { flag: 'r+' });

async function readBytes(file: string): Promise<bigint | undefined> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return /^\d+$/.test(text.trim()) ? BigInt(text.trim()) : undefined;
}

async function readCounters(dir: string): Promise<MemoryCounters> {
  const oomKills = parseOomKills(await readFile(join(dir, 'memory.oom_control'), 'utf8').catch(() => ''));
  if (oomKills !== undefined) return { oomKills };
  const [maxUsage, limit] = await Promise.all([
    readBytes(join(dir, 'memory.max_usage_in_bytes')),
    readBytes(join(dir, 'memory.limit_in_bytes')),
  ]);
  return {
    ...(maxUsage === undefined ? {} : { maxUsage }),
    ...(limit === undefined ? {} : { limit }),
  };
}

const errorCode = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code;

/**
 * Removes a cgroup and the ones beneath it, first killing what still runs there (in a real
 * container, those die with its PID namespace). A cgroup that is not there is removed already.
 */
export async function removeCgroup(dir: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) if (entry.isDirectory()) await removeCgroup(join(dir, entry.name));
  for (let attempt = 1; ; attempt++) {
    const procs = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
    for (const pid of procs.split('\n').filter((p) => p !== '')) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      // Busy until the killed processes have exited.
      if (errorCode(error) === 'ENOENT') return;
      if (errorCode(error) !== 'EBUSY' || attempt === 40) throw error;
    }
    await sleep(25);
  }
}

/** The agent's memory cgroups, or none if the host has no writable memory controller. */
export class MemoryCgroups {
  private readonly parent: string | undefined;
  /** Whether memory.memsw.limit_in_bytes takes writes (swap accounting is on). */
  private readonly swap: boolean;

  private constructor(parent: string | undefined, swap: boolean) {
    this.parent = parent;
    this.swap = swap;
  }

  /** No cgroups: containers run unlimited. */
  static readonly none = new MemoryCgroups(undefined, false);

  /** Makes the agent's parent cgroup under `hierarchy`, or logs why it cannot and returns none. */
  static async open(hierarchy: string, log: Log): Promise<MemoryCgroups> {
    const parent = join(hierarchy, 'ebb');
    try {
      await access(join(hierarchy, 'memory.limit_in_bytes'));
      const made = await mkdir(parent).then(
        () => true,
        (error: unknown) => {
          if (errorCode(error) === 'EEXIST') return false;
          throw error;
        },
      );
      // The parent itself stays unlimited; writing that proves the controller takes writes.
      await write(join(parent, 'memory.limit_in_bytes'), '-1').catch(async (error: unknown) => {
        if (made) await rmdir(parent).catch(() => undefined);
        throw error;
      });
    } catch (error) {
      log(
        { cgroup: parent, error: errorMessage(error) },
        'no writable cgroup v1 memory controller: containers run without memory limits',
      );
      return MemoryCgroups.none;
    }
    const swap = await write(join(parent, 'memory.memsw.limit_in_bytes'), '-1').then(
      () => true,
      () => false,
    );
    log({ cgroup: parent, swap }, 'memory limits enforced through cgroup v1');
    return new MemoryCgroups(parent, swap);
  }

  /** A container's cgroup with its limit set (none: unlimited); undefined without cgroups. */
  async create(
    podUid: string,
    container: string,
    limit: bigint | undefined,
  ): Promise<ContainerCgroup | undefined> {
    if (this.parent === undefined) return undefined;
    const dir = containerCgroup(this.parent, podUid, container);
    await mkdir(dir, { recursive: true });
    const bytes = limit === undefined ? '-1' : String(limit);
    const memsw = join(dir, 'memory.memsw.limit_in_bytes');
    // The kernel keeps memsw at or above the memory limit: lift it first, in case a cgroup an
    // earlier run left behind had a lower one.
    if (this.swap) await write(memsw, '-1');
    await write(join(dir, 'memory.limit_in_bytes'), bytes);
    if (this.swap) await write(memsw, bytes);
    const { oomKills } = await readCounters(dir);
    return { dir, procs: join(dir, 'cgroup.procs'), oomKillsBefore: oomKills };
  }

  /** After the container's process exited: whether it was OOM-killed. Its cgroup is removed with
   * whatever the process left running there. Never rejects. */
  async release(cgroup: ContainerCgroup, exit: ExitStatus): Promise<boolean> {
    const after = await readCounters(cgroup.dir);
    await removeCgroup(cgroup.dir).catch(() => undefined);
    return oomKilled(cgroup.oomKillsBefore, after, exit);
  }

  /** The cgroup of a container that never started. Never rejects. */
  async discard(cgroup: ContainerCgroup): Promise<void> {
    await removeCgroup(cgroup.dir).catch(() => undefined);
  }

  /** A deleted pod's cgroups. */
  async removePod(podUid: string): Promise<void> {
    if (this.parent === undefined) return;
    await removeCgroup(podCgroup(this.parent, podUid));
  }

  /** Every pod's cgroups: at start, the previous agent's pods are gone. */
  async removeAll(): Promise<string[]> {
    if (this.parent === undefined) return [];
    const pods = (await readdir(this.parent, { withFileTypes: true })).filter((e) => e.isDirectory());
    for (const pod of pods) await removeCgroup(join(this.parent, pod.name));
    return pods.map((p) => p.name);
  }
}
