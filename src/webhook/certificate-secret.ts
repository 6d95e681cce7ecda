// What the webhook's certificate Secret should hold, decided from what it holds now: keep it, issue
// a new serving certificate, or replace the CA as well. A replaced CA stays in `ca.crt` (after the
// current one) until it expires, so the API server keeps trusting serving certificates that other
// replicas still present while they pick up the new one. Pure; certificate-manager.ts does the I/O.
import { X509Certificate } from 'node:crypto';
import {
  DEFAULT_CA_VALIDITY_MS,
  DEFAULT_SERVING_VALIDITY_MS,
  createCertificateAuthority,
  createServingCertificate,
  rotationReason,
  type CertificateAndKey,
  serviceDnsNames,
  splitPemCertificates,
} from './certificates.ts';

export const SECRET_KEYS = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  cert: 'tls.crt',
  key: 'tls.key',
} as const;

/** The Secret's four entries, as PEM text. */
export type CertificateSecretData = {
  'ca.crt': string;
  'ca.key': string;
  'tls.crt': string;
  'tls.key': string;
};

export interface SecretPlanOptions {
  service: string;
  namespace: string;
  now: Date;
  caValidityMs?: number;
  servingValidityMs?: number;
}

export interface SecretPlan {
  data: CertificateSecretData;
  /** Why the data differs from what the Secret holds; empty when it needs no write. */
  changes: string[];
}

/** Certificates are renewed when less than this share of their validity is left. */
const RENEW_FRACTION = 1 / 3;

/** A CA certificate worth trusting still: it parses, is a CA, and has not expired. */
function usableCa(pem: string, now: Date): boolean {
  try {
    const cert = new X509Certificate(pem);
    return cert.ca && cert.validToDate.getTime() > now.getTime();
  } catch {
    return false;
  }
}

export async function planCertificateSecret(
  current: Readonly<Record<string, string>> | undefined,
  options: SecretPlanOptions,
): Promise<SecretPlan> {
  const { now } = options;
  const caValidityMs = options.caValidityMs ?? DEFAULT_CA_VALIDITY_MS;
  const servingValidityMs = options.servingValidityMs ?? DEFAULT_SERVING_VALIDITY_MS;
  const dnsNames = serviceDnsNames(options.service, options.namespace);
  const changes: string[] = [];

  const caCerts = splitPemCertificates(current?.[SECRET_KEYS.caCert] ?? '');
  const existingCa = caCerts[0];
  const existingCaKey = current?.[SECRET_KEYS.caKey] ?? '';
  let bundle = caCerts.filter((pem) => usableCa(pem, now));
  const caProblem =
    existingCa === undefined || existingCaKey === ''
      ? 'no CA'
      : rotationReason(existingCa, now, caValidityMs * RENEW_FRACTION, { ca: true, key: existingCaKey });
  let ca: CertificateAndKey;
  if (caProblem === undefined && existingCa !== undefined) {
    ca = { cert: existingCa, key: existingCaKey };
    if (bundle.length !== caCerts.length) changes.push('dropped expired CA certificates');
  } else {
    ca = await createCertificateAuthority({ now, validityMs: caValidityMs });
    bundle = [ca.cert, ...bundle];
    changes.push(`new CA (${caProblem ?? 'no CA'})`);
  }

  let cert = current?.[SECRET_KEYS.cert] ?? '';
  let key = current?.[SECRET_KEYS.key] ?? '';
  const servingProblem =
    caProblem !== undefined
      ? 'the CA changed'
      : cert === '' || key === ''
        ? 'no serving certificate'
        : rotationReason(cert, now, servingValidityMs * RENEW_FRACTION, {
            ca: false,
            dnsNames,
            issuer: ca.cert,
            key,
          });
  if (servingProblem !== undefined) {
    const serving = await createServingCertificate(ca, {
      dnsNames,
      commonName: dnsNames[2] ?? dnsNames[0],
      now,
      validityMs: servingValidityMs,
    });
    cert = serving.cert;
    key = serving.key;
    changes.push(`new serving certificate (${servingProblem})`);
  }

  return {
    data: { 'ca.crt': bundle.join(''), 'ca.key': ca.key, 'tls.crt': cert, 'tls.key': key },
    changes,
  };
}

/** The CA certificates the API server should trust: every unexpired one in `ca.crt`. */
export function caBundle(data: CertificateSecretData, now: Date): string {
  return splitPemCertificates(data['ca.crt'])
    .filter((pem) => usableCa(pem, now))
    .join('');
}
