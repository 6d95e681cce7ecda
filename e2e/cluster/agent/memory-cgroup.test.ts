// A container's memory cgroup: the limit read from its spec, where its cgroup goes, how its first
// process joins it, and how its exit is told to be an OOM kill. The e2e suite memory-limits runs
// all of it against the host's cgroup v1 memory controller.
import { describe, expect, it } from '@jest/globals';
import type { V1Container } from '@kubernetes/client-node';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  containerCgroup,
  inCgroup,
  memoryLimit,
  MemoryCgroups,
  oomKilled,
  parseOomKills,
  podCgroup,
  removeCgroup,
  type ExitStatus,
  type MemoryCounters,
} from './memory-cgroup.ts';

const container = (limits?: Record<string, string>): V1Container => ({
  name: 'main',
  image: 'dev.local/helloworld',
  ...(limits === undefined ? {} : { resources: { limits } }),
});

describe('memoryLimit', () => {
  it.each<[Record<string, string> | undefined, bigint | undefined]>([
    [undefined, undefined],
    [{ cpu: '1' }, undefined],
    [{ memory: '64Mi' }, 67_108_864n],
    [{ memory: '350Mi', cpu: '500m' }, 367_001_600n],
    [{ memory: '1G' }, 1_000_000_000n],
    [{ memory: '0.5Gi' }, 536_870_912n],
    [{ memory: '1e9' }, 1_000_000_000n],
    // 0 is no limit, as the kubelet reads it.
    [{ memory: '0' }, undefined],
  ])('limits %j: %s bytes', (limits, bytes) => {
    expect(memoryLimit(container(limits))).toBe(bytes);
  });

  it('names the field of a value that is not a quantity of bytes', () => {
    expect(() => memoryLimit(container({ memory: '64MB' }))).toThrow(
      'container "main" resources.limits.memory: "64MB" is not a quantity of bytes',
    );
    expect(() => memoryLimit(container({ memory: '-1Mi' }))).toThrow('is not a quantity of bytes');
  });
});

describe('cgroup paths', () => {
  const parent = '/sys/fs/cgroup/memory/ebb';
  const uid = '0f3c5a8e-2b7d-4c1e-9a6f-3d2e1b0c9a87';

  it('puts each container beneath its pod', () => {
    expect(podCgroup(parent, uid)).toBe(`${parent}/${uid}`);
    expect(containerCgroup(parent, uid, 'user-container')).toBe(`${parent}/${uid}/user-container`);
  });

  it.each([
    ['', 'main'],
    ['..', 'main'],
    ['a/b', 'main'],
    [uid, '../escape'],
    [uid, '.hidden'],
    [uid, ''],
  ])('refuses pod uid %p with container %p', (podUid, name) => {
    expect(() => containerCgroup(parent, podUid, name)).toThrow('cannot name a cgroup directory');
  });
});

describe('inCgroup', () => {
  it('writes its own pid, which the command keeps, before the command runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ebb-cgroup-'));
    try {
      const procs = join(dir, 'cgroup.procs');
      await writeFile(procs, '');
      const [file = '', ...args] = inCgroup(procs, ['/bin/sh', '-c', 'cat "$1"; echo $$', 'x', procs]);
      const [joined, pid] = execFileSync(file, args, { encoding: 'utf8' }).trim().split('\n');
      expect(joined).toBe(pid);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails as a setup failure when it cannot join', () => {
    const [file = '', ...args] = inCgroup('/nonexistent/cgroup.procs', ['true']);
    const run = spawnSync(file, args, { stdio: 'ignore' });
    expect(run.status).toBe(125);
  });
});

describe('OOM kills', () => {
  it('reads the count from memory.oom_control', () => {
    expect(parseOomKills('oom_kill_disable 0\nunder_oom 0\noom_kill 3\n')).toBe(3);
    expect(parseOomKills('oom_kill_disable 0\nunder_oom 0\n')).toBeUndefined();
    expect(parseOomKills('')).toBeUndefined();
  });

  const killed: ExitStatus = { code: 137, signal: 'SIGKILL' };
  const limit = 67_108_864n;
  it.each<[string, number | undefined, MemoryCounters, ExitStatus, boolean]>([
    ['killed by the OOM killer', 0, { oomKills: 1 }, killed, true],
    ['a child killed, the shell exiting 137', 0, { oomKills: 1 }, { code: 137, signal: null }, true],
    ['a child killed, the app carrying on to exit 0', 0, { oomKills: 1 }, { code: 0, signal: null }, true],
    ['killed by the agent (liveness, grace period over)', 0, { oomKills: 0 }, killed, false],
    ['an earlier run OOM-killed, this one stopped', 2, { oomKills: 2 }, killed, false],
    ['an earlier run OOM-killed, this one too', 2, { oomKills: 3 }, killed, true],
    ['an error exit', 0, { oomKills: 0 }, { code: 1, signal: null }, false],
    // Kernels before 4.13 count no OOM kills: usage at the limit and SIGKILL tell.
    ['no count: SIGKILL at the limit', undefined, { maxUsage: limit, limit }, killed, true],
    ['no count: SIGKILL below the limit', undefined, { maxUsage: limit / 2n, limit }, killed, false],
    [
      'no count: an error at the limit',
      undefined,
      { maxUsage: limit, limit },
      { code: 1, signal: null },
      false,
    ],
    ['nothing readable', undefined, {}, killed, false],
  ])('%s', (_what, before, after, exit, expected) => {
    expect(oomKilled(before, after, exit)).toBe(expected);
  });
});

describe('MemoryCgroups without a memory controller', () => {
  it('logs once why, and runs containers without a cgroup', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ebb-no-cgroup-'));
    try {
      const logs: string[] = [];
      const cgroups = await MemoryCgroups.open(dir, (_fields, message) => logs.push(message));
      expect(logs).toEqual(['no writable cgroup v1 memory controller: containers run without memory limits']);
      expect(cgroups).toBe(MemoryCgroups.none);
      expect(await cgroups.create('uid', 'main', 1n << 26n)).toBeUndefined();
      await cgroups.removePod('uid');
      expect(await cgroups.removeAll()).toEqual([]);
      // Nothing was made where the controller is not.
      expect(existsSync(join(dir, 'ebb'))).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('leaves nothing where a control file is there but does not take writes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ebb-no-cgroup-'));
    try {
      await writeFile(join(dir, 'memory.limit_in_bytes'), '9223372036854771712\n');
      const logs: string[] = [];
      const cgroups = await MemoryCgroups.open(dir, (_fields, message) => logs.push(message));
      expect(cgroups).toBe(MemoryCgroups.none);
      expect(logs).toHaveLength(1);
      // Neither a control file nor the directory it made is left behind.
      expect(existsSync(join(dir, 'ebb'))).toBe(false);
      expect(await readFile(join(dir, 'memory.limit_in_bytes'), 'utf8')).toBe('9223372036854771712\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('removeCgroup', () => {
  it('removes the tree bottom up, and a missing one is removed already', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ebb-cgroup-tree-'));
    try {
      await mkdir(join(dir, 'ebb', 'pod', 'main'), { recursive: true });
      await mkdir(join(dir, 'ebb', 'pod', 'sidecar'), { recursive: true });
      await removeCgroup(join(dir, 'ebb'));
      expect(existsSync(join(dir, 'ebb'))).toBe(false);
      await removeCgroup(join(dir, 'ebb'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
