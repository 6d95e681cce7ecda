import { describe, expect, it } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { CHART_CRD_DIR, CRD_DIR, renderCrds } from './crds.ts';

interface Crd {
  spec: {
    names: { shortNames: string[] };
    versions: {
      subresources: { status: object };
      additionalPrinterColumns: { name: string }[];
      schema: { openAPIV3Schema: Record<string, unknown> };
    }[];
  };
}

/** Structural-schema rules the API server enforces on CRDs. */
function structuralProblems(schema: unknown, path: string): string[] {
  if (typeof schema !== 'object' || schema === null) return [`${path}: not an object`];
  const s = schema as Record<string, unknown>;
  const problems: string[] = [];
  const open = s['x-kubernetes-preserve-unknown-fields'] === true || s['x-kubernetes-int-or-string'] === true;
  if (s.type === undefined && !open) problems.push(`${path}: no type`);
  if (s.additionalProperties !== undefined && s.properties !== undefined)
    problems.push(`${path}: properties and additionalProperties`);
  if (s.additionalProperties === false) problems.push(`${path}: additionalProperties false`);
  for (const banned of ['$ref', 'anyOf', 'oneOf', 'allOf', 'const', '$schema']) {
    if (banned in s) problems.push(`${path}: ${banned}`);
  }
  for (const [k, v] of Object.entries((s.properties as Record<string, unknown> | undefined) ?? {})) {
    problems.push(...structuralProblems(v, `${path}.${k}`));
  }
  if (s.items !== undefined) problems.push(...structuralProblems(s.items, `${path}[]`));
  if (typeof s.additionalProperties === 'object')
    problems.push(...structuralProblems(s.additionalProperties, `${path}{}`));
  return problems;
}

describe('CRDs', () => {
  const rendered = renderCrds();

  it.each([
    [CRD_DIR, 'plain'],
    [CHART_CRD_DIR, 'chart'],
  ] as const)('are committed in %s exactly as `npm run generate` writes them', async (dir, target) => {
    const url = new URL(`../../${dir}`, import.meta.url);
    const files = renderCrds(target);
    const committed = (await readdir(url)).filter((f) => f.endsWith('.yaml')).sort();
    expect(committed).toEqual([...files.keys()].sort());
    for (const [name, text] of files) {
      expect(await readFile(new URL(name, url), 'utf8')).toBe(text);
    }
  });

  it.each([...rendered.entries()])(
    '%s is a structural schema with status and printer columns',
    (_name, text) => {
      const crd = parse(text) as Crd;
      const version = crd.spec.versions[0];
      expect(version).toBeDefined();
      if (version === undefined) return;
      expect(version.subresources.status).toEqual({});
      expect(version.additionalPrinterColumns.map((c) => c.name)).toContain('Ready');
      expect(structuralProblems(version.schema.openAPIV3Schema, 'openAPIV3Schema')).toEqual([]);
    },
  );

  it('has the short names Knative users type', () => {
    const shortNames = [...rendered.values()].flatMap((t) => (parse(t) as Crd).spec.names.shortNames);
    expect(shortNames).toEqual(expect.arrayContaining(['ksvc', 'kcfg', 'config', 'rev', 'rt', 'kpa']));
  });

  it('shows URL, LatestCreated, LatestReady, Ready and Reason for a Service', () => {
    const svc = parse(rendered.get('serving.knative.dev_services.yaml') ?? '') as Crd;
    expect(svc.spec.versions[0]?.additionalPrinterColumns.map((c) => c.name)).toEqual([
      'URL',
      'LatestCreated',
      'LatestReady',
      'Ready',
      'Reason',
    ]);
  });
});
