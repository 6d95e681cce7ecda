// ebb's admission pipeline (checkObject: the one `ebb validate` and the webhook run) against
// Knative Serving's own code (knative-check/main.go: SetDefaults then Validate, from the pinned
// knative.dev/serving module) over generated manifests (src/apis/testing/manifests.ts), under three
// cluster configurations. Both must accept and reject the same manifests, name the same field
// paths with the same messages, and warn alike.
//
// Not compared, because plain SetDefaults and Validate do not do them: the webhook's validation
// callbacks (a dry run of the pod spec against the API server), user-info annotations, and
// updates (every case is a create). Details (the second line of an error) are ebb's own advice in
// places, so only messages and paths are compared.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { checkObject, type CheckResult } from '../../src/apis/check.ts';
import { clusterConfigFromData, type ClusterConfig } from '../../src/apis/config/cluster-config.ts';
import type { FieldError } from '../../src/apis/field-error.ts';
import { manifestCases, type ManifestCase } from '../../src/apis/testing/manifests.ts';
import {
  buildKnativeCheck,
  runKnativeCheck,
  type ConfigMaps,
  type KnativeFieldError,
  type KnativeVerdict,
} from './knative-check.ts';

const SEED = 0x16_0004;
const CASES = 1500;
/** A cold build fetches and compiles knative.dev/serving's API packages. */
const BUILD_TIMEOUT_MS = 15 * 60_000;

const CONFIGS: [string, ConfigMaps][] = [
  ["Knative's defaults", {}],
  [
    'secure pod defaults, one container, no emptyDir, a scale limit',
    {
      'config-defaults': {
        'revision-timeout-seconds': '120',
        'max-revision-timeout-seconds': '900',
        'container-concurrency': '10',
      },
      'config-features': {
        'secure-pod-defaults': 'Enabled',
        'multi-container': 'Disabled',
        'multi-container-probing': 'Enabled',
        'kubernetes.podspec-volumes-emptydir': 'Disabled',
        'kubernetes.podspec-fieldref': 'Enabled',
      },
      'config-autoscaler': { 'max-scale-limit': '20', 'max-scale': '10' },
    },
  ],
  [
    'most PodSpec features on, root allowed, the HPA by default',
    {
      'config-defaults': {
        'max-revision-timeout-seconds': '3600',
        'container-concurrency-max-limit': '100',
      },
      'config-features': {
        'secure-pod-defaults': 'AllowRootBounded',
        'multi-container-probing': 'Enabled',
        'kubernetes.podspec-init-containers': 'Enabled',
        'kubernetes.podspec-securitycontext': 'Enabled',
        'kubernetes.podspec-volumes-mount-propagation': 'Enabled',
        'kubernetes.podspec-volumes-image': 'Enabled',
        'kubernetes.podspec-volumes-ephemeral': 'Allowed',
        'kubernetes.podspec-volumes-hostpath': 'Allowed',
        'kubernetes.podspec-volumes-csi': 'Enabled',
        'kubernetes.podspec-persistent-volume-claim': 'Enabled',
        'kubernetes.podspec-persistent-volume-write': 'Enabled',
        'kubernetes.containerspec-addcapabilities': 'Enabled',
        'kubernetes.podspec-tolerations': 'Allowed',
        'kubernetes.podspec-nodeselector': 'Enabled',
        'kubernetes.podspec-runtimeclassname': 'Enabled',
        'kubernetes.podspec-shareprocessnamespace': 'Enabled',
        'kubernetes.podspec-dnspolicy': 'Enabled',
        'kubernetes.podspec-affinity': 'Enabled',
      },
      'config-autoscaler': {
        'pod-autoscaler-class': 'hpa.autoscaling.knative.dev',
        'allow-zero-initial-scale': 'true',
      },
    },
  ],
];

function configOf(maps: ConfigMaps): ClusterConfig {
  const loaded = clusterConfigFromData(maps);
  expect(loaded.errors).toEqual([]);
  return loaded.config;
}

type Verdicts = Map<string, KnativeVerdict>;

/** `message @ path, path`, sorted: an error as both sides can be compared. */
function described(errors: readonly (FieldError | KnativeFieldError)[]): string[] {
  return errors.map((e) => `${e.message} @ ${[...e.paths].sort().join(', ')}`).sort();
}

function pathsOf(errors: readonly { paths: readonly string[] }[]): string[] {
  return [...new Set(errors.flatMap((e) => e.paths))].sort();
}

interface Comparison {
  c: ManifestCase;
  ebb: CheckResult;
  knative: KnativeVerdict;
}

/**
 * When Go's decoder rejects a manifest it stops at the first problem and names no list indices,
 * so a decode failure agrees when ebb rejects the manifest before defaulting too.
 */
function decodeAgrees({ ebb, knative }: Comparison): boolean | undefined {
  if (knative.stage !== 'decode') return undefined;
  return ebb.errors.length > 0 && ebb.defaulted === undefined;
}

const ACCEPTANCE_AND_PATHS = (x: Comparison): boolean =>
  decodeAgrees(x) ??
  ((x.ebb.errors.length === 0) === x.knative.accepted &&
    JSON.stringify(pathsOf(x.ebb.errors)) === JSON.stringify(pathsOf(x.knative.errors)));

const MESSAGES = (x: Comparison): boolean =>
  decodeAgrees(x) ?? JSON.stringify(described(x.ebb.errors)) === JSON.stringify(described(x.knative.errors));

const WARNINGS = (x: Comparison): boolean =>
  decodeAgrees(x) ??
  JSON.stringify(described(x.ebb.warnings)) === JSON.stringify(described(x.knative.warnings));

/** The cases that disagree, each with what both sides said (errors, or warnings). */
function disagreements(
  compared: readonly Comparison[],
  agree: (x: Comparison) => boolean,
  shown: 'errors' | 'warnings' = 'errors',
): string[] {
  return compared
    .filter((x) => !agree(x))
    .map(
      (x) =>
        `#${x.c.index} ${x.c.description}\n  ebb:     ${JSON.stringify(described(x.ebb[shown]))}` +
        `\n  Knative: ${JSON.stringify(described(x.knative[shown]))}`,
    );
}

function report(config: string, what: string, compared: readonly Comparison[], differ: number): void {
  const agreed = compared.length - differ;
  const percent = ((100 * agreed) / compared.length).toFixed(2);
  process.stderr.write(
    `[validation differential] ${config}: ${what}: ${agreed}/${compared.length} manifests agree (${percent} %)\n`,
  );
}

describe('validation agrees with Knative Serving v0.50.0', () => {
  const cases = manifestCases(SEED, CASES);
  const verdicts = new Map<string, Verdicts>();

  beforeAll(async () => {
    const binary = await buildKnativeCheck();
    for (const [name, maps] of CONFIGS) {
      const inputs = cases.map((c) => ({ id: String(c.index), object: c.manifest, config: maps }));
      verdicts.set(name, await runKnativeCheck(binary, inputs));
    }
  }, BUILD_TIMEOUT_MS);

  describe.each(CONFIGS)('with %s', (name, maps) => {
    const config = configOf(maps);
    let compared: Comparison[] = [];

    beforeAll(() => {
      const byId = verdicts.get(name);
      compared = cases.map((c) => {
        const knative = byId?.get(String(c.index));
        if (knative === undefined) throw new Error(`knative-check gave no verdict for case #${c.index}`);
        return { c, ebb: checkObject(c.manifest, config), knative };
      });
    });

    it('is a configuration Knative loads, and the cases are not all of one kind', () => {
      expect(compared.filter((x) => x.knative.stage === 'config').map((x) => x.knative.message)).toEqual([]);
      const accepted = compared.filter((x) => x.knative.accepted).length;
      expect(accepted).toBeGreaterThan(CASES * 0.15);
      expect(accepted).toBeLessThan(CASES * 0.85);
    });

    it('accepts and rejects the same manifests, naming the same field paths', () => {
      const differ = disagreements(compared, ACCEPTANCE_AND_PATHS);
      report(name, 'verdict and field paths', compared, differ.length);
      expect(differ).toEqual([]);
    });

    it('gives the same message for each path', () => {
      const differ = disagreements(compared, MESSAGES);
      report(name, 'messages', compared, differ.length);
      expect(differ).toEqual([]);
    });

    it('warns about the same fields', () => {
      const differ = disagreements(compared, WARNINGS, 'warnings');
      report(name, 'warnings', compared, differ.length);
      expect(differ).toEqual([]);
    });
  });
});
