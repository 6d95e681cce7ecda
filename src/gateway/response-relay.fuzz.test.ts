// Differential test of how the gateway relays pods' responses (issue 15, point 3): generated
// responses, plain and malformed, from a raw TCP pod, each fetched three times: by node:http's
// client straight from the pod (llhttp, the oracle), through the fast path (a plain GET) and
// through the node:http path (a request with a 1-byte body, which the fast path hands over).
// Through the gateway the client gets exactly one well-framed answer per request, and a second
// request on the same connection gets exactly its own answer: no byte of one response in another.
// What llhttp refuses in a head gets a 502 on both paths; a body llhttp refuses once it began
// gets a 502 or a connection cut off after it; anything else is relayed as the pod sent it, alike
// on both paths. Deterministic (a fixed seed) and bounded by the number of cases.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Disagreements, nextTurn, responseCases, shown, type ResponseCase } from './testing/http1-cases.ts';
import { HOST, loopbackGateway, type LoopbackGateway } from './testing/loopback-gateway.ts';

const SEED = 0x15_0303;
const CASES = 320;
const MARKER = 'MARKER-7f3a-second-response';
/**
 * Jest's limit for the tests that go over loopback for every case: a guard against a hang, far
 * above what they take (a few seconds at most), not a measure of anything.
 */
const HANG_GUARD_MS = 60_000;
/** Case indices from here on are the named minimal cases'. */
const MINIMAL_FROM = 1_000_000;
const MARKER_RESPONSE = `HTTP/1.1 200 OK\r\ncontent-length: ${String(MARKER.length)}\r\n\r\n${MARKER}`;

/** The paths a case's response is fetched by; the pod counts requests by them. */
type Via = 'direct' | 'fast' | 'node';

/**
 * A pod on a raw socket that answers `/case/N/via` with case N's bytes, as they are, and
 * `/marker` with a well-framed marker. It reads the gateway's requests one after another on each
 * connection, and closes a connection after a case that says so.
 */
class ScriptedPod {
  readonly server: Server;
  readonly hits = new Map<string, number>();
  /** The responses by their case index. */
  readonly cases = new Map<number, ResponseCase>();

  constructor() {
    this.server = createServer((socket) => {
      this.serve(socket);
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  private serve(socket: Socket): void {
    let pending = Buffer.alloc(0);
    let ended = false;
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (!ended) {
        const headEnd = pending.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const head = pending.toString('latin1', 0, headEnd);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? '0');
        if (pending.length < headEnd + 4 + length) return;
        pending = pending.subarray(headEnd + 4 + length);
        const path = head.split(' ')[1] ?? '';
        const match = /^\/case\/(\d+)\/(\w+)$/.exec(path);
        const answer = match === null ? undefined : this.cases.get(Number(match[1]));
        if (answer === undefined) {
          socket.write(MARKER_RESPONSE);
          continue;
        }
        this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
        socket.write(answer.bytes);
        if (answer.close) {
          ended = true;
          socket.end();
        }
      }
    });
  }
}

/** How a response reached node:http's client. */
interface Outcome {
  /**
   * complete: llhttp read it whole; cut: it broke off after its head; error: no response;
   * upgrade: a 101; stalled: nothing more came while the client still waited for bytes.
   */
  kind: 'complete' | 'cut' | 'error' | 'upgrade' | 'stalled';
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  error: string;
  /** llhttp's error on bytes after a response it had read whole (which it took as the next one). */
  after: string;
  /** The request went out on a connection an earlier one used. */
  reused: boolean;
}

/**
 * Event-loop turns without a byte or event on the client's side after which a response that has
 * not ended never will: the client, the gateway and the pod all run in this process on loopback,
 * where a written byte is readable on the next turn, and nothing on a response's way waits on a
 * timer. A count of turns, not a time.
 */
const QUIET_TURNS = 200;

function fetch(
  port: number,
  agent: Agent | false,
  method: string,
  path: string,
  body?: string,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const outcome: Outcome = {
      kind: 'error',
      status: 0,
      headers: {},
      body: '',
      error: '',
      after: '',
      reused: false,
    };
    let responded = false;
    let settled = false;
    let quiet = 0;
    const activity = (): void => {
      quiet = 0;
    };
    const settle = (kind: Outcome['kind'], error = ''): void => {
      if (settled) return;
      settled = true;
      outcome.kind = kind;
      outcome.error = error;
      outcome.reused = req.reusedSocket;
      req.socket?.off('data', activity);
      resolve(outcome);
    };
    const headers: Record<string, string> = { host: HOST };
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const req = request({ host: '127.0.0.1', port, agent, method, path, headers }, (res) => {
      responded = true;
      outcome.status = res.statusCode ?? 0;
      outcome.headers = res.headers;
      res.setEncoding('latin1');
      res.on('data', (chunk: string) => (outcome.body += chunk));
      res.on('end', () => {
        settle('complete');
      });
      res.on('aborted', () => {
        settle('cut', 'aborted');
      });
      res.on('error', (error: NodeJS.ErrnoException) => {
        settle('cut', error.code ?? error.message);
      });
      res.on('close', () => {
        settle('cut', 'closed');
      });
    });
    req.on('socket', (socket: Socket) => {
      socket.on('data', activity);
    });
    req.on('upgrade', (_res, socket: Socket) => {
      socket.destroy();
      settle('upgrade');
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      // After a head, the response's own events tell a whole response from a cut one: llhttp
      // reports an error on what follows a whole response before the response's end.
      if (responded) outcome.after = error.code ?? error.message;
      else settle('error', error.code ?? error.message);
    });
    req.end(body);
    // A function, not the variable: the settle callbacks change it while the loop awaits.
    const isSettled = (): boolean => settled;
    const watch = async (): Promise<void> => {
      while (!isSettled()) {
        await nextTurn();
        if (!isSettled() && ++quiet > QUIET_TURNS) {
          settle('stalled');
          req.destroy();
        }
      }
    };
    void watch();
  });
}

/** A response as the comparison sees it: relayed with a status and body, refused (502), or cut off. */
function summary(outcome: Outcome): string {
  if (outcome.kind === 'complete' && outcome.status === 502 && outcome.headers['x-ebb-gateway'] === 'refused')
    return '502';
  if (outcome.kind === 'complete') return `relayed ${String(outcome.status)} ${JSON.stringify(outcome.body)}`;
  return outcome.kind === 'cut' ? 'cut' : `${outcome.kind} ${outcome.error}`;
}

/** llhttp's verdict on a response straight from the pod. */
function oracleVerdict(direct: Outcome): 'head' | 'body' | 'relayed' | 'stalled' {
  if (direct.kind === 'complete') return 'relayed';
  if (direct.kind === 'stalled') return 'stalled';
  return direct.kind === 'cut' ? 'body' : 'head';
}

const cases = responseCases(SEED, CASES);

/**
 * One small response for each disagreement the generated cases found, kept as its own test so
 * that each is seen, and stays fixed, by name. The pod closes after each.
 */
const MINIMAL: [string, 'GET' | 'HEAD', string][] = [
  ['a status code under 100', 'GET', 'HTTP/1.1 099 Low\r\nContent-Length: 2\r\n\r\nok'],
  ['a control character in the reason phrase', 'GET', 'HTTP/1.1 200 O\x01K\r\nContent-Length: 2\r\n\r\nok'],
  ['a malformed head to a HEAD request', 'HEAD', 'HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n'],
  ['a malformed status line with obs-text in it', 'GET', 'HTTP/1.1 20 caf\xe9\r\n\r\n'],
  [
    'a head over 16 KiB',
    'GET',
    `HTTP/1.1 200 OK\r\nX-Long: ${'l'.repeat(17 * 1024)}\r\nContent-Length: 2\r\n\r\nok`,
  ],
  ['101 without Upgrade to a plain request', 'GET', 'HTTP/1.1 101 Switching Protocols\r\n\r\n'],
  ['HTTP/2.0 in the status line', 'GET', 'HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok'],
  ['a body to a HEAD request', 'HEAD', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'],
  ['a body after 204', 'GET', 'HTTP/1.1 204 No Content\r\n\r\nok'],
  ['a byte after the declared body', 'GET', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokx'],
];

/** What llhttp, the fast path and the node:http path made of one response. */
interface Fetched {
  direct: Outcome;
  verdict: ReturnType<typeof oracleVerdict>;
}

describe('the gateway relays pod responses as llhttp reads them', () => {
  const pod = new ScriptedPod();
  let gateway: LoopbackGateway;

  beforeAll(async () => {
    for (const c of cases) pod.cases.set(c.index, c);
    await new Promise<void>((resolve) => pod.server.listen(0, '127.0.0.1', resolve));
    gateway = await loopbackGateway({ pods: [`127.0.0.1:${String(pod.port)}`] });
  });

  afterAll(async () => {
    await gateway.close();
    await new Promise<void>((resolve) =>
      pod.server.close(() => {
        resolve();
      }),
    );
  });

  /** The case's response through the gateway by one path, then the marker on the same connection. */
  async function throughGateway(c: ResponseCase, via: Via): Promise<[Outcome, Outcome]> {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const method = via === 'node' && c.method === 'GET' ? 'POST' : c.method;
      const first = await fetch(
        gateway.port,
        agent,
        method,
        `/case/${String(c.index)}/${via}`,
        via === 'node' ? 'x' : undefined,
      );
      const second = await fetch(gateway.port, agent, 'GET', '/marker');
      return [first, second];
    } finally {
      agent.destroy();
    }
  }

  /**
   * The case's response straight from the pod (llhttp's verdict), then through each path: one
   * well-framed answer, no byte of it in the marker's and none of the marker's in it, 502 for a
   * head llhttp refuses, 502 or a cut for a body it refuses, the same answer on both paths, and
   * each request at the pod once.
   */
  async function check(c: ResponseCase, found: Disagreements): Promise<Fetched> {
    const direct = await fetch(pod.port, false, c.method, `/case/${String(c.index)}/direct`);
    const verdict = oracleVerdict(direct);
    const name = c.index >= MINIMAL_FROM ? 'minimal' : String(c.index);
    // The generator's own fault: a response that a reader waits on for ever must close.
    if (verdict === 'stalled')
      found.add('llhttp waits for more than the pod sends', `case ${name}: ${shown(c.bytes)}`);
    const fast = await throughGateway(c, 'fast');
    const node = await throughGateway(c, 'node');
    const example = `case ${name} (${c.method}${c.close ? ', pod closes' : ''}): ${shown(c.bytes)}; llhttp: ${summary(direct)}${direct.after === '' ? '' : ` then ${direct.after}`}; fast: ${summary(fast[0])}; node:http: ${summary(node[0])}`;
    for (const [via, [first, second]] of [
      ['fast', fast],
      ['node', node],
    ] as const) {
      const got = summary(first);
      if (first.kind === 'error' || first.kind === 'upgrade' || first.kind === 'stalled')
        found.add(`${via}: no well-framed answer (${first.kind} ${first.error})`, example);
      if (first.kind === 'complete' && first.after !== '')
        found.add(`${via}: bytes after the answer that llhttp cannot read (${first.after})`, example);
      if (first.body.includes(MARKER) || JSON.stringify(first.headers).includes(MARKER))
        found.add(`${via}: the marker's bytes in the first response`, example);
      if (second.kind !== 'complete' || second.status !== 200 || second.body !== MARKER)
        found.add(`${via}: the second response is not the marker`, `${example}; second: ${summary(second)}`);
      if (first.kind === 'cut' && second.reused)
        found.add(`${via}: a second response on a connection whose first broke off`, example);
      if (verdict === 'head' && got !== '502')
        found.add(`${via}: llhttp refuses the head, the gateway does not answer 502`, example);
      if (verdict === 'body' && got !== '502' && got !== 'cut')
        found.add(
          `${via}: llhttp refuses the body, the gateway neither answers 502 nor cuts it off`,
          example,
        );
      // A response llhttp reads may still be refused (both paths must then agree, below).
      if (verdict === 'relayed' && got !== summary(direct) && got !== '502')
        found.add(`${via}: llhttp reads the response, the gateway relays another`, example);
    }
    const same = (a: string, b: string): boolean =>
      a === b || (verdict === 'body' && (a === '502' || a === 'cut') && (b === '502' || b === 'cut'));
    if (!same(summary(fast[0]), summary(node[0])))
      found.add(
        `the paths disagree: fast ${summary(fast[0]).split(' ')[0] ?? ''}, node:http ${summary(node[0]).split(' ')[0] ?? ''}`,
        example,
      );
    const hits = (via: Via): number => pod.hits.get(`/case/${String(c.index)}/${via}`) ?? 0;
    if (hits('fast') !== 1) found.add(`the GET reached the pod ${String(hits('fast'))} times`, example);
    if (hits('node') > 1)
      found.add(`the ${c.method === 'GET' ? 'POST' : 'HEAD'} reached the pod more than once`, example);
    if (hits('node') < 1) found.add('the request with a body never reached the pod', example);
    return { direct, verdict };
  }

  it(
    'answers each request once, keeps responses apart, and agrees with llhttp and across paths',
    async () => {
      const found = new Disagreements();
      const verdicts = { head: 0, body: 0, relayed: 0, stalled: 0 };
      for (const c of cases) verdicts[(await check(c, found)).verdict]++;
      expect(found.report()).toEqual({});
      // The generator must give llhttp all three verdicts to compare with.
      expect(verdicts.head).toBeGreaterThan(CASES / 10);
      expect(verdicts.body).toBeGreaterThan(CASES / 40);
      expect(verdicts.relayed).toBeGreaterThan(CASES / 3);
    },
    HANG_GUARD_MS,
  );

  it.each(MINIMAL.map(([name, method, text], i) => ({ name, method, text, i })))(
    'agrees with llhttp on $name',
    async ({ method, text, i }) => {
      const c: ResponseCase = {
        index: MINIMAL_FROM + i,
        method,
        bytes: Buffer.from(text, 'latin1'),
        close: true,
      };
      pod.cases.set(c.index, c);
      const found = new Disagreements();
      await check(c, found);
      expect(found.report()).toEqual({});
    },
    HANG_GUARD_MS,
  );
});
