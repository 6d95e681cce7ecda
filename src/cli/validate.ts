// `ebb validate`: the admission webhook's defaulting and validation, offline, for CI pipelines.
import { parseArgs } from 'node:util';
import { checkObject, type CheckResult } from '../apis/check.ts';
import { loadClusterConfig } from '../apis/config/cluster-config.ts';
import { formatFieldError } from '../apis/field-error.ts';
import { expandPaths, readManifests } from './manifests.ts';

const HELP = `Usage: ebb validate -f FILE|DIR|- [-f ...] [options]

Runs Knative's defaulting and validation on serving.knative.dev/v1 Services, Configurations,
Revisions and Routes, and on Knative's ConfigMaps (config-autoscaler, config-defaults, ...),
without a cluster. Prints one line per problem and exits 1 if anything is invalid. Knative's
warnings (e.g. security settings left at Kubernetes' insecure defaults) are printed too, as
"warning:" lines, and do not change the exit code.

Options:
  -f, --filename PATH   A manifest file, a directory of them, or - for standard input. Repeatable.
  -R, --recursive       Descend into subdirectories of directories given with -f.
      --config PATH     ConfigMaps (file or directory) that describe the target cluster's settings,
                        e.g. config-features or config-defaults. Knative's defaults otherwise.
  -o, --output FORMAT   text (default) or json.
  -h, --help            Print this help.
`;

export interface Problem {
  file: string;
  line?: number;
  column?: number;
  kind?: string;
  name?: string;
  path: string;
  message: string;
  details?: string;
}

/** Where a command writes; tests pass their own. */
export interface Output {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

export async function runValidate(argv: readonly string[], out: Output = process): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        filename: { type: 'string', short: 'f', multiple: true },
        recursive: { type: 'boolean', short: 'R', default: false },
        config: { type: 'string', multiple: true },
        output: { type: 'string', short: 'o', default: 'text' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
    });
  } catch (error) {
    out.stderr.write(`ebb validate: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values } = parsed;
  if (values.help) {
    out.stdout.write(HELP);
    return 0;
  }
  if (values.output !== 'text' && values.output !== 'json') {
    out.stderr.write(
      `ebb validate: --output must be "text" or "json", not ${JSON.stringify(values.output)}\n`,
    );
    return 2;
  }
  const paths = values.filename ?? [];
  if (paths.length === 0) {
    out.stderr.write(`ebb validate: give at least one -f FILE|DIR|-\n\n${HELP}`);
    return 2;
  }

  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const configFiles = await expandPaths(values.config ?? [], values.recursive);
  const configSet = await readManifests(configFiles);
  const cluster = loadClusterConfig(configSet.documents.map((d) => d.value));
  for (const s of configSet.syntax) problems.push({ ...s, path: '', message: s.message });
  for (const e of cluster.errors) {
    problems.push({
      file: values.config?.join(',') ?? '',
      kind: 'ConfigMap',
      name: e.name,
      path: '',
      message: e.message,
    });
  }

  const files = await expandPaths(paths, values.recursive);
  const manifests = await readManifests(files);
  for (const s of manifests.syntax) problems.push({ ...s, path: '', message: s.message });
  let checked = 0;
  let skipped = 0;
  for (const doc of manifests.documents) {
    const result: CheckResult = checkObject(doc.value, cluster.config);
    if (result.skipped) {
      skipped++;
      continue;
    }
    checked++;
    for (const [list, found] of [
      [problems, result.errors],
      [warnings, result.warnings],
    ] as const) {
      for (const error of found) {
        list.push({
          file: doc.file,
          line: doc.line,
          kind: result.kind,
          name: result.name,
          path: error.paths.join(', '),
          message: error.message,
          ...(error.details === undefined ? {} : { details: error.details }),
        });
      }
    }
  }

  if (values.output === 'json') {
    out.stdout.write(
      `${JSON.stringify({ valid: problems.length === 0, checked, skipped, problems, warnings }, null, 2)}\n`,
    );
  } else {
    for (const p of problems) out.stdout.write(`${formatProblem(p)}\n`);
    for (const w of warnings) out.stdout.write(`${formatProblem(w, 'warning')}\n`);
    const verdict = problems.length === 0 ? 'all valid' : `${problems.length} problem(s)`;
    const skip = skipped > 0 ? `, ${skipped} other object(s) skipped` : '';
    out.stderr.write(`ebb validate: ${checked} object(s) checked${skip}: ${verdict}\n`);
  }
  return problems.length === 0 ? 0 : 1;
}

export function formatProblem(p: Problem, level: 'error' | 'warning' = 'error'): string {
  if (p.kind === undefined) return `${p.file}:${p.line ?? 0}:${p.column ?? 0}: ${p.message}`;
  const rest = formatFieldError({
    message: p.message,
    paths: p.path === '' ? [] : [p.path],
    ...(p.details === undefined ? {} : { details: p.details }),
  });
  return `${p.file}: ${p.kind}/${p.name ?? '<unnamed>'}: ${level === 'warning' ? 'warning: ' : ''}${rest}`;
}
