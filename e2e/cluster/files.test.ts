import { expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeIfChanged } from './files.ts';

it('writeIfChanged writes a new file, leaves an identical one untouched and rewrites a changed one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ebb-files-'));
  try {
    const path = join(dir, 'kube-proxy.yaml');
    expect(await writeIfChanged(path, 'a: 1\n', 0o600)).toBe(true);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const written = (await stat(path, { bigint: true })).mtimeNs;
    await sleep(20);
    expect(await writeIfChanged(path, 'a: 1\n')).toBe(false);
    expect((await stat(path, { bigint: true })).mtimeNs).toBe(written);
    await writeFile(path, 'a: 2\n');
    expect(await writeIfChanged(path, 'a: 1\n')).toBe(true);
    expect(await readFile(path, 'utf8')).toBe('a: 1\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
