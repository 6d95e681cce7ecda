// What the chart's Grafana dashboard may query: the prom-client metrics ebb's source registers
// (read from the source itself, so a renamed metric fails the chart test), and the series and
// labels a PromQL query names. The PromQL reading covers what dashboards use (selectors, functions,
// aggregations with by/without, vector matching, ranges), not the whole language.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ts from 'typescript';

export type MetricType = 'Counter' | 'Gauge' | 'Histogram' | 'Summary';

export interface RegisteredMetric {
  readonly name: string;
  readonly type: MetricType;
  readonly labels: readonly string[];
  /** Where the constructor call is, for failure messages. */
  readonly file: string;
}

const METRIC_TYPES: ReadonlySet<string> = new Set<MetricType>(['Counter', 'Gauge', 'Histogram', 'Summary']);

function stringsOf(node: ts.Expression | undefined): string[] {
  let expr = node;
  while (expr !== undefined && (ts.isAsExpression(expr) || ts.isParenthesizedExpression(expr))) {
    expr = expr.expression;
  }
  if (expr === undefined || !ts.isArrayLiteralExpression(expr)) return [];
  return expr.elements.filter(ts.isStringLiteralLike).map((e) => e.text);
}

/** The `{ name: ..., ... }` argument of a call, by property. */
function specOf(call: ts.NewExpression | ts.CallExpression): Map<string, ts.Expression> | undefined {
  const arg = call.arguments?.[0];
  if (arg === undefined || !ts.isObjectLiteralExpression(arg)) return undefined;
  const props = new Map<string, ts.Expression>();
  for (const p of arg.properties) {
    if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name)) props.set(p.name.text, p.initializer);
  }
  return props;
}

/** The metric types of the gateway's `scrapedMetric({ type: ... })`, metrics it exports itself. */
const SCRAPED_TYPES: Readonly<Record<string, MetricType>> = { counter: 'Counter', histogram: 'Histogram' };

/**
 * `new Counter({ name: '...', labelNames: [...] })` and its kin, and the gateway's
 * `scrapedMetric({ name, type, labelNames, ... })`, in one file.
 */
function metricsIn(file: string, text: string): RegisteredMetric[] {
  const found: RegisteredMetric[] = [];
  const add = (props: Map<string, ts.Expression> | undefined, type: MetricType | undefined): void => {
    const name = props?.get('name');
    if (props === undefined || type === undefined || name === undefined || !ts.isStringLiteralLike(name))
      return;
    found.push({ name: name.text, type, labels: stringsOf(props.get('labelNames')), file });
  };
  const visit = (node: ts.Node): void => {
    if (
      ts.isNewExpression(node) &&
      ts.isIdentifier(node.expression) &&
      METRIC_TYPES.has(node.expression.text)
    ) {
      add(specOf(node), node.expression.text as MetricType);
    } else if (
      ts.isCallExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'scrapedMetric'
    ) {
      const props = specOf(node);
      const type = props?.get('type');
      add(props, type !== undefined && ts.isStringLiteralLike(type) ? SCRAPED_TYPES[type.text] : undefined);
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS));
  return found;
}

/** Every metric the non-test TypeScript under `dir` registers, by name. */
export async function registeredMetrics(dir: string): Promise<Map<string, RegisteredMetric>> {
  const files = (await readdir(dir, { recursive: true }))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .sort();
  const metrics = new Map<string, RegisteredMetric>();
  for (const file of files) {
    for (const m of metricsIn(join(dir, file), await readFile(join(dir, file), 'utf8'))) {
      metrics.set(m.name, m);
    }
  }
  return metrics;
}

/** The series names Prometheus stores for a metric: a histogram's buckets, sum and count. */
export function seriesNames(m: RegisteredMetric): string[] {
  switch (m.type) {
    case 'Histogram':
      return [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`];
    case 'Summary':
      return [m.name, `${m.name}_sum`, `${m.name}_count`];
    default:
      return [m.name];
  }
}

export interface QueryParts {
  /** Each series selector: its metric name and the labels its matchers name. */
  readonly selectors: { readonly metric: string; readonly matchedLabels: string[] }[];
  /** Labels an aggregation keeps or drops (`by (...)`, `without (...)`). */
  readonly groupingLabels: string[];
}

const GROUPING = /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g;
const OPERATOR_WORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2']);

/** The series and labels a PromQL expression names; Grafana's `label_values(selector, label)` too. */
export function queryParts(query: string): QueryParts {
  const labelValues = /^\s*label_values\((.*),\s*([A-Za-z_]\w*)\s*\)\s*$/.exec(query);
  if (labelValues !== null) {
    const inner = queryParts(labelValues[1] ?? '');
    return { selectors: inner.selectors, groupingLabels: [...inner.groupingLabels, labelValues[2] ?? ''] };
  }
  // Quoted values may hold anything, ranges hold durations and $variables: neither names a series.
  const bare = query.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\[[^\]]*\]/g, '');
  const groupingLabels: string[] = [];
  for (const [, keyword, labels] of bare.matchAll(GROUPING)) {
    if (keyword === 'by' || keyword === 'without') {
      groupingLabels.push(
        ...(labels ?? '')
          .split(',')
          .map((l) => l.trim())
          .filter((l) => l !== ''),
      );
    }
  }
  const selectors: QueryParts['selectors'] = [];
  for (const [, name, matchers, call] of bare
    .replace(GROUPING, ' ')
    .matchAll(/(?<![\w.:])([A-Za-z_:][\w:]*)\s*(\{[^}]*\})?(\s*\()?/g)) {
    // A name followed by "(" is a function or an aggregation, not a series; one glued to a digit
    // is a unit or exponent (5m, 1e3).
    if (name === undefined || call !== undefined || OPERATOR_WORDS.has(name)) continue;
    const matchedLabels = [...(matchers ?? '').matchAll(/([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)/g)].map(
      ([, label]) => label ?? '',
    );
    selectors.push({ metric: name, matchedLabels });
  }
  return { selectors, groupingLabels };
}
