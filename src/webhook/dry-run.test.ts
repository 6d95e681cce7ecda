import { describe, expect, it } from '@jest/globals';
import { ApiException, type CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { clusterConfigFromData, defaultClusterConfig } from '../apis/config/cluster-config.ts';
import { apiServerDryRun, makeDryRunPod } from './dry-run.ts';

describe('makeDryRunPod', () => {
  const spec = { containers: [{ image: 'dev.local/helloworld', env: [{ name: 'GREETING', value: 'hi' }] }] };

  it("is Knative's sample: only a generateName and the namespace", () => {
    const pod = makeDryRunPod(spec, 'team-a', defaultClusterConfig());
    expect(pod).toMatchObject({ apiVersion: 'v1', kind: 'Pod' });
    expect(pod.metadata).toEqual({ generateName: 'dry-run-validation', namespace: 'team-a' });
  });

  it('runs the pod spec of the Deployment, defaults applied', () => {
    const podSpec = makeDryRunPod(spec, 'team-a', defaultClusterConfig()).spec;
    const [serving] = podSpec?.containers ?? [];
    expect(serving).toMatchObject({
      name: 'user-container',
      image: 'dev.local/helloworld',
      ports: [{ name: 'user-port', containerPort: 8080, protocol: 'TCP' }],
      terminationMessagePolicy: 'FallbackToLogsOnError',
    });
    expect(serving?.env?.map((e) => e.name)).toEqual([
      'PORT',
      'K_REVISION',
      'K_CONFIGURATION',
      'K_SERVICE',
      'GREETING',
    ]);
    expect(podSpec?.terminationGracePeriodSeconds).toBe(300);
    // Knative's own fields are no part of a PodSpec.
    expect(podSpec).not.toHaveProperty('timeoutSeconds');
    expect(podSpec).not.toHaveProperty('containerConcurrency');
  });

  it('uses the live cluster config', () => {
    const config = clusterConfigFromData({ 'config-defaults': { 'revision-timeout-seconds': '120' } }).config;
    expect(makeDryRunPod(spec, 'team-a', config).spec?.terminationGracePeriodSeconds).toBe(120);
  });
});

describe('apiServerDryRun', () => {
  const pod: V1Pod = { metadata: { generateName: 'dry-run-validation' }, spec: { containers: [] } };

  /** A CoreV1Api that records its createNamespacedPod calls and answers with `answer`. */
  function core(answer: () => Promise<V1Pod>): Pick<CoreV1Api, 'createNamespacedPod'> & { calls: unknown[] } {
    const calls: unknown[] = [];
    return {
      calls,
      createNamespacedPod: (param: unknown) => {
        calls.push(param);
        return answer();
      },
    };
  }

  it('creates the pod with dryRun=All and resolves with nothing when the API server accepts it', async () => {
    const api = core(() => Promise.resolve(pod));
    expect(await apiServerDryRun(api)('team-a', pod)).toBeUndefined();
    expect(api.calls).toEqual([{ namespace: 'team-a', body: pod, dryRun: 'All' }]);
  });

  it("resolves with the API server's message when it refuses", async () => {
    const status = {
      kind: 'Status',
      status: 'Failure',
      message: 'Pod "dry-run-validationx7k2p" is invalid: spec.containers[0].name: Invalid value',
      reason: 'Invalid',
      code: 422,
    };
    const api = core(() =>
      Promise.reject(new ApiException(422, 'Unprocessable', JSON.stringify(status), {})),
    );
    expect(await apiServerDryRun(api)('team-a', pod)).toBe(status.message);
  });

  it('says why the call failed when no answer came', async () => {
    const refused = new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 10.96.0.1:443') });
    expect(await apiServerDryRun(core(() => Promise.reject(refused)))('team-a', pod)).toBe(
      'fetch failed: connect ECONNREFUSED 10.96.0.1:443',
    );
    const timedOut = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(
      await apiServerDryRun(
        core(() => Promise.reject(timedOut)),
        2_500,
      )('team-a', pod),
    ).toBe('no answer from the API server within 2.5s');
  });
});
