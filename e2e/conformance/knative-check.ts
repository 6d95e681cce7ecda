// Knative Serving's own defaulting and validation as a command (knative-check/main.go, built
// against the pinned knative.dev/serving module), so that tests can put a manifest to Knative's
// code and to ebb's and compare the answers. The binary is cached under a hash of its Go
// sources: a warm cache builds nothing, and an edit to the sources builds afresh.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { pathExists } from '../cluster/paths.ts';
import { go } from '../cluster/build.ts';
import { KNATIVE_DIR } from './knative.ts';

const SOURCE_DIR = fileURLToPath(new URL('./knative-check/', import.meta.url));
const SOURCES = ['main.go', 'go.mod', 'go.sum'];

/** Builds the command if its cache has no binary for the current sources; returns its path. */
export async function buildKnativeCheck(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of SOURCES) hash.update(`${file}\0`).update(await readFile(join(SOURCE_DIR, file)));
  const dir = join(KNATIVE_DIR, 'knative-check', hash.digest('hex').slice(0, 16));
  const binary = join(dir, 'knative-check');
  if (await pathExists(binary)) return binary;
  // A copy to build in: with -mod=mod, go may write go.mod and go.sum, and those in the
  // repository change only by hand.
  const src = join(dir, 'src');
  await rm(src, { recursive: true, force: true });
  await mkdir(src, { recursive: true });
  for (const file of SOURCES) await copyFile(join(SOURCE_DIR, file), join(src, file));
  await go(src, ['build', '-trimpath', '-o', `${binary}.tmp`, '.']);
  await rename(`${binary}.tmp`, binary);
  return binary;
}

/** ConfigMap data by ConfigMap name (config-defaults, config-features, config-autoscaler). */
export type ConfigMaps = Record<string, Record<string, string>>;

export interface KnativeCheckInput {
  id: string;
  object: unknown;
  config?: ConfigMaps;
}

const KnativeFieldError = z.object({
  message: z.string(),
  paths: z.array(z.string()),
  details: z.string().optional(),
});
export type KnativeFieldError = z.infer<typeof KnativeFieldError>;

const KnativeVerdict = z.object({
  id: z.string(),
  kind: z.string().optional(),
  accepted: z.boolean(),
  /** The paths of every error, as apis.FieldError reports them. */
  paths: z.array(z.string()),
  /** The error text as Knative's webhook returns it. */
  message: z.string().optional(),
  errors: z.array(KnativeFieldError),
  warnings: z.array(KnativeFieldError),
  /** Where a rejection happened: config, decode, validate (or input, for a bad line). */
  stage: z.enum(['config', 'decode', 'validate', 'input']).optional(),
  /** The object after Knative's SetDefaults, as its Go types encode it. */
  defaulted: z.unknown().optional(),
});
export type KnativeVerdict = z.infer<typeof KnativeVerdict>;

/** Runs every input through the command in one process; the verdicts come back by id. */
export async function runKnativeCheck(
  binary: string,
  inputs: readonly KnativeCheckInput[],
): Promise<Map<string, KnativeVerdict>> {
  const child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  child.stdin.end(inputs.map((input) => `${JSON.stringify(input)}\n`).join(''));
  const code = await exited;
  if (code !== 0)
    throw new Error(`knative-check exited with ${code}: ${Buffer.concat(stderr).toString('utf8')}`);
  const verdicts = new Map<string, KnativeVerdict>();
  for (const line of Buffer.concat(stdout).toString('utf8').split('\n')) {
    if (line === '') continue;
    const verdict = KnativeVerdict.parse(JSON.parse(line));
    verdicts.set(verdict.id, verdict);
  }
  return verdicts;
}
