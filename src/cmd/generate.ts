// Writes the generated files from their sources of truth: the CRDs, into crds/ (applied with
// kubectl, shipped in the image) and into the Helm chart's templates/crds/, where `helm upgrade`
// updates them (Helm reads nothing outside the chart, hence two renderings of the same CRDs).
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { CHART_CRD_DIR, CRD_DIR, renderCrds } from '../apis/crds.ts';

for (const [dir, files] of [
  [CRD_DIR, renderCrds('plain')],
  [CHART_CRD_DIR, renderCrds('chart')],
] as const) {
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
