// Keeps the webhook's certificates current, at start and then periodically: the Secret holds the CA
// and serving certificate (created when missing, rotated by certificate-secret.ts's plan), and every
// webhook in the named webhook configurations carries the CA bundle. Replicas race safely: a write
// that loses (409) re-reads and adopts the winner's Secret. The serving certificate is handed over
// only once the API server trusts its CA.
import type { AdmissionregistrationV1Api, CoreV1Api, V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiMessage, isConflict, isNotFound } from '../controller/kube.ts';
import type { CertificateAndKey } from './certificates.ts';
import { caBundle, planCertificateSecret, type CertificateSecretData } from './certificate-secret.ts';

export interface CertificateManagerOptions {
  core: CoreV1Api;
  admission: AdmissionregistrationV1Api;
  namespace: string;
  secretName: string;
  /** The webhook's Service, whose DNS names the serving certificate carries. */
  service: string;
  mutatingWebhookConfigurations: readonly string[];
  validatingWebhookConfigurations: readonly string[];
  logger: Logger;
  /** Receives the serving certificate to present: the first one, then each replacement. */
  onCertificate: (certificate: CertificateAndKey) => void;
  /** How often to check everything again; default 10 minutes. */
  resyncMs?: number;
  /** How soon to try again after a failure or a missing webhook configuration; default 15 s. */
  retryMs?: number;
  caValidityMs?: number;
  servingValidityMs?: number;
}

const WRITE_ATTEMPTS = 3;

interface WebhookConfiguration {
  metadata?: { resourceVersion?: string };
  webhooks?: { clientConfig: { caBundle?: string } }[];
}

function decodeData(data: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(data ?? {}))
    out[key] = Buffer.from(value, 'base64').toString('utf8');
  return out;
}

function encodeData(data: CertificateSecretData): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) out[key] = Buffer.from(value, 'utf8').toString('base64');
  return out;
}

export class CertificateManager {
  private readonly options: CertificateManagerOptions;
  private readonly log: Logger;
  private served: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Ends start()'s wait between attempts early, on stop. */
  private wake: (() => void) | undefined;
  private stopped = false;

  constructor(options: CertificateManagerOptions) {
    this.options = options;
    this.log = options.logger;
  }

  /**
   * Ensures the certificates, retrying until that succeeds, and keeps ensuring them from then on.
   * Resolves with the first serving certificate (also given to onCertificate).
   */
  async start(): Promise<CertificateAndKey> {
    const retryMs = this.options.retryMs ?? 15_000;
    for (;;) {
      if (this.stopped) throw new Error('certificate manager stopped before certificates were ready');
      try {
        const { certificate, complete } = await this.ensure();
        this.schedule(complete ? undefined : retryMs);
        return certificate;
      } catch (error) {
        this.log.warn({ err: apiMessage(error) }, 'cannot set up webhook certificates yet; retrying');
        await new Promise<void>((resolve) => {
          this.timer = setTimeout(resolve, retryMs);
          this.wake = resolve;
        });
      }
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.wake?.();
  }

  private schedule(delayMs = this.options.resyncMs ?? 10 * 60_000): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ensure().then(
        ({ complete }) => {
          this.schedule(complete ? undefined : (this.options.retryMs ?? 15_000));
        },
        (error: unknown) => {
          this.log.error({ err: apiMessage(error) }, 'webhook certificate check failed');
          this.schedule(this.options.retryMs ?? 15_000);
        },
      );
    }, delayMs);
  }

  /**
   * One pass: the Secret, then the CA bundles, then the handover. `complete` is false when a
   * webhook configuration was missing, so the caller checks again soon.
   */
  async ensure(): Promise<{ certificate: CertificateAndKey; complete: boolean }> {
    const data = await this.ensureSecret();
    const bundle = Buffer.from(caBundle(data, new Date())).toString('base64');
    const missing: string[] = [];
    const admission = this.options.admission;
    for (const name of this.options.mutatingWebhookConfigurations) {
      const found = await this.injectCaBundle(
        'MutatingWebhookConfiguration',
        name,
        bundle,
        () => admission.readMutatingWebhookConfiguration({ name }),
        (body) => admission.replaceMutatingWebhookConfiguration({ name, body }),
      );
      if (!found) missing.push(name);
    }
    for (const name of this.options.validatingWebhookConfigurations) {
      const found = await this.injectCaBundle(
        'ValidatingWebhookConfiguration',
        name,
        bundle,
        () => admission.readValidatingWebhookConfiguration({ name }),
        (body) => admission.replaceValidatingWebhookConfiguration({ name, body }),
      );
      if (!found) missing.push(name);
    }
    if (missing.length > 0)
      this.log.warn(
        { missing },
        'webhook configurations not found; will patch their caBundle when they appear',
      );
    const certificate = { cert: data['tls.crt'], key: data['tls.key'] };
    if (certificate.cert !== this.served) {
      this.served = certificate.cert;
      this.options.onCertificate(certificate);
    }
    return { certificate, complete: missing.length === 0 };
  }

  private async readSecret(): Promise<V1Secret | undefined> {
    try {
      return await this.options.core.readNamespacedSecret({
        name: this.options.secretName,
        namespace: this.options.namespace,
      });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private async ensureSecret(): Promise<CertificateSecretData> {
    const { namespace, secretName: name } = this.options;
    for (let attempt = 1; ; attempt++) {
      const secret = await this.readSecret();
      const plan = await planCertificateSecret(secret === undefined ? undefined : decodeData(secret.data), {
        service: this.options.service,
        namespace,
        now: new Date(),
        ...(this.options.caValidityMs === undefined ? {} : { caValidityMs: this.options.caValidityMs }),
        ...(this.options.servingValidityMs === undefined
          ? {}
          : { servingValidityMs: this.options.servingValidityMs }),
      });
      if (plan.changes.length === 0) return plan.data;
      try {
        if (secret === undefined) {
          await this.options.core.createNamespacedSecret({
            namespace,
            body: {
              apiVersion: 'v1',
              kind: 'Secret',
              metadata: { name, namespace },
              type: 'Opaque',
              data: encodeData(plan.data),
            },
          });
        } else {
          // The read resourceVersion makes this conditional: a concurrent writer gets a 409.
          secret.data = { ...secret.data, ...encodeData(plan.data) };
          await this.options.core.replaceNamespacedSecret({ name, namespace, body: secret });
        }
        this.log.info(
          { secret: `${namespace}/${name}`, changes: plan.changes },
          'wrote webhook certificates',
        );
        return plan.data;
      } catch (error) {
        if (!isConflict(error) || attempt >= WRITE_ATTEMPTS) throw error;
        this.log.info(
          { secret: `${namespace}/${name}` },
          'another replica wrote the certificates first; re-reading',
        );
      }
    }
  }

  /** Sets caBundle on every webhook of one configuration; false when the configuration does not exist. */
  private async injectCaBundle<T extends WebhookConfiguration>(
    kind: string,
    name: string,
    bundle: string,
    read: () => Promise<T>,
    replace: (body: T) => Promise<unknown>,
  ): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      let config: T;
      try {
        config = await read();
      } catch (error) {
        if (isNotFound(error)) return false;
        throw error;
      }
      const webhooks = config.webhooks ?? [];
      if (webhooks.every((w) => w.clientConfig.caBundle === bundle)) return true;
      for (const webhook of webhooks) webhook.clientConfig.caBundle = bundle;
      try {
        await replace(config);
        this.log.info({ kind, name, webhooks: webhooks.length }, 'patched caBundle');
        return true;
      } catch (error) {
        if (!isConflict(error) || attempt >= WRITE_ATTEMPTS) throw error;
      }
    }
  }
}
