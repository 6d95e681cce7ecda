// Requests through ebb's gateway from the host, the way a client outside the pods sends them: to a
// gateway Service's ClusterIP with a Host header naming the route. Load is always bounded (a fixed
// number of clients, stopped by the caller) and tallied by status and body, never timed.
import { AutoscalingV2Api, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { Agent, request } from 'node:http';
import { apps, core, kc, readyPods } from './kube.ts';

const SYSTEM = 'ebb-system';

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const GATEWAY_PODS = 'app.kubernetes.io/component=gateway';

/** Sets the gateway's replicas, with its HPA's minimum to match so the HPA does not undo it. */
export async function gatewayReplicas(replicas: number): Promise<void> {
  await kc
    .makeApiClient(AutoscalingV2Api)
    .patchNamespacedHorizontalPodAutoscaler(
      { namespace: SYSTEM, name: 'ebb-gateway', body: { spec: { minReplicas: replicas } } },
      MERGE,
    );
  await apps.patchNamespacedDeploymentScale(
    { namespace: SYSTEM, name: 'ebb-gateway', body: { spec: { replicas } } },
    MERGE,
  );
}

/** The gateway's pods that are Ready and not being deleted. */
export function readyGatewayPods(): Promise<V1Pod[]> {
  return readyPods(SYSTEM, GATEWAY_PODS);
}

/** `ebb-gateway` serves public hosts; `ebb-gateway-internal` public and cluster-local ones. */
export type GatewayService = 'ebb-gateway' | 'ebb-gateway-internal';

export interface Gateway {
  readonly service: GatewayService;
  readonly address: string;
  readonly port: number;
  readonly agent: Agent;
}

/** One answer; status 0 when no HTTP answer came (connection error or client timeout). */
export interface Answer {
  readonly status: number;
  readonly body: string;
  /** The gateway answered itself (x-ebb-gateway: refused). */
  readonly refused: boolean;
}

/** The Service's ClusterIP and port, with a keep-alive agent allowing `maxSockets` connections. */
export async function gateway(service: GatewayService, maxSockets = 64): Promise<Gateway> {
  const svc = await core.readNamespacedService({ namespace: SYSTEM, name: service });
  const address = svc.spec?.clusterIP;
  const port = svc.spec?.ports?.[0]?.port;
  if (address === undefined || port === undefined)
    throw new Error(`Service ${SYSTEM}/${service}: spec.clusterIP or spec.ports[0].port is not set`);
  return { service, address, port, agent: new Agent({ keepAlive: true, maxSockets }) };
}

/** GET `path` with Host `host` through the gateway; resolves (never rejects) with the answer. */
export function send(gw: Gateway, host: string, path = '/', timeoutMs = 90_000): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(
      { host: gw.address, port: gw.port, path, headers: { host }, agent: gw.agent, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            refused: res.headers['x-ebb-gateway'] === 'refused',
          });
        });
        res.on('error', (error) => {
          resolve({ status: 0, body: `response from ${gw.service} broke: ${error.message}`, refused: false });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => {
      resolve({ status: 0, body: `request to ${gw.service} failed: ${error.message}`, refused: false });
    });
    req.end();
  });
}

/** `count` requests at once; the answers in request order. */
export function burst(gw: Gateway, host: string, path: string, count: number): Promise<Answer[]> {
  return Promise.all(Array.from({ length: count }, () => send(gw, host, path)));
}

/** Answers counted by status and by body, keeping the first few that were not 200 to show. */
export class Tally {
  total = 0;
  readonly byStatus = new Map<number, number>();
  readonly byBody = new Map<string, number>();
  /** Up to 20 non-200 answers as "status body". */
  readonly failures: string[] = [];
  failed = 0;

  add(answer: Answer): void {
    this.total++;
    this.byStatus.set(answer.status, (this.byStatus.get(answer.status) ?? 0) + 1);
    this.byBody.set(answer.body, (this.byBody.get(answer.body) ?? 0) + 1);
    if (answer.status === 200) return;
    this.failed++;
    if (this.failures.length < 20) this.failures.push(`${answer.status} ${answer.body.trim()}`);
  }

  count(body: string): number {
    return this.byBody.get(body) ?? 0;
  }
}

/** Every answer of `answers`, tallied. */
export function tally(answers: readonly Answer[]): Tally {
  const t = new Tally();
  for (const a of answers) t.add(a);
  return t;
}

/** `clients` clients each sending one request after another until stopped. */
/** Loads not stopped yet: a test that fails before its stop() must not leave one running. */
const running = new Set<Load>();

export class Load {
  readonly tally = new Tally();
  private stopped = false;
  private readonly clients: Promise<void>[];

  constructor(gw: Gateway, host: string, path: string, clients: number) {
    running.add(this);
    this.clients = Array.from({ length: clients }, async () => {
      while (!this.stopped) this.tally.add(await send(gw, host, path));
    });
  }

  /** Lets each client finish its request in flight; resolves with everything counted. */
  async stop(): Promise<Tally> {
    this.stopped = true;
    running.delete(this);
    await Promise.all(this.clients);
    return this.tally;
  }
}

/** Stops every Load still running (e2e/tests/leftover-loads.ts calls it after each test). */
export async function stopLoads(): Promise<void> {
  await Promise.all([...running].map((load) => load.stop()));
}

/** `total` requests from `clients` clients, each sending its next one when its last is answered. */
export async function requests(
  gw: Gateway,
  host: string,
  path: string,
  total: number,
  clients: number,
): Promise<Tally> {
  const t = new Tally();
  let issued = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (issued < total) {
        issued++;
        t.add(await send(gw, host, path));
      }
    }),
  );
  return t;
}
