// Builds docs/configuration.md from the sources of truth: the chart's values.schema.json (types and
// descriptions) with values.yaml (defaults), and the Knative ConfigMap parsers (keys, types and
// defaults, recorded as they read an empty ConfigMap). `npm run generate` writes it; a test fails
// when the committed file differs.
import { readFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { CONFIG_MAPS, type ConfigMapName } from './config/cluster-config.ts';
import { oneOf } from './config/configmap-data.ts';
import { CONFIG_MAP_MEANINGS, configMapKeys } from './config/configmap-reference.ts';
import { defaultDomainConfig } from './config/domain.ts';

export const CONFIGURATION_DOC = 'docs/configuration.md';
const VALUES = 'charts/ebb/values.yaml';
const VALUES_SCHEMA = 'charts/ebb/values.schema.json';

/** The parts of JSON Schema (draft-07) that values.schema.json uses and the reference shows. */
export interface JsonSchema {
  $ref?: string | undefined;
  type?: string | string[] | undefined;
  description?: string | undefined;
  enum?: unknown[] | undefined;
  const?: unknown;
  anyOf?: JsonSchema[] | undefined;
  properties?: Record<string, JsonSchema> | undefined;
  additionalProperties?: boolean | JsonSchema | undefined;
  items?: JsonSchema | undefined;
  definitions?: Record<string, JsonSchema> | undefined;
}

const JsonSchema: z.ZodType<JsonSchema> = z.lazy(() =>
  z.object({
    $ref: z.string().optional(),
    type: z.union([z.string(), z.array(z.string())]).optional(),
    description: z.string().optional(),
    enum: z.array(z.unknown()).optional(),
    const: z.unknown().optional(),
    anyOf: z.array(JsonSchema).optional(),
    properties: z.record(z.string(), JsonSchema).optional(),
    additionalProperties: z.union([z.boolean(), JsonSchema]).optional(),
    items: JsonSchema.optional(),
    definitions: z.record(z.string(), JsonSchema).optional(),
  }),
);

export interface ChartValues {
  schema: JsonSchema;
  /** values.yaml, parsed. */
  values: unknown;
}

export async function readChartValues(root: URL): Promise<ChartValues> {
  const [schemaText, valuesText] = await Promise.all([
    readFile(new URL(VALUES_SCHEMA, root), 'utf8'),
    readFile(new URL(VALUES, root), 'utf8'),
  ]);
  return { schema: JsonSchema.parse(JSON.parse(schemaText)), values: parse(valuesText) as unknown };
}

/** A value as it would be written in values.yaml, on one line. */
function yamlInline(value: unknown): string {
  return stringify(value, { collectionStyle: 'flow', lineWidth: 0 }).trimEnd();
}

/** The node with its `#/definitions/...` reference followed; the node's own keys win. */
function resolve(node: JsonSchema, root: JsonSchema): JsonSchema {
  if (node.$ref === undefined) return node;
  const name = /^#\/definitions\/(.+)$/.exec(node.$ref)?.[1];
  const target = name === undefined ? undefined : root.definitions?.[name];
  if (target === undefined) throw new Error(`${VALUES_SCHEMA}: cannot resolve ${node.$ref}`);
  return { ...resolve(target, root), ...node, $ref: undefined };
}

/** The listed values of an enum or const, if the node is one. */
function literals(node: JsonSchema): unknown[] | undefined {
  if (node.enum !== undefined) return node.enum;
  if ('const' in node) return [node.const];
  return undefined;
}

function typeOf(node: JsonSchema, root: JsonSchema): string {
  const n = resolve(node, root);
  if (n.anyOf !== undefined) {
    const choices = n.anyOf.map((c) => resolve(c, root));
    const all = choices.map(literals);
    if (all.every((l) => l !== undefined)) return oneOf(all.flat().map(yamlInline));
    return oneOf(choices.map((c) => typeOf(c, root)));
  }
  const listed = literals(n);
  if (listed !== undefined) return oneOf(listed.map(yamlInline));
  const types = typeof n.type === 'string' ? [n.type] : (n.type ?? []);
  const described = types.map((t) => {
    if (t === 'array') return n.items === undefined ? 'list' : `list of ${typeOf(n.items, root)}`;
    if (t === 'object' && typeof n.additionalProperties === 'object')
      return `map of ${typeOf(n.additionalProperties, root)}`;
    return t;
  });
  return described.length === 0 ? 'any' : oneOf(described);
}

function valueAt(values: unknown, path: readonly string[]): unknown {
  let here = values;
  for (const key of path) {
    if (typeof here !== 'object' || here === null || !Object.hasOwn(here, key)) return undefined;
    here = (here as Record<string, unknown>)[key];
  }
  return here;
}

export interface ValueRow {
  path: string;
  type: string;
  /** As written in values.yaml; undefined when values.yaml does not set it. */
  fallback: string | undefined;
  description: string | undefined;
}

/**
 * One row per value, in the schema's order: every leaf (a value without named properties) and
 * every object the schema describes; objects with named properties are walked into.
 */
export function valueRows(chart: ChartValues): ValueRow[] {
  const rows: ValueRow[] = [];
  const walk = (node: JsonSchema, path: string[]): void => {
    const n = resolve(node, chart.schema);
    const isLeaf = n.properties === undefined;
    if (path.length > 0 && (isLeaf || n.description !== undefined)) {
      const value = isLeaf ? valueAt(chart.values, path) : undefined;
      rows.push({
        path: path.join('.'),
        type: typeOf(n, chart.schema),
        fallback: value === undefined ? undefined : yamlInline(value),
        description: n.description,
      });
    }
    for (const [key, child] of Object.entries(n.properties ?? {})) walk(child, [...path, key]);
  };
  walk(chart.schema, []);
  return rows;
}

/** A table cell: a pipe would end the cell, even inside backticks. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

/** Plain text from the schema, so that `<name>` shows instead of passing as an HTML tag. */
function plain(text: string): string {
  return text.replace(/[\\<*]/g, '\\$&');
}

function code(text: string): string {
  return `\`${text}\``;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function helmSection(chart: ChartValues): string {
  const rows = valueRows(chart).map((r) => [
    code(r.path),
    r.type,
    r.fallback === undefined ? '' : code(r.fallback),
    plain(r.description ?? ''),
  ]);
  return [
    '## Helm values',
    `Set with \`--set\`, \`--set-string\` or \`-f\`; \`${VALUES_SCHEMA}\` rejects an unknown key. ` +
      `Defaults are from [\`${VALUES}\`](../${VALUES}), descriptions from [\`${VALUES_SCHEMA}\`](../${VALUES_SCHEMA}).`,
    table(['Value', 'Type', 'Default', 'Description'], rows),
  ].join('\n\n');
}

function configMapSection(name: ConfigMapName): string {
  const meaning = CONFIG_MAP_MEANINGS[name];
  const field = CONFIG_MAPS[name].field;
  const parts = [`### ${name}`, `${meaning.about} Chart value: \`config.${field}\`.`];
  if (name === 'config-domain') {
    const fallback = defaultDomainConfig().entries.map((e) => code(e.domain));
    parts.push(`Without a key whose selector matches every Route, Routes get ${oneOf(fallback)}.`);
    return parts.join('\n\n');
  }
  const rows = configMapKeys(name).map((k) => [
    k.legacyName === undefined ? code(k.key) : `${code(k.key)} (or ${code(k.legacyName)})`,
    k.type,
    k.fallback === undefined ? 'unset' : code(k.fallback === '' ? '""' : k.fallback),
    k.meaning ?? '',
  ]);
  parts.push(table(['Key', 'Type', 'Default', 'Meaning'], rows));
  return parts.join('\n\n');
}

/** docs/configuration.md, before formatting. */
export function configurationMarkdown(chart: ChartValues): string {
  const names = Object.keys(CONFIG_MAPS) as ConfigMapName[];
  return [
    '<!-- Generated by `npm run generate` from the chart and the ConfigMap parsers. Do not edit. -->',
    '# Configuration reference',
    "ebb is configured in two places: the Helm chart's values, which shape the installation, and " +
      "Knative's ConfigMaps in the release namespace, which shape how Services behave.",
    helmSection(chart),
    '## Knative ConfigMaps',
    'ebb reads these ConfigMaps from its own namespace, with the keys, value forms and defaults of ' +
      "Knative Serving. Set their data with the chart's `config.<name>` values (strings), or edit " +
      'them in the cluster: the webhook rejects a ConfigMap that does not parse, and the components ' +
      'pick up a change without a restart. An absent key has its default; a key not listed here ' +
      '(such as `_example`) is ignored. Durations are Go durations (`30s`, `1h30m`).',
    ...names.map(configMapSection),
  ].join('\n\n');
}

/** docs/configuration.md as `npm run generate` writes it, formatted as prettier leaves it. */
export async function renderConfigurationReference(root: URL): Promise<string> {
  const markdown = configurationMarkdown(await readChartValues(root));
  // prettier is a devDependency, so it is imported only here, where the reference is generated.
  const prettier = await import('prettier');
  const options = await prettier.resolveConfig(new URL(CONFIGURATION_DOC, root));
  return prettier.format(markdown, { ...options, parser: 'markdown' });
}
