// Runs last (see e2e/run.ts): `cluster:down` must leave nothing behind on the host.
import { expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findResidue } from '../cluster/residue.ts';
import { STATE_DIR } from '../cluster/paths.ts';

it('cluster:down removes every namespace, link, route, rule, process, mount and state it made', async () => {
  const hostState = JSON.parse(readFileSync(join(STATE_DIR, 'host-state.json'), 'utf8')) as {
    previousForward: string;
    createdPaths?: string[];
  };
  const cluster = new URL('../cluster/cluster.ts', import.meta.url).pathname;
  const down = spawnSync(process.execPath, [cluster, 'down'], { encoding: 'utf8' });
  expect(down.stderr).toContain('down:');
  expect(down.status).toBe(0);
  expect(await findResidue(hostState.createdPaths)).toEqual([]);
  expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe(hostState.previousForward);
});
