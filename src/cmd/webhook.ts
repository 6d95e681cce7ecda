// `ebb webhook`: the admission webhook. Reads its settings from flags or the environment, keeps its
// certificates current, follows Knative's ConfigMaps live, serves the admission routes over HTTPS
// and Prometheus metrics over plain HTTP, and drains gracefully on SIGTERM.
import { AdmissionregistrationV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { Server } from 'node:http';
import { parseArgs } from 'node:util';
import { collectDefaultMetrics, register } from 'prom-client';
import { ConfigStore } from '../controller/config-store.ts';
import { loadKubeConfig } from '../controller/kubeconfig.ts';
import { createOpsServer } from '../controller/ops-server.ts';
import { makeLogger, type Logger } from '../controller/logger.ts';
import { CertificateManager } from '../webhook/certificate-manager.ts';
import { apiServerDryRun } from '../webhook/dry-run.ts';
import { WebhookMetrics } from '../webhook/metrics.ts';
import { WebhookServer } from '../webhook/server.ts';

export interface WebhookOptions {
  systemNamespace: string;
  service: string;
  secretName: string;
  port: number;
  metricsPort: number;
  mutatingWebhookConfigurations: string[];
  validatingWebhookConfigurations: string[];
}

const USAGE = `Usage: ebb webhook [options]

Runs the admission webhook: Knative's defaulting and validation for serving.knative.dev objects
and validation of Knative's ConfigMaps. Each option falls back to the environment variable shown.

Options:
  --namespace NAME       system namespace (SYSTEM_NAMESPACE, default ebb-system)
  --service NAME         the webhook's Service (WEBHOOK_SERVICE, default ebb-webhook)
  --secret NAME          Secret holding its certificates (WEBHOOK_SECRET, default ebb-webhook-certs)
  --port N               HTTPS port (WEBHOOK_PORT, default 8443)
  --metrics-port N       HTTP port for /metrics, /healthz, /readyz (METRICS_PORT, default 9090)
  --mutating NAMES       MutatingWebhookConfigurations to inject the CA into, comma-separated
                         (WEBHOOK_MUTATING_CONFIGURATIONS, default ebb-webhook-defaulting)
  --validating NAMES     ValidatingWebhookConfigurations to inject the CA into, comma-separated
                         (WEBHOOK_VALIDATING_CONFIGURATIONS,
                         default ebb-webhook-validation,ebb-webhook-config-validation)
  -h, --help             print this help
`;

/** Time for the endpoint removal to reach the API server before the listener closes. */
const DRAIN_DELAY_MS = 3_000;
/** How long requests in flight may take to finish once the listener is closed. */
const DRAIN_GRACE_MS = 10_000;

function port(value: string, what: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535)
    throw new Error(`${what}: expected a port number, got ${JSON.stringify(value)}`);
  return n;
}

function names(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The webhook's settings; throws with a message naming the bad flag or variable. */
export function webhookOptions(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): WebhookOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      namespace: { type: 'string' },
      service: { type: 'string' },
      secret: { type: 'string' },
      port: { type: 'string' },
      'metrics-port': { type: 'string' },
      mutating: { type: 'string' },
      validating: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return 'help';
  return {
    systemNamespace: values.namespace ?? env.SYSTEM_NAMESPACE ?? 'ebb-system',
    service: values.service ?? env.WEBHOOK_SERVICE ?? 'ebb-webhook',
    secretName: values.secret ?? env.WEBHOOK_SECRET ?? 'ebb-webhook-certs',
    port: port(values.port ?? env.WEBHOOK_PORT ?? '8443', '--port / WEBHOOK_PORT'),
    metricsPort: port(values['metrics-port'] ?? env.METRICS_PORT ?? '9090', '--metrics-port / METRICS_PORT'),
    mutatingWebhookConfigurations: names(
      values.mutating ?? env.WEBHOOK_MUTATING_CONFIGURATIONS ?? 'ebb-webhook-defaulting',
    ),
    validatingWebhookConfigurations: names(
      values.validating ??
        env.WEBHOOK_VALIDATING_CONFIGURATIONS ??
        'ebb-webhook-validation,ebb-webhook-config-validation',
    ),
  };
}

function listen(server: Server, portNumber: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(portNumber, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function runWebhook(argv: string[]): Promise<number> {
  let options: WebhookOptions | 'help';
  try {
    options = webhookOptions(argv);
  } catch (error) {
    process.stderr.write(
      `ebb webhook: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`,
    );
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  return serve(options, makeLogger('webhook'));
}

async function serve(options: WebhookOptions, log: Logger): Promise<number> {
  const stopSignal = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => {
      resolve('SIGTERM');
    });
    process.once('SIGINT', () => {
      resolve('SIGINT');
    });
  });

  const kc = loadKubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);

  collectDefaultMetrics({ register });
  const metrics = new WebhookMetrics(register);
  const configStore = new ConfigStore(kc, core, options.systemNamespace, log);
  let synced = false;
  let draining = false;
  const ready = (): boolean => synced && !draining;

  const plain = createOpsServer(register, ready);

  let server: WebhookServer | undefined;
  const certificates = new CertificateManager({
    core,
    admission,
    namespace: options.systemNamespace,
    secretName: options.secretName,
    service: options.service,
    mutatingWebhookConfigurations: options.mutatingWebhookConfigurations,
    validatingWebhookConfigurations: options.validatingWebhookConfigurations,
    logger: log,
    onCertificate: (certificate) => {
      if (server === undefined) return;
      server.setCertificate(certificate);
      log.info('serving a new certificate');
    },
  });

  const shutDown = async (why: string): Promise<number> => {
    log.info({ why }, 'shutting down');
    draining = true;
    certificates.stop();
    if (server !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, DRAIN_DELAY_MS));
      await server.close(DRAIN_GRACE_MS);
    }
    configStore.stop();
    plain.close();
    log.info('stopped');
    return 0;
  };

  try {
    await listen(plain, options.metricsPort);
    void configStore.start().then(() => {
      synced = true;
      log.info({ namespace: options.systemNamespace }, 'cluster config loaded');
    });
    const first = await Promise.race([certificates.start(), stopSignal]);
    if (typeof first === 'string') return await shutDown(first);
    server = new WebhookServer({
      certificate: first,
      admission: {
        clusterConfig: () => configStore.current,
        systemNamespace: options.systemNamespace,
        dryRunPod: apiServerDryRun(core),
      },
      logger: log,
      ready,
      onReview: metrics.observe,
    });
    await server.listen(options.port);
    log.info({ port: options.port, metricsPort: options.metricsPort }, 'webhook serving');
  } catch (error) {
    log.error({ err: error }, 'webhook failed to start');
    certificates.stop();
    configStore.stop();
    plain.close();
    return 1;
  }
  return await shutDown(await stopSignal);
}
