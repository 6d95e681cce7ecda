// Writes the generated files (crds/) from their sources of truth.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { renderCrds } from '../apis/crds.ts';

const dir = new URL('../../crds/', import.meta.url);
await mkdir(dir, { recursive: true });
const files = renderCrds();
for (const name of await readdir(dir)) {
  if (name.endsWith('.yaml') && !files.has(name)) await rm(new URL(name, dir));
}
for (const [name, text] of files) {
  await writeFile(new URL(name, dir), text);
  console.log(`wrote crds/${name}`);
}
