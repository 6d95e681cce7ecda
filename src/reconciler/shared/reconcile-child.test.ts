// Table tests for the one way every reconciler creates, adopts and updates a child: what it does
// for each starting state, the requests it sends, and the events the owner gets.
import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { apiError } from '../testing/fake-cluster.ts';
import type { OwnerObject } from './meta.ts';
import { RecentlyCreated } from './recently-created.ts';
import {
  ChildCreationFailed,
  childAction,
  reconcileChild,
  type ChildOutcome,
  type ChildSpec,
} from './reconcile-child.ts';

interface Child {
  metadata: {
    name: string;
    namespace: string;
    ownerReferences?: { uid: string; controller?: boolean }[];
    labels?: Record<string, string>;
  };
  spec: { image: string };
}

const owner: OwnerObject = {
  apiVersion: 'serving.knative.dev/v1',
  kind: 'Revision',
  metadata: { name: 'hello-00001', namespace: 'ns', uid: 'rev-uid' },
};

const child = (image: string, ownerUid = 'rev-uid', controller = true): Child => ({
  metadata: {
    name: 'hello-00001-deployment',
    namespace: 'ns',
    ownerReferences: [{ uid: ownerUid, controller }],
  },
  spec: { image },
});

const desired = child('v2');
const ours = child('v2');
const drifted = child('v1');
const foreign = child('v2', 'someone-else');
const notController = child('v2', 'rev-uid', false);

describe('childAction', () => {
  const needsUpdate = (c: Child) => c.spec.image !== desired.spec.image;
  it.each<[string, Child | undefined, string]>([
    ['nothing there: create it', undefined, 'create'],
    ['ours and in line: keep it', ours, 'keep'],
    ['ours and drifted: update it', drifted, 'update'],
    ['controlled by another owner: not ours', foreign, 'not-owned'],
    ['naming the owner but not as controller: not ours', notController, 'not-owned'],
  ])('%s', (_name, existing, want) => {
    expect(childAction(existing, owner, needsUpdate)).toBe(want);
  });
});

interface Run {
  existing?: Child;
  /** What the API server holds when the create meets AlreadyExists. */
  stored?: Child;
  createError?: Error;
}

async function run(r: Run) {
  const requests: string[] = [];
  const events: string[] = [];
  const recent = new RecentlyCreated<Child>();
  const spec: ChildSpec<Child> = {
    owner,
    noun: 'Deployment',
    key: 'ns/hello-00001-deployment',
    existing: r.existing,
    recent,
    desired,
    create: async (body) => {
      requests.push('create');
      await Promise.resolve();
      if (r.createError !== undefined) throw r.createError;
      if (r.stored !== undefined) throw apiError(409, 'already exists');
      return structuredClone(body);
    },
    read: async () => {
      requests.push('read');
      await Promise.resolve();
      if (r.stored === undefined) throw apiError(404, 'not found');
      return structuredClone(r.stored);
    },
    needsUpdate: (have, want) => have.spec.image !== want.spec.image,
    merge: (have, want) => ({ ...have, spec: want.spec }),
    update: async (body) => {
      requests.push(`update ${body.spec.image}`);
      await Promise.resolve();
      return body;
    },
  };
  const ctx = {
    events: {
      event: (_target: unknown, type: string, reason: string, message: string) => {
        events.push(`${type} ${reason} ${message}`);
      },
    },
    log: pino({ level: 'silent' }),
    now: () => new Date(1_000),
  };
  const result = await reconcileChild(ctx, spec).catch((error: unknown) => error);
  return { result, requests, events, remembered: recent.resolve(spec.key, undefined, 1_000) };
}

describe('reconcileChild', () => {
  it.each<[string, Run, ChildOutcome, string[], string[]]>([
    [
      'creates a missing child, and says so',
      {},
      'created',
      ['create'],
      ['Normal Created Created Deployment "hello-00001-deployment"'],
    ],
    ['leaves a child in line alone', { existing: ours }, 'unchanged', [], []],
    ['puts back what the owner owns on a drifted child', { existing: drifted }, 'updated', ['update v2'], []],
    [
      'reports a child controlled by another owner, and leaves it alone',
      { existing: foreign },
      'not-owned',
      [],
      [],
    ],
    [
      'on AlreadyExists reads our child, and adopts it as found',
      { stored: ours },
      'unchanged',
      ['create', 'read'],
      [],
    ],
    [
      'on AlreadyExists reads a drifted child of ours, and updates it',
      { stored: drifted },
      'updated',
      ['create', 'read', 'update v2'],
      [],
    ],
    [
      'on AlreadyExists reads a child of another owner, and reports it',
      { stored: foreign },
      'not-owned',
      ['create', 'read'],
      [],
    ],
  ])('%s', async (_name, r, outcome, requests, events) => {
    const got = await run(r);
    expect(got.result).toMatchObject({ outcome });
    expect(got.requests).toEqual(requests);
    expect(got.events).toEqual(events);
  });

  it('remembers what it created or found of its own until the cache shows it', async () => {
    expect((await run({})).remembered).toEqual(desired);
    expect((await run({ stored: ours })).remembered).toEqual(ours);
    // Someone else's: read again next time, so its deletion is seen at once.
    expect((await run({ stored: foreign })).remembered).toBeUndefined();
    expect((await run({ existing: ours })).remembered).toBeUndefined();
  });

  it("sends CreationFailed with the API server's message when a create is refused, and throws it as a value", async () => {
    const got = await run({ createError: apiError(422, 'spec.template: Invalid value') });
    expect(got.events).toEqual([
      'Warning CreationFailed Failed to create Deployment "hello-00001-deployment": spec.template: Invalid value',
    ]);
    expect(got.result).toBeInstanceOf(ChildCreationFailed);
    const failure = got.result as ChildCreationFailed;
    expect(failure.refused).toBe(true);
    expect(failure.apiMessage).toBe('spec.template: Invalid value');
    expect(failure.message).toBe(
      'Failed to create Deployment "hello-00001-deployment": spec.template: Invalid value',
    );
    expect(got.remembered).toBeUndefined();
  });

  it('tells a server error (retry it) from a refusal', async () => {
    const got = await run({ createError: apiError(503, 'etcdserver: request timed out') });
    expect(got.events).toHaveLength(1);
    expect((got.result as ChildCreationFailed).refused).toBe(false);
  });

  it('passes a namespace being deleted through as it came, with no event', async () => {
    const terminating = apiError(
      403,
      'deployments "x" is forbidden: unable to create new content in namespace ns because it is being terminated',
    );
    const got = await run({ createError: terminating });
    expect(got.result).toBe(terminating);
    expect(got.events).toEqual([]);
  });
});
