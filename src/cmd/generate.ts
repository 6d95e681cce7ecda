// Writes the generated files from their sources of truth: the CRDs, into crds/ (applied with
// kubectl, shipped in the image) and into the Helm chart's templates/crds/, where `helm upgrade`
// updates them (Helm reads nothing outside the chart, hence two renderings of the same CRDs); and
// docs/configuration.md, from the chart's values and the Knative ConfigMap parsers.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { CONFIGURATION_DOC, renderConfigurationReference } from '../apis/configuration-reference.ts';
import { CHART_CRD_DIR, CRD_DIR, renderCrds } from '../apis/crds.ts';

const root = new URL('../../', import.meta.url);

for (const [dir, files] of [
  [CRD_DIR, renderCrds('plain')],
  [CHART_CRD_DIR, renderCrds('chart')],
] as const) {
  const url = new URL(dir, root);
  await mkdir(url, { recursive: true });
  for (const name of await readdir(url)) {
    if (name.endsWith('.yaml') && !files.has(name)) await rm(new URL(name, url));
  }
  for (const [name, text] of files) {
    await writeFile(new URL(name, url), text);
    console.log(`wrote ${dir}${name}`);
  }
}

await writeFile(new URL(CONFIGURATION_DOC, root), await renderConfigurationReference(root));
console.log(`wrote ${CONFIGURATION_DOC}`);
