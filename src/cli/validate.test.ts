// `ebb validate` end to end, in process: real files, real exit codes and output lines.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from './main.ts';

const samples = new URL('../../config/samples/', import.meta.url).pathname;

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
  });
  return { code, stdout, stderr };
}

let dir: string;
const file = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ebb-validate-'));
  await writeFile(
    file('split.yaml'),
    `apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: split
spec:
  template:
    spec:
      containers:
        - image: dev.local/helloworld
  traffic:
    - latestRevision: true
      percent: 90
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: unrelated
`,
  );
  await writeFile(file('broken.yaml'), 'apiVersion: v1\nkind: Service\nmetadata:\n  name: a: b\nspec: {}\n');
  await writeFile(
    file('config.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-features\ndata:\n  multi-container: Disabled\n',
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ebb validate', () => {
  it('accepts every sample in config/samples', async () => {
    const result = await run('validate', '-f', samples);
    // Knative's samples leave security settings at Kubernetes' defaults, and Knative warns about
    // that on every object with a pod template; warnings are not problems.
    const lines = result.stdout.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(9);
    for (const line of lines) {
      expect(line).toMatch(
        /: warning: spec\.template\.spec\.containers\[0\]\.securityContext\.allowPrivilegeEscalation, .*: Kubernetes default value is insecure, Knative may default this to secure in a future release$/,
      );
    }
    expect(result.stderr).toMatch(/^ebb validate: 11 object\(s\) checked: all valid$/m);
    expect(result.code).toBe(0);
  });

  it('prints one line per problem with file, kind, name, path and message', async () => {
    const result = await run('validate', '-f', file('split.yaml'));
    const lines = result.stdout.trim().split('\n');
    expect(lines.filter((l) => l.includes(': warning: '))).toHaveLength(1);
    expect(lines.filter((l) => !l.includes(': warning: '))).toEqual([
      `${file('split.yaml')}: Service/split: spec.traffic: Traffic targets sum to 90, want 100 (the percent of all traffic targets must add up to exactly 100)`,
    ]);
    expect(result.stderr).toContain('1 other object(s) skipped');
    expect(result.code).toBe(1);
  });

  it('locates broken YAML by file and line, without a stack trace', async () => {
    const result = await run('validate', '-f', file('broken.yaml'));
    expect(result.stdout).toMatch(new RegExp(`^${file('broken.yaml')}:4:\\d+: `));
    expect(result.stdout + result.stderr).not.toMatch(/\n\s+at /);
    expect(result.code).toBe(1);
  });

  it('gives the same problems as JSON', async () => {
    const result = await run('validate', '-f', file('split.yaml'), '-o', 'json');
    const report = JSON.parse(result.stdout) as {
      valid: boolean;
      checked: number;
      problems: { kind: string; name: string; path: string; message: string }[];
      warnings: { kind: string; name: string; path: string; message: string }[];
    };
    expect(report.valid).toBe(false);
    expect(report.checked).toBe(1);
    expect(report.problems).toEqual([
      expect.objectContaining({
        kind: 'Service',
        name: 'split',
        path: 'spec.traffic',
        message: 'Traffic targets sum to 90, want 100',
      }),
    ]);
    expect(report.warnings).toEqual([
      expect.objectContaining({
        kind: 'Service',
        name: 'split',
        message:
          'Kubernetes default value is insecure, Knative may default this to secure in a future release',
      }),
    ]);
    expect(result.code).toBe(1);
  });

  it('validates against the cluster settings given with --config', async () => {
    const multi = join(samples, 'multi-container.yaml');
    expect((await run('validate', '-f', multi)).code).toBe(0);
    const result = await run('validate', '-f', multi, '--config', file('config.yaml'));
    expect(result.stdout).toContain('Service/multi: multi-container is off, but found 2 containers');
    expect(result.code).toBe(1);
  });

  it('checks Knative ConfigMaps given as manifests', async () => {
    await writeFile(
      file('autoscaler.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-autoscaler\ndata:\n  stable-window: 1s\n',
    );
    const result = await run('validate', '-f', file('autoscaler.yaml'));
    expect(result.stdout.trim()).toBe(
      `${file('autoscaler.yaml')}: ConfigMap/config-autoscaler: data[stable-window]: stable-window = 1s, must be in [6s; 1h0m0s] range`,
    );
    expect(result.code).toBe(1);
  });

  it('reads standard input through the installed bin script', () => {
    const bin = new URL('../../bin/ebb.js', import.meta.url).pathname;
    const manifest =
      'apiVersion: serving.knative.dev/v1\nkind: Route\nmetadata:\n  name: r\nspec:\n  traffic:\n    - revisionName: r-1\n      percent: 50\n';
    const child = spawnSync(process.execPath, [bin, 'validate', '-f', '-'], {
      input: manifest,
      encoding: 'utf8',
    });
    expect(child.stdout).toBe(
      '<stdin>: Route/r: spec.traffic: Traffic targets sum to 50, want 100 (the percent of all traffic targets must add up to exactly 100)\n',
    );
    expect(child.status).toBe(1);
  });

  it.each([
    [['validate'], 'give at least one -f'],
    [['validate', '-f', '/nonexistent/x.yaml'], '/nonexistent/x.yaml: no such file or directory'],
    [['validate', '-f', 'x', '-o', 'xml'], '--output must be "text" or "json"'],
    [['validate', '--bogus'], "Unknown option '--bogus'"],
    [['frobnicate'], 'unknown command "frobnicate"'],
  ])('answers a usage error %j with exit 2 and a message', async (argv, message) => {
    const result = await run(...argv);
    expect(result.stderr).toContain(message);
    expect(result.code).toBe(2);
  });
});
