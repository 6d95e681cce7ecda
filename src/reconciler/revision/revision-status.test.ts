// A Revision's status.containerStatuses: the image digests, from the template or from what the
// node reports having run.
import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import type { Condition } from '../../apis/meta/v1.ts';
import type { Revision } from '../../apis/serving/v1/revision-types.ts';
import { revisionEvents, revisionStatus } from './revision-status.ts';

const HEX = 'ab'.repeat(32);
const OTHER = 'cd'.repeat(32);
const now = new Date('2026-12-07T00:00:00Z');

function revision(image: string, previous?: string): Revision {
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Revision',
    metadata: { name: 'hello-00001', namespace: 'default' },
    spec: { containers: [{ name: 'user-container', image }] },
    ...(previous === undefined
      ? {}
      : { status: { containerStatuses: [{ name: 'user-container', imageDigest: previous }] } }),
  };
}

function pod(image: string, imageID: string): V1Pod {
  return {
    metadata: { name: 'p' },
    status: { containerStatuses: [{ name: 'user-container', image, imageID, ready: true, restartCount: 0 }] },
  };
}

const digestOf = (rev: Revision, pods: V1Pod[]) =>
  revisionStatus(rev, { pods }, now).containerStatuses?.[0]?.imageDigest;

describe('Revision imageDigest', () => {
  it.each<[string, Revision, V1Pod[], string | undefined]>([
    [
      'an image given by digest is its own',
      revision(`ghcr.io/a/b@sha256:${HEX}`),
      [],
      `ghcr.io/a/b@sha256:${HEX}`,
    ],
    ['a tag with no pod yet has none', revision('ghcr.io/a/b:1'), [], undefined],
    [
      'a repository digest the node reports',
      revision('ghcr.io/a/b:1'),
      [pod('ghcr.io/a/b:1', `ghcr.io/a/b@sha256:${HEX}`)],
      `ghcr.io/a/b@sha256:${HEX}`,
    ],
    [
      "a local image's id, as containerd reports one imported without a registry",
      revision('localhost:5000/app:v2'),
      [pod('localhost:5000/app:v2', `sha256:${HEX}`)],
      `localhost:5000/app@sha256:${HEX}`,
    ],
    [
      'a pod running another image says nothing',
      revision('ghcr.io/a/b:2'),
      [pod('ghcr.io/a/b:1', `ghcr.io/a/b@sha256:${HEX}`)],
      undefined,
    ],
    [
      'an imageID that is no digest says nothing',
      revision('ghcr.io/a/b:1'),
      [pod('ghcr.io/a/b:1', 'ebb://ghcr.io/a/b:1')],
      undefined,
    ],
    [
      'once recorded, a digest is kept even when a later pod reports another',
      revision('ghcr.io/a/b:1', `ghcr.io/a/b@sha256:${HEX}`),
      [pod('ghcr.io/a/b:1', `ghcr.io/a/b@sha256:${OTHER}`)],
      `ghcr.io/a/b@sha256:${HEX}`,
    ],
  ])('%s', (_name, rev, pods, want) => {
    expect(digestOf(rev, pods)).toBe(want);
  });
});

describe('Revision status when a child cannot be created', () => {
  it("is Ready=False with the API server's words, naming the child", () => {
    const status = revisionStatus(
      revision('ghcr.io/a/b:1'),
      {
        pods: [],
        creationFailure: {
          kind: 'Deployment',
          name: 'hello-00001-deployment',
          message:
            'Deployment.apps "hello-00001-deployment" is invalid: spec.template.spec.containers[0].readinessProbe.httpGet.scheme: Unsupported value: "ftp"',
        },
      },
      now,
    );
    const ready = status.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({
      status: 'False',
      reason: 'CreationFailed',
      message: expect.stringContaining(
        'Failed to create Deployment "hello-00001-deployment": Deployment.apps',
      ),
    });
  });
});

describe('revisionEvents', () => {
  const ready = (status: Condition['status'], reason?: string) => ({
    conditions: [
      { type: 'Ready', status, ...(reason === undefined ? {} : { reason, message: `${reason}!` }) },
    ],
  });
  it.each<[string, ReturnType<typeof ready> | undefined, ReturnType<typeof ready>, string[]]>([
    ['becoming ready', ready('Unknown'), ready('True'), ['Normal RevisionReady']],
    ['ready on the first status', undefined, ready('True'), ['Normal RevisionReady']],
    ['staying ready', ready('True'), ready('True'), []],
    ['failing', ready('Unknown'), ready('False', 'ExitCode1'), ['Warning ExitCode1 ExitCode1!']],
    [
      'failing for another reason',
      ready('False', 'ExitCode1'),
      ready('False', 'NotOwned'),
      ['Warning NotOwned NotOwned!'],
    ],
    ['failing for the same reason again', ready('False', 'ExitCode1'), ready('False', 'ExitCode1'), []],
    ['progress', undefined, ready('Unknown'), []],
  ])('%s', (_name, before, after, want) => {
    const got = revisionEvents(before, after).map((e) =>
      e.reason === 'RevisionReady' ? `${e.type} ${e.reason}` : `${e.type} ${e.reason} ${e.message}`,
    );
    expect(got).toEqual(want);
  });
});
