// Knative's dry-run validation of a revision template (serving's webhook/podspec_dryrun.go): the
// Pod a server-side dry run of a Service or Configuration checks, built by the Revision's own
// Deployment builder, and the one API call that asks the API server whether it would create it.
// Which requests get a dry run, and what a refusal means, is admission.ts's decision.
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import type { ClusterConfig } from '../apis/config/cluster-config.ts';
import { API_VERSION } from '../apis/serving/register.ts';
import { defaultRevision } from '../apis/serving/v1/defaults.ts';
import type { Revision, RevisionSpec } from '../apis/serving/v1/revision-types.ts';
import { apiMessage } from '../controller/kube.ts';
import { withDeadline } from '../controller/kubeconfig.ts';
import { makeDeployment } from '../reconciler/revision/resources/deployment.ts';

/** Knative's name prefix for the sample Revision and its Pod; the API server completes it. */
export const DRY_RUN_GENERATE_NAME = 'dry-run-validation';

/**
 * Dry-run creates `pod` in `namespace`. Resolves with the API server's refusal (its Status
 * message, or why the call failed), or undefined when it would have created the Pod. Never rejects.
 */
export type DryRunPod = (namespace: string, pod: V1Pod) => Promise<string | undefined>;

/**
 * The Pod a revision template would run as: a sample Revision that has only a generateName and
 * the namespace (as in Knative, the template's own metadata is left out), defaulted as the Revision
 * reconciler defaults it, with the pod spec of the Deployment ebb would make for it.
 */
export function makeDryRunPod(spec: RevisionSpec, namespace: string, config: ClusterConfig): V1Pod {
  const metadata = { generateName: DRY_RUN_GENERATE_NAME, namespace };
  const sample: Revision = { apiVersion: API_VERSION, kind: 'Revision', metadata, spec };
  const deployment = makeDeployment(defaultRevision(sample, { config }), config);
  return { apiVersion: 'v1', kind: 'Pod', metadata: { ...metadata }, spec: deployment.spec?.template.spec };
}

/**
 * How long the dry run may take: under the chart's default webhook timeout (10 s), so that a
 * hung call is denied with its own message rather than the API server's timeout.
 */
export const DRY_RUN_TIMEOUT_MS = 8_000;

/** The real DryRunPod: createNamespacedPod with dryRun=All, which stores nothing. */
export function apiServerDryRun(
  core: Pick<CoreV1Api, 'createNamespacedPod'>,
  timeoutMs = DRY_RUN_TIMEOUT_MS,
): DryRunPod {
  return async (namespace, pod) => {
    try {
      await core.createNamespacedPod({ namespace, body: pod, dryRun: 'All' }, withDeadline(timeoutMs));
      return undefined;
    } catch (error) {
      if ((error as { name?: unknown } | null)?.name === 'TimeoutError')
        return `no answer from the API server within ${timeoutMs / 1000}s`;
      // fetch says only "fetch failed"; its cause says why (e.g. connect ECONNREFUSED).
      const cause = (error as { cause?: unknown } | null)?.cause;
      const message = apiMessage(error);
      return cause instanceof Error ? `${message}: ${cause.message}` : message;
    }
  };
}
