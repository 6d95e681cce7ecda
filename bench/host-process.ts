// CPU time and memory of processes on this host, read from /proc, for the data-plane benchmarks.
// The local cluster's nodes run on this host, so a pod's processes are found here: the kubelet
// puts each pod in a cgroup of its own, `.../kubepods/<qos>/pod<uid>/<container id>`, which names
// the pod uniquely.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Clock ticks per second, the unit of utime and stime in /proc/<pid>/stat. */
const CLOCK_TICKS = ((): number => {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

function pids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return ''; // the process ended, or is not ours to read
  }
}

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
function statFields(pid: number): string[] | undefined {
  const stat = readOrEmpty(`/proc/${pid}/stat`);
  const end = stat.lastIndexOf(')');
  return end === -1 ? undefined : stat.slice(end + 2).split(' ');
}

function parentPid(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields === undefined ? undefined : Number(fields[1]);
}

function executable(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return '';
  }
}

/**
 * The pod's main process: of the processes in the pod's cgroup other than the sandbox's pause, the
 * one whose parent is not among them. Undefined when none runs on this host.
 */
export function podProcess(pod: { namespace: string; name: string; uid: string }): number | undefined {
  const marker = `/pod${pod.uid}/`;
  const members = new Set<number>();
  for (const pid of pids()) {
    if (!readOrEmpty(`/proc/${pid}/cgroup`).includes(marker)) continue;
    if (executable(pid) !== '/pause') members.add(pid);
  }
  for (const pid of members) {
    const parent = parentPid(pid);
    if (parent === undefined || !members.has(parent)) return pid;
  }
  return undefined;
}

/** The direct children of a process (nginx's workers, of its master). */
export function childProcesses(parent: number): number[] {
  return pids().filter((pid) => parentPid(pid) === parent);
}

/** User plus system CPU seconds a process has used, all its threads included; 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  if (fields === undefined) return 0;
  // utime and stime are fields 14 and 15 of stat; fields[0] here is field 3 (state).
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Resident and peak resident memory in KiB (VmRSS and VmHWM of /proc/<pid>/status). */
export function memoryKiB(pid: number): { rss: number; peak: number } {
  const status = readOrEmpty(`/proc/${pid}/status`);
  const field = (name: string): number =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

/**
 * The complete entries of the neighbour (ARP) table in a process's network namespace, by IPv4
 * address. An entry for an address no live pod holds is left over from a deleted pod.
 */
export function neighbours(pid: number): Map<string, { mac: string; device: string }> {
  const table = new Map<string, { mac: string; device: string }>();
  // IP address, HW type, Flags, HW address, Mask, Device; flag 0x2 marks a complete entry.
  for (const line of readOrEmpty(`/proc/${pid}/net/arp`).split('\n').slice(1)) {
    const [ip, , flags, mac, , device] = line.trim().split(/\s+/);
    if (ip === undefined || mac === undefined || device === undefined || (Number(flags) & 2) === 0) continue;
    table.set(ip, { mac, device });
  }
  return table;
}

/** The MAC address of a network device in this (the host's) namespace, or undefined. */
export function bridgeAddress(device: string): string | undefined {
  const mac = readOrEmpty(`/sys/class/net/${device}/address`).trim();
  return mac === '' ? undefined : mac;
}

/** Busy CPU seconds of the whole machine (all cores), from /proc/stat. */
export function machineBusySeconds(): number {
  const line = readOrEmpty('/proc/stat').split('\n')[0] ?? '';
  // cpu user nice system idle iowait irq softirq steal ...
  const ticks = line.split(/\s+/).slice(1).map(Number);
  const busy = ticks.reduce(
    (sum, t, i) => (i === 3 || i === 4 ? sum : sum + (Number.isFinite(t) ? t : 0)),
    0,
  );
  return busy / CLOCK_TICKS;
}

/** CPU seconds used by a set of processes between start() and stop(), and the wall time. */
export class CpuMeter {
  private readonly pids: number[];
  private before = 0;
  private startedAt = 0;

  constructor(pids: number[]) {
    this.pids = pids;
  }

  private total(): number {
    return this.pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  }

  start(): void {
    this.before = this.total();
    this.startedAt = performance.now();
  }

  /** CPU seconds used, and cores used on average (CPU seconds per wall second). */
  stop(): { seconds: number; cores: number } {
    const seconds = this.total() - this.before;
    const wall = (performance.now() - this.startedAt) / 1000;
    return { seconds, cores: wall > 0 ? seconds / wall : 0 };
  }
}

/** The machine's busy CPU seconds between start() and stop(), as cores used on average. */
export class MachineMeter {
  private before = 0;
  private startedAt = 0;

  start(): void {
    this.before = machineBusySeconds();
    this.startedAt = performance.now();
  }

  stop(): number {
    const wall = (performance.now() - this.startedAt) / 1000;
    return wall > 0 ? (machineBusySeconds() - this.before) / wall : 0;
  }
}
