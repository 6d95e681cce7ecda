import { describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { createCertificateAuthority, splitPemCertificates } from './certificates.ts';
import { caBundle, planCertificateSecret, type CertificateSecretData } from './certificate-secret.ts';

const DAY = 24 * 60 * 60 * 1000;
const T0 = new Date('2026-01-10T00:00:00Z');
const at = (days: number): Date => new Date(T0.getTime() + days * DAY);
const options = (now: Date) => ({ service: 'ebb-webhook', namespace: 'ebb-system', now });

const initial = await planCertificateSecret(undefined, options(T0));
// A CA with a third of its validity left; the serving certificate is renewed on schedule until then.
const beforeCaRotation = (await planCertificateSecret({ ...initial.data }, options(at(230)))).data;
const rotated = await planCertificateSecret({ ...beforeCaRotation }, options(at(250)));
const other = await createCertificateAuthority({ now: T0 });
const otherService = await planCertificateSecret(undefined, {
  service: 'old-name',
  namespace: 'ebb-system',
  now: T0,
});

function fingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

function servedBy(data: CertificateSecretData): { issuer: string; verifies: boolean } {
  const leaf = new X509Certificate(data['tls.crt']);
  const ca = new X509Certificate(splitPemCertificates(data['ca.crt'])[0] ?? '');
  return { issuer: leaf.issuer, verifies: leaf.checkIssued(ca) && leaf.verify(ca.publicKey) };
}

describe('planCertificateSecret', () => {
  it('creates a CA and a serving certificate for an empty Secret', () => {
    expect(initial.changes).toEqual(['new CA (no CA)', 'new serving certificate (the CA changed)']);
    expect(servedBy(initial.data)).toEqual({ issuer: 'CN=ebb-webhook-ca', verifies: true });
    const leaf = new X509Certificate(initial.data['tls.crt']);
    expect(leaf.subject).toBe('CN=ebb-webhook.ebb-system.svc');
    expect(leaf.checkHost('ebb-webhook.ebb-system.svc')).toBe('ebb-webhook.ebb-system.svc');
    expect(splitPemCertificates(initial.data['ca.crt'])).toHaveLength(1);
  });

  it.each([
    ['at once', 0],
    ['two thirds into the serving certificate', 19],
  ])('keeps a healthy Secret as it is %s', async (_name, days) => {
    const plan = await planCertificateSecret({ ...initial.data }, options(at(days)));
    expect(plan).toEqual({ data: initial.data, changes: [] });
  });

  it('renews the serving certificate with a third of its validity left, keeping the CA', async () => {
    const plan = await planCertificateSecret({ ...initial.data }, options(at(21)));
    expect(plan.changes).toEqual([
      expect.stringMatching(/^new serving certificate \(certificate expires at /),
    ]);
    expect(plan.data['ca.crt']).toBe(initial.data['ca.crt']);
    expect(plan.data['ca.key']).toBe(initial.data['ca.key']);
    expect(fingerprint(plan.data['tls.crt'])).not.toBe(fingerprint(initial.data['tls.crt']));
    expect(servedBy(plan.data).verifies).toBe(true);
  });

  describe('a CA with a third of its validity left', () => {
    const cas = splitPemCertificates(rotated.data['ca.crt']);

    it('is replaced along with the serving certificate', () => {
      expect(rotated.changes).toEqual([
        expect.stringMatching(/^new CA \(certificate expires at /),
        'new serving certificate (the CA changed)',
      ]);
      expect(servedBy(rotated.data).verifies).toBe(true);
      expect(rotated.data['ca.key']).not.toBe(initial.data['ca.key']);
    });

    it('stays trusted after the new one until it expires', () => {
      expect(cas.map(fingerprint)).toEqual([
        expect.any(String),
        fingerprint(splitPemCertificates(initial.data['ca.crt'])[0] ?? ''),
      ]);
      expect(caBundle(rotated.data, at(250))).toBe(rotated.data['ca.crt']);
      expect(splitPemCertificates(caBundle(rotated.data, at(366)))).toEqual([cas[0]]);
    });

    it('is dropped once expired', async () => {
      const later = await planCertificateSecret({ ...rotated.data }, options(at(255)));
      expect(later.changes).toEqual([]);
      const pruned = await planCertificateSecret({ ...rotated.data }, options(at(366)));
      expect(pruned.changes[0]).toBe('dropped expired CA certificates');
      expect(splitPemCertificates(pruned.data['ca.crt'])).toEqual([cas[0]]);
      expect(pruned.data['ca.key']).toBe(rotated.data['ca.key']);
    });
  });

  it.each<[string, Record<string, string>, RegExp[]]>([
    [
      'another Service name',
      otherService.data,
      [/^new serving certificate \(certificate names old-name, .* want ebb-webhook, /],
    ],
    [
      'a serving key that does not match',
      { ...initial.data, 'tls.key': other.key },
      [/^new serving certificate \(private key does not match/],
    ],
    [
      'no serving key',
      { ...initial.data, 'tls.key': '' },
      [/^new serving certificate \(no serving certificate\)$/],
    ],
    [
      'a serving certificate from another CA',
      { ...initial.data, 'ca.crt': other.cert, 'ca.key': other.key },
      [/^new serving certificate \(certificate is not signed by the current CA\)$/],
    ],
    ['no CA key', { ...initial.data, 'ca.key': '' }, [/^new CA \(no CA\)$/, /the CA changed/]],
    [
      'a CA key that does not match',
      { ...initial.data, 'ca.key': other.key },
      [/^new CA \(private key does not match/, /the CA changed/],
    ],
    [
      'a leaf where the CA should be',
      { ...initial.data, 'ca.crt': initial.data['tls.crt'] },
      [/^new CA \(certificate is not a CA\)$/, /the CA changed/],
    ],
    [
      'garbage',
      { 'ca.crt': 'x', 'ca.key': 'y', 'tls.crt': 'z', 'tls.key': 'w' },
      [/^new CA \(no CA\)$/, /the CA changed/],
    ],
  ])('repairs a Secret with %s', async (_name, data, reasons) => {
    const plan = await planCertificateSecret(data, options(T0));
    expect(plan.changes).toEqual(reasons.map((r) => expect.stringMatching(r)));
    expect(servedBy(plan.data).verifies).toBe(true);
    expect((await planCertificateSecret({ ...plan.data }, options(T0))).changes).toEqual([]);
  });

  it('keeps only CA certificates in the trust bundle', async () => {
    const plan = await planCertificateSecret(
      { ...initial.data, 'ca.crt': initial.data['tls.crt'] },
      options(T0),
    );
    expect(splitPemCertificates(plan.data['ca.crt'])).toHaveLength(1);
    expect(new X509Certificate(plan.data['ca.crt']).ca).toBe(true);
  });
});
