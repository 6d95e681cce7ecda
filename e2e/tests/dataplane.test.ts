// The data plane on the real cluster, with ebb installed by `npm run deploy`: requests go from the
// host through the gateway's Services (`ebb-gateway`, `ebb-gateway-internal`) by Host header and
// must reach the right revision, follow splits, tags and visibility, be held while a revision
// scales from zero, respect containerConcurrency and timeoutSeconds, and survive scale-down and
// rollouts without a failed request. Bounds after Knative's e2e tests (reference §8.3).
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { LABELS } from '../../src/apis/serving/register.ts';
import type { Service } from '../../src/apis/serving/v1/service-types.ts';
import { CustomResources, SERVING_SERVICES } from '../../src/controller/kube.ts';
import {
  burst,
  gateway,
  Load,
  requests,
  send,
  tally,
  type Answer,
  type Gateway,
} from './dataplane-client.ts';
import { apps, core, createNamespace, deleteNamespace, eventually, kc } from './kube.ts';

const SYSTEM = 'ebb-system';
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const WINDOW = 'autoscaling.knative.dev/window';
const MAX_SCALE = 'autoscaling.knative.dev/max-scale';
const TARGET = 'autoscaling.knative.dev/target';
const custom = new CustomResources(kc);
let ns = '';
let external: Gateway;
let internal: Gateway;
/** config-autoscaler's grace period before the suite lowered it; null when it was not set. */
let gracePeriod: string | null = null;
const GRACE = 'scale-to-zero-grace-period';

/** What dev.local/autoscale answers. */
const AutoscaleAnswer = z.object({ inflight: z.number(), maxInflight: z.number() });
const EchoAnswer = z.object({
  method: z.string(),
  path: z.string(),
  query: z.record(z.string(), z.string()),
  headers: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
  body: z.string(),
});

interface AppOptions {
  image?: 'dev.local/helloworld' | 'dev.local/autoscale' | 'dev.local/echo';
  target?: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  containerConcurrency?: number;
  timeoutSeconds?: number;
}

function ksvc(name: string, options: AppOptions = {}): Service {
  const { image = 'dev.local/helloworld', target, annotations = {}, labels } = options;
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name, namespace: ns, ...(labels === undefined ? {} : { labels }) },
    spec: {
      template: {
        metadata: { annotations },
        spec: {
          containers: [
            { image, ...(target === undefined ? {} : { env: [{ name: 'TARGET', value: target }] }) },
          ],
          ...(options.containerConcurrency === undefined
            ? {}
            : { containerConcurrency: options.containerConcurrency }),
          ...(options.timeoutSeconds === undefined ? {} : { timeoutSeconds: options.timeoutSeconds }),
        },
      },
    },
  };
}

/** The Service once its controller has observed the current generation, it is Ready and `accept`s. */
async function ready(name: string, accept: (s: Service) => boolean = () => true): Promise<Service> {
  return eventually(
    `Service ${ns}/${name} Ready`,
    async () => {
      const s = await custom.get<Service>(SERVING_SERVICES, ns, name);
      const observed = s.status?.observedGeneration === s.metadata.generation;
      const isReady = s.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      return observed && isReady && accept(s) ? s : undefined;
    },
    90_000,
  );
}

async function create(name: string, options: AppOptions = {}): Promise<Service> {
  await custom.create(SERVING_SERVICES, ksvc(name, options));
  return ready(name);
}

/** Changes the stored Service, retrying when the controller wrote in between. */
async function update(name: string, change: (s: Service) => void): Promise<void> {
  await eventually(`update of Service ${ns}/${name}`, async () => {
    const s = await custom.get<Service>(SERVING_SERVICES, ns, name);
    change(s);
    await custom.replace(SERVING_SERVICES, s);
    return true;
  });
}

function hostOf(url: string | undefined): string {
  if (url === undefined) throw new Error(`Service in ${ns} has no status.url`);
  return new URL(url).host;
}

/** The first answer through `gw` that is a 200 (with `body`, if given): the gateway has caught up. */
async function answers(gw: Gateway, host: string, body?: string, path = '/'): Promise<Answer> {
  return eventually(
    `${gw.service} to answer ${body === undefined ? '200' : JSON.stringify(body)} for ${host}${path}`,
    async () => {
      const last = await send(gw, host, path, 10_000);
      if (last.status === 200 && (body === undefined || last.body === body)) return last;
      throw new Error(`last answer: ${last.status} ${last.body.trim()}`);
    },
    90_000,
  );
}

async function deploymentOf(revision: string): Promise<{ replicas: number; ready: number }> {
  const d = await apps.readNamespacedDeployment({ namespace: ns, name: `${revision}-deployment` });
  return { replicas: d.spec?.replicas ?? -1, ready: d.status?.readyReplicas ?? 0 };
}

async function podsOf(revision: string): Promise<number> {
  const pods = await core.listNamespacedPod({
    namespace: ns,
    labelSelector: `${LABELS.revision}=${revision}`,
  });
  return pods.items.length;
}

/** The revision's Deployment asks for 0 replicas and none of its pods is left, terminating or not. */
async function scaledToZero(revision: string): Promise<void> {
  await eventually(
    `${ns}/${revision} at 0 replicas with no pods`,
    async () => {
      const { replicas } = await deploymentOf(revision);
      if (replicas !== 0) throw new Error(`Deployment asks for ${replicas} replicas`);
      const pods = await podsOf(revision);
      if (pods !== 0) throw new Error(`${pods} pods left`);
      return true;
    },
    120_000,
  );
}

/** ebb_gateway_handovers_total by reason, summed over the gateway's pods. */
async function handovers(): Promise<Record<string, number>> {
  const pods = await core.listNamespacedPod({
    namespace: SYSTEM,
    labelSelector: 'app.kubernetes.io/component=gateway',
  });
  const totals: Record<string, number> = {};
  for (const pod of pods.items) {
    const ip = pod.status?.podIP;
    if (ip === undefined) continue;
    const text = await fetch(`http://${ip}:9090/metrics`).then((r) => r.text());
    for (const match of text.matchAll(/^ebb_gateway_handovers_total\{reason="([a-z_]+)"\} (\d+)$/gm)) {
      const reason = match[1] ?? '';
      totals[reason] = (totals[reason] ?? 0) + Number(match[2]);
    }
  }
  return totals;
}

function hello(target: string): string {
  return `Hello ${target}!\n`;
}

/** Sets (or, with null, removes) one key of config-autoscaler, leaving the others as they are. */
async function setAutoscalerKey(key: string, value: string | null): Promise<void> {
  await core.patchNamespacedConfigMap(
    { namespace: SYSTEM, name: 'config-autoscaler', body: { data: { [key]: value } } },
    MERGE,
  );
}

beforeAll(async () => {
  external = await gateway('ebb-gateway', 400);
  internal = await gateway('ebb-gateway-internal');
  // Scale to zero within seconds rather than after the 30 s default grace period.
  const cm = await core.readNamespacedConfigMap({ namespace: SYSTEM, name: 'config-autoscaler' });
  gracePeriod = cm.data?.[GRACE] ?? null;
  await setAutoscalerKey(GRACE, '6s');
});

afterAll(async () => {
  await setAutoscalerKey(GRACE, gracePeriod);
  external.agent.destroy();
  internal.agent.destroy();
});

beforeEach(async () => {
  ns = await createNamespace('dataplane');
});

afterEach(async () => {
  await deleteNamespace(ns);
});

describe('routing by host', () => {
  it('answers hello world at its URL host through ebb-gateway, and 404 naming an unknown host', async () => {
    const svc = await create('hello');
    const host = hostOf(svc.status?.url);
    expect(host).toBe(`hello.${ns}.example.com`);
    const answer = await answers(external, host, hello('World'));
    expect(answer.refused).toBe(false);

    const unknown = `nobody.${ns}.example.com`;
    const missing = await send(external, unknown);
    expect(missing).toMatchObject({ status: 404, refused: true });
    expect(missing.body).toContain(`no Route serves host "${unknown}"`);
  });

  it('tag hosts reach their revision, whatever the main split', async () => {
    await create('tags', { target: 'blue' });
    await update('tags', (s) => {
      s.spec.template.spec = {
        containers: [{ image: 'dev.local/helloworld', env: [{ name: 'TARGET', value: 'green' }] }],
      };
      s.spec.traffic = [
        { tag: 'blue', revisionName: 'tags-00001', percent: 100 },
        { tag: 'green', latestRevision: true, percent: 0 },
      ];
    });
    const svc = await ready('tags', (s) => s.status?.latestReadyRevisionName === 'tags-00002');
    const url = (tag: string): string | undefined => svc.status?.traffic?.find((t) => t.tag === tag)?.url;
    expect(hostOf(url('blue'))).toBe(`blue-tags.${ns}.example.com`);
    expect(hostOf(url('green'))).toBe(`green-tags.${ns}.example.com`);

    for (const [tag, body] of [
      ['blue', hello('blue')],
      ['green', hello('green')],
    ] as const) {
      const host = hostOf(url(tag));
      await answers(external, host, body);
      const t = await requests(external, host, '/', 20, 5);
      expect(t.failures).toEqual([]);
      expect(t.count(body)).toBe(20);
    }
    // The main host keeps all of its traffic on blue.
    const main = await requests(external, hostOf(svc.status?.url), '/', 20, 5);
    expect(main.count(hello('blue'))).toBe(20);
  });

  it('a 70/30 split over 1,000 requests lands within ±5 %', async () => {
    await create('split', { target: 'v1' });
    await update('split', (s) => {
      s.spec.template.spec = {
        containers: [{ image: 'dev.local/helloworld', env: [{ name: 'TARGET', value: 'v2' }] }],
      };
      s.spec.traffic = [
        { revisionName: 'split-00001', percent: 70 },
        { latestRevision: true, percent: 30 },
      ];
    });
    const svc = await ready('split', (s) =>
      (s.status?.traffic ?? []).some((t) => t.revisionName === 'split-00002' && t.percent === 30),
    );
    const host = hostOf(svc.status?.url);
    // v2 is only reachable through the new split, so once it answers the gateway has the split.
    await answers(external, host, hello('v2'));
    await answers(external, host, hello('v1'));

    const t = await requests(external, host, '/', 1000, 20);
    expect(t.failures).toEqual([]);
    expect(t.count(hello('v1')) + t.count(hello('v2'))).toBe(1000);
    expect(t.count(hello('v1'))).toBeGreaterThanOrEqual(650);
    expect(t.count(hello('v1'))).toBeLessThanOrEqual(750);
  });

  it('latestRevision: true moves to the new revision once it is Ready', async () => {
    const svc = await create('latest', { target: 'one' });
    const host = hostOf(svc.status?.url);
    await answers(external, host, hello('one'));
    await update('latest', (s) => {
      s.spec.template.spec = {
        containers: [{ image: 'dev.local/helloworld', env: [{ name: 'TARGET', value: 'two' }] }],
      };
    });
    const next = await ready('latest', (s) => s.status?.latestReadyRevisionName === 'latest-00002');
    expect(next.status?.traffic).toEqual([
      { revisionName: 'latest-00002', latestRevision: true, percent: 100 },
    ]);
    await answers(external, host, hello('two'));
    const t = await requests(external, host, '/', 20, 5);
    expect(t.failures).toEqual([]);
    expect(t.count(hello('two'))).toBe(20);
  });

  it('a cluster-local Service answers via ebb-gateway-internal at <name>.<ns>.svc.cluster.local, not via ebb-gateway', async () => {
    const svc = await create('private', { labels: { [LABELS.visibility]: 'cluster-local' } });
    const host = hostOf(svc.status?.url);
    expect(host).toBe(`private.${ns}.svc.cluster.local`);
    await answers(internal, host, hello('World'));

    const outside = await send(external, host);
    expect(outside).toMatchObject({ status: 404, refused: true });
    expect(outside.body).toContain(`no Route serves host "${host}"`);
  });
});

describe('metrics', () => {
  it("a deleted revision's series leave the gateway's /metrics", async () => {
    const svc = await create('counted');
    const revision = svc.status?.latestReadyRevisionName ?? '';
    await answers(external, hostOf(svc.status?.url), hello('World'));
    const pods = await core.listNamespacedPod({
      namespace: SYSTEM,
      labelSelector: 'app.kubernetes.io/component=gateway',
    });
    const ips = pods.items.map((p) => p.status?.podIP).filter((ip): ip is string => ip !== undefined);
    expect(ips.length).toBeGreaterThan(0);
    const series = async (): Promise<string[]> => {
      const lines: string[] = [];
      for (const ip of ips) {
        const text = await fetch(`http://${ip}:9090/metrics`).then((r) => r.text());
        lines.push(...text.split('\n').filter((l) => l.includes(`revision="${revision}"`)));
      }
      return lines;
    };
    expect((await series()).some((l) => l.startsWith('ebb_gateway_requests_total{'))).toBe(true);
    await custom.delete(SERVING_SERVICES, ns, 'counted');
    await eventually(`no series of ${revision} left`, async () =>
      (await series()).length === 0 ? true : undefined,
    );
  });
});

describe('forwarding', () => {
  it("plain GETs to a warm revision stay on the gateway's fast path; a request with a body is handed to node:http", async () => {
    const svc = await create('fast');
    const host = hostOf(svc.status?.url);
    await answers(external, host, hello('World'));
    const before = await handovers();
    // New connections, so that each starts on the fast path (a connection handed over stays with
    // node:http, and one of the shared agent's might have been).
    const fresh: Gateway = { ...external, agent: new Agent({ keepAlive: true, maxSockets: 20 }) };
    const gets = await Promise.all(Array.from({ length: 20 }, () => send(fresh, host)));
    fresh.agent.destroy();
    expect(gets.map((a) => a.status)).toEqual(Array.from({ length: 20 }, () => 200));
    const afterGets = await handovers();
    expect(afterGets).toEqual(before);

    const post = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: external.address,
          port: external.port,
          method: 'POST',
          headers: { host, 'content-type': 'text/plain' },
          agent: false,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, body });
          });
        },
      );
      req.on('error', reject);
      req.end('a body to carry');
    });
    // dev.local/helloworld answers only GET: the 405 is the app's own answer, through node:http.
    expect(post).toEqual({ status: 405, body: 'method not allowed\n' });
    const afterPost = await handovers();
    expect((afterPost.request ?? 0) - (before.request ?? 0)).toBe(1);
  });

  it('streams a chunked body to the pod with X-Forwarded-* and Forwarded set, and internal and hop-by-hop headers left out', async () => {
    const svc = await create('fwd', { image: 'dev.local/echo' });
    const host = hostOf(svc.status?.url);
    await answers(external, host);
    const pieces = ['first ', 'second ', 'third'];
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: external.address,
          port: external.port,
          method: 'POST',
          path: '/in?x=1',
          headers: {
            host,
            'transfer-encoding': 'chunked',
            connection: 'keep-alive, x-hop',
            'x-hop': 'not for the pod',
            'keep-alive': 'timeout=5',
            'knative-serving-tag': 'none',
            'x-ebb-debug': '1',
            'x-end-to-end': 'kept',
          },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, body });
          });
        },
      );
      req.on('error', reject);
      // The body leaves in pieces, a little apart, so it is streamed rather than sent at once.
      void (async () => {
        for (const piece of pieces) {
          req.write(piece);
          await sleep(50);
        }
        req.end();
      })();
    });
    expect(answer.status).toBe(200);
    const seen = EchoAnswer.parse(JSON.parse(answer.body));
    expect(seen).toMatchObject({ method: 'POST', path: '/in', query: { x: '1' }, body: pieces.join('') });
    expect(seen.headers).toMatchObject({
      host,
      'x-end-to-end': 'kept',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': host,
    });
    expect(seen.headers['x-forwarded-for']).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(seen.headers.forwarded).toContain(`host=${host}`);
    for (const name of ['x-hop', 'keep-alive', 'knative-serving-tag', 'x-ebb-debug'])
      expect(seen.headers).not.toHaveProperty(name);
  });

  it('tunnels a websocket upgrade both ways', async () => {
    const svc = await create('tunnel', { image: 'dev.local/echo' });
    const host = hostOf(svc.status?.url);
    await answers(external, host);
    const socket = connect({ host: external.address, port: external.port });
    try {
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (c: string) => (received += c));
      socket.write(
        `GET /tunnel HTTP/1.1\r\nhost: ${host}\r\nconnection: Upgrade\r\nupgrade: websocket\r\n` +
          'sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      );
      const head = await eventually('the 101 answer', () =>
        Promise.resolve(received.includes('\r\n\r\n') ? received : undefined),
      );
      expect(head.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
      // RFC 6455's own example key and answer: the pod's handshake reached the client unchanged.
      expect(head.toLowerCase()).toContain('sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=');
      received = '';
      socket.write('ping over the tunnel');
      expect(
        await eventually('the echo', () => Promise.resolve(received.length >= 20 ? received : undefined)),
      ).toBe('ping over the tunnel');
    } finally {
      socket.destroy();
    }
  });
  it('answers a request that offers an h2c upgrade as the HTTP/1.1 request it also is', async () => {
    const svc = await create('h2c', { image: 'dev.local/echo' });
    const host = hostOf(svc.status?.url);
    await answers(external, host);
    const socket = connect({ host: external.address, port: external.port });
    try {
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (c: string) => (received += c));
      // What `curl --http2` sends over cleartext.
      socket.write(
        `GET /h2c HTTP/1.1\r\nhost: ${host}\r\nconnection: Upgrade, HTTP2-Settings\r\nupgrade: h2c\r\n` +
          'http2-settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
      );
      const answer = await eventually('the answer', () =>
        Promise.resolve(received.includes('"path":"/h2c"') ? received : undefined),
      );
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
      // The pod got a plain request: the upgrade offer was hop-by-hop.
      expect(answer).not.toContain('"upgrade"');
      expect(answer).not.toContain('"http2-settings"');
    } finally {
      socket.destroy();
    }
  });
});

describe('scale to and from zero', () => {
  const fast = { [WINDOW]: '6s' };

  it('an idle revision scales to 0 replicas and no pod remains', async () => {
    const svc = await create('idle', { annotations: fast });
    await answers(external, hostOf(svc.status?.url), hello('World'));
    await scaledToZero('idle-00001');
  });

  it('the first request to a revision at zero is held and answered 200', async () => {
    const svc = await create('cold', { annotations: fast });
    const host = hostOf(svc.status?.url);
    await answers(external, host, hello('World'));
    await scaledToZero('cold-00001');

    const first = await send(external, host);
    expect(first).toEqual({ status: 200, body: hello('World'), refused: false });
    expect((await deploymentOf('cold-00001')).replicas).toBeGreaterThanOrEqual(1);
  });

  it('300 concurrent requests to a revision at zero all get 200', async () => {
    const svc = await create('burst', { annotations: fast });
    const host = hostOf(svc.status?.url);
    await answers(external, host, hello('World'));
    await scaledToZero('burst-00001');

    const t = tally(await burst(external, host, '/', 300));
    expect(t.failures).toEqual([]);
    expect(t.count(hello('World'))).toBe(300);
  });
});

describe('revision limits', () => {
  it('containerConcurrency 1: no pod ever sees two requests at once', async () => {
    const svc = await create('single', {
      image: 'dev.local/autoscale',
      containerConcurrency: 1,
      annotations: { [MAX_SCALE]: '2' },
    });
    const host = hostOf(svc.status?.url);
    await answers(external, host, undefined, '/?sleep=0');

    const answered = await burst(external, host, '/?sleep=200', 20);
    expect(tally(answered).failures).toEqual([]);
    const seen = answered.map((a) => AutoscaleAnswer.parse(JSON.parse(a.body)).maxInflight);
    expect(Math.max(...seen)).toBe(1);
  });

  it('timeoutSeconds: 2 turns a 5 s request into 504', async () => {
    const svc = await create('slow', { image: 'dev.local/autoscale', timeoutSeconds: 2 });
    const host = hostOf(svc.status?.url);
    await answers(external, host, undefined, '/?sleep=0');

    const late = await send(external, host, '/?sleep=5000');
    expect(late).toMatchObject({ status: 504, refused: true });
    expect(late.body).toContain(`revision ${ns}/slow-00001 did not answer within timeoutSeconds (2 s)`);
  });
});

describe('overload', () => {
  it('a full queue answers 503 with the reason, and the requests it holds still get 200', async () => {
    // One pod taking one request at a time, and room for two more to wait (ebb.dev/queue-depth).
    const svc = await create('full', {
      image: 'dev.local/autoscale',
      containerConcurrency: 1,
      annotations: {
        'autoscaling.knative.dev/min-scale': '1',
        [MAX_SCALE]: '1',
        'ebb.dev/queue-depth': '2',
      },
    });
    const host = hostOf(svc.status?.url);
    await answers(external, host, undefined, '/?sleep=0');

    const all = await burst(external, host, '/?sleep=2000', 8);
    const full = all.find((a) => a.status === 503);
    expect(full).toMatchObject({ refused: true });
    expect(full?.body).toContain(`revision ${ns}/full-00001: pending request queue full (depth 2)`);
    const got = tally(all);
    expect(got.byStatus.get(200) ?? 0).toBeGreaterThanOrEqual(1);
    expect((got.byStatus.get(200) ?? 0) + (got.byStatus.get(503) ?? 0)).toBe(8);
  });
});

describe('no failed request under change', () => {
  it('scaling down under load', async () => {
    // Target 5 at 70 % utilization: 10 clients want 3 pods, 2 clients want 1.
    const svc = await create('shrink', {
      image: 'dev.local/autoscale',
      annotations: { [WINDOW]: '6s', [TARGET]: '5', [MAX_SCALE]: '3' },
    });
    const host = hostOf(svc.status?.url);
    await answers(external, host, undefined, '/?sleep=0');

    const heavy = new Load(external, host, '/?sleep=100', 10);
    await eventually(
      'shrink-00001 to scale up under 10 clients',
      async () => ((await deploymentOf('shrink-00001')).ready >= 2 ? true : undefined),
      90_000,
    );
    const light = new Load(external, host, '/?sleep=100', 2);
    const up = await heavy.stop();
    await eventually(
      'shrink-00001 to scale down to 1 pod under 2 clients',
      async () => {
        const { replicas } = await deploymentOf('shrink-00001');
        return replicas === 1 && (await podsOf('shrink-00001')) === 1 ? true : undefined;
      },
      120_000,
    );
    const down = await light.stop();
    expect(up.failures).toEqual([]);
    expect(down.failures).toEqual([]);
    expect(down.total).toBeGreaterThan(0);
  });

  it('a rollout (env update) under constant load', async () => {
    const svc = await create('rollout', { target: 'one', annotations: { [WINDOW]: '6s' } });
    const host = hostOf(svc.status?.url);
    await answers(external, host, hello('one'));

    const load = new Load(external, host, '/', 10);
    await update('rollout', (s) => {
      s.spec.template.spec = {
        containers: [{ image: 'dev.local/helloworld', env: [{ name: 'TARGET', value: 'two' }] }],
      };
    });
    await ready('rollout', (s) => s.status?.latestReadyRevisionName === 'rollout-00002');
    await eventually('the load to reach rollout-00002', () =>
      load.tally.count(hello('two')) > 0 ? true : undefined,
    );
    // Keep the load on while the old revision's pods go away.
    await scaledToZero('rollout-00001');
    const t = await load.stop();
    expect(t.failures).toEqual([]);
    expect(t.count(hello('one'))).toBeGreaterThan(0);
    expect(t.count(hello('two'))).toBeGreaterThan(0);
  });
});
