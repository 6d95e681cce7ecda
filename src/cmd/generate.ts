// Writes the generated files from their sources of truth: the CRDs, into crds/ (applied with
// kubectl, shipped in the image) and into the Helm chart's charts/ebb/crds/, which Helm installs
// before the templates. Helm does not follow a path outside the chart, hence two identical copies.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { CRD_DIRS, renderCrds } from '../apis/crds.ts';

const files = renderCrds();
for (const dir of CRD_DIRS) {
  const url = new URL(`../../${dir}`, import.meta.url);
  await mkdir(url, { recursive: true });
  for (const name of await readdir(url)) {
    if (name.endsWith('.yaml') && !files.has(name)) await rm(new URL(name, url));
  }
  for (const [name, text] of files) {
    await writeFile(new URL(name, url), text);
    console.log(`wrote ${dir}${name}`);
  }
}
