import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import {
  forwardedPort,
  helloWorldService,
  imageFlags,
  nextSteps,
  parseImage,
  parseQuickstartArgs,
  PUBLIC_HELLO_IMAGE,
  serviceProgress,
} from './quickstart-plan.ts';

const SAMPLE = readFileSync(new URL('../../config/samples/helloworld.yaml', import.meta.url), 'utf8');

describe('parseQuickstartArgs', () => {
  it('defaults to the local cluster', () => {
    expect(parseQuickstartArgs([])).toEqual({ kind: 'run', options: { currentContext: false } });
  });

  it('takes the current context with an image', () => {
    expect(
      parseQuickstartArgs(['--use-current-context', '--image', 'localhost:5000/team/ebb:0.1.0']),
    ).toEqual({
      kind: 'run',
      options: { currentContext: true, image: { repository: 'localhost:5000/team/ebb', tag: '0.1.0' } },
    });
  });

  it.each([
    [['--use-current-context'], /needs --image REPOSITORY:TAG/],
    [['--image', 'ghcr.io/me/ebb:1'], /only with --use-current-context/],
    [['--use-current-context', '--image', 'localhost:5000/ebb'], /want REPOSITORY:TAG/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--sample-image', 'mirror/hello:1'], /only with --use-current-context/],
    [['extra'], /Unexpected argument 'extra'/],
  ])('rejects %j with a message', (argv, message) => {
    const parsed = parseQuickstartArgs(argv);
    expect(parsed.kind).toBe('error');
    expect(parsed.kind === 'error' ? parsed.message : '').toMatch(message);
  });

  it('takes a sample image for the current context', () => {
    expect(
      parseQuickstartArgs([
        '--use-current-context',
        '--image',
        'r/ebb:1',
        '--sample-image',
        'mirror.local/hello:1',
      ]),
    ).toEqual({
      kind: 'run',
      options: {
        currentContext: true,
        image: { repository: 'r/ebb', tag: '1' },
        sampleImage: 'mirror.local/hello:1',
      },
    });
  });

  it('answers help', () => {
    expect(parseQuickstartArgs(['-h'])).toEqual({ kind: 'help' });
  });
});

describe('parseImage', () => {
  it.each([
    ['ghcr.io/me/ebb:v1', { repository: 'ghcr.io/me/ebb', tag: 'v1' }],
    ['ebb:dev', { repository: 'ebb', tag: 'dev' }],
    ['localhost:5000/ebb:1.2.3', { repository: 'localhost:5000/ebb', tag: '1.2.3' }],
  ])('splits %s', (text, want) => {
    expect(parseImage(text)).toEqual(want);
  });

  it.each(['ebb', 'localhost:5000/ebb', 'ebb:', 'ebb@sha256:abc', 'my ebb:1', ''])('refuses %j', (text) => {
    expect(parseImage(text)).toBeUndefined();
  });

  it('turns into helm flags that pull it', () => {
    expect(imageFlags({ repository: 'r/ebb', tag: 't' })).toEqual([
      '--set',
      'image.repository=r/ebb',
      '--set',
      'image.tag=t',
      '--set',
      'image.pullPolicy=IfNotPresent',
    ]);
  });
});

describe('helloWorldService', () => {
  it('is the sample in default with the shortest stable window', () => {
    const svc = helloWorldService(SAMPLE);
    expect(svc.metadata).toMatchObject({ name: 'hello', namespace: 'default' });
    expect(svc.spec.template.metadata?.annotations).toEqual({ 'autoscaling.knative.dev/window': '6s' });
    expect(svc.spec.template.spec.containers[0]).toEqual({
      image: 'dev.local/helloworld',
      env: [{ name: 'TARGET', value: 'ebb' }],
    });
  });

  it("runs Knative's published image on another cluster", () => {
    expect(helloWorldService(SAMPLE, PUBLIC_HELLO_IMAGE).spec.template.spec.containers[0]?.image).toBe(
      PUBLIC_HELLO_IMAGE,
    );
  });

  it('keeps annotations the template already has', () => {
    const yaml = SAMPLE.replace(
      '  template:\n',
      '  template:\n    metadata:\n      annotations:\n        a: b\n',
    );
    expect(helloWorldService(yaml).spec.template.metadata?.annotations).toEqual({
      a: 'b',
      'autoscaling.knative.dev/window': '6s',
    });
  });

  it('refuses a sample that is not a Service', () => {
    expect(() => helloWorldService('kind: Route\n')).toThrow();
  });
});

function svc(generation: number, status: Record<string, unknown>): unknown {
  return { metadata: { name: 'hello', generation }, status };
}

describe('serviceProgress', () => {
  it('waits for the controller to observe the generation', () => {
    expect(serviceProgress(svc(2, { observedGeneration: 1 }))).toEqual({
      kind: 'pending',
      line: 'waiting for the controller to see the new generation',
    });
    expect(serviceProgress(undefined).kind).toBe('pending');
  });

  it('shows the conditions and the reason while it is not Ready', () => {
    const progress = serviceProgress(
      svc(1, {
        observedGeneration: 1,
        latestCreatedRevisionName: 'hello-00001',
        conditions: [
          { type: 'ConfigurationsReady', status: 'Unknown' },
          { type: 'Ready', status: 'Unknown', reason: 'RevisionMissing', message: 'waiting' },
          { type: 'RoutesReady', status: 'Unknown' },
        ],
      }),
    );
    expect(progress).toEqual({
      kind: 'pending',
      line: 'revision hello-00001; ConfigurationsReady=Unknown RoutesReady=Unknown (RevisionMissing: waiting)',
    });
  });

  it('fails on Ready=False', () => {
    const progress = serviceProgress(
      svc(1, {
        observedGeneration: 1,
        conditions: [{ type: 'Ready', status: 'False', reason: 'RevisionFailed', message: 'ErrImagePull' }],
      }),
    );
    expect(progress).toEqual({
      kind: 'failed',
      line: 'revision none yet; no conditions yet (RevisionFailed: ErrImagePull)',
    });
  });

  it('is ready with the URL, its host and the revision', () => {
    const progress = serviceProgress(
      svc(3, {
        observedGeneration: 3,
        url: 'http://hello.default.example.com',
        latestReadyRevisionName: 'hello-00003',
        conditions: [{ type: 'Ready', status: 'True' }],
      }),
    );
    expect(progress).toEqual({
      kind: 'ready',
      url: 'http://hello.default.example.com',
      host: 'hello.default.example.com',
      revision: 'hello-00003',
    });
  });
});

describe('forwardedPort', () => {
  it("reads kubectl port-forward's local port", () => {
    expect(
      forwardedPort('Forwarding from 127.0.0.1:43117 -> 8080\nForwarding from [::1]:43117 -> 8080\n'),
    ).toBe(43117);
    expect(forwardedPort('error: unable to forward')).toBeUndefined();
  });
});

describe('nextSteps', () => {
  it('on the local cluster, says how to use its kubectl and how to stop it', () => {
    const text = nextSteps({
      host: 'hello.default.example.com',
      gateway: 'http://10.96.0.20',
      local: { kubeconfig: '/k/admin.kubeconfig', kubectlDir: '/bin-dir' },
    });
    expect(text).toContain('export KUBECONFIG=/k/admin.kubeconfig PATH=/bin-dir:$PATH');
    expect(text).toContain("curl -H 'Host: hello.default.example.com' http://10.96.0.20/");
    expect(text).toContain('config/samples/blue-green.yaml');
    expect(text).toContain('npm run cluster:down');
  });

  it("on the user's cluster, leaves their cluster alone and warns about the local images", () => {
    const text = nextSteps({ host: 'hello.default.example.com', gateway: 'http://127.0.0.1:8080' });
    expect(text).not.toContain('cluster:down');
    expect(text).toContain(PUBLIC_HELLO_IMAGE);
    expect(text).toContain('dev.local/ images');
  });
});
