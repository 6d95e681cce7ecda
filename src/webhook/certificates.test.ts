import 'reflect-metadata'; // before @peculiar/x509, as certificates.ts does
import { describe, expect, it } from '@jest/globals';
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate as ParsedCertificate,
} from '@peculiar/x509';
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type TLSSocket } from 'node:tls';
import {
  DEFAULT_CA_VALIDITY_MS,
  DEFAULT_SERVING_VALIDITY_MS,
  createCertificateAuthority,
  createServingCertificate,
  dnsNamesOf,
  needsRotation,
  rotationReason,
  serviceDnsNames,
  splitPemCertificates,
  type CertificateAndKey,
} from './certificates.ts';

const NOW = new Date('2026-03-01T12:00:00Z');
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const NAMES = serviceDnsNames('ebb-webhook', 'ebb-system');
const ca = await createCertificateAuthority({ now: NOW });
const serving = await createServingCertificate(ca, { dnsNames: NAMES, now: NOW });
const otherCa = await createCertificateAuthority({ commonName: 'someone-else' });

describe('serviceDnsNames', () => {
  it('lists the names a Service answers to', () => {
    expect(NAMES).toEqual([
      'ebb-webhook',
      'ebb-webhook.ebb-system',
      'ebb-webhook.ebb-system.svc',
      'ebb-webhook.ebb-system.svc.cluster.local',
    ]);
  });
});

describe('createCertificateAuthority', () => {
  const cert = new X509Certificate(ca.cert);

  it('is a self-signed CA for its own key', () => {
    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe('CN=ebb-webhook-ca');
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(ca.key))).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it('is valid from an hour before now for the default year', () => {
    expect(cert.validFromDate).toEqual(new Date(NOW.getTime() - HOUR));
    expect(cert.validToDate).toEqual(new Date(NOW.getTime() + DEFAULT_CA_VALIDITY_MS));
  });

  it('takes a common name and validity', async () => {
    const custom = new X509Certificate(
      (await createCertificateAuthority({ now: NOW, commonName: 'test-ca', validityMs: 2 * DAY })).cert,
    );
    expect(custom.subject).toBe('CN=test-ca');
    expect(custom.validToDate).toEqual(new Date(NOW.getTime() + 2 * DAY));
  });

  it('gives every certificate a fresh positive 16-byte serial', () => {
    const serials = [ca, otherCa].map((c) => new X509Certificate(c.cert).serialNumber);
    expect(new Set(serials).size).toBe(2);
    for (const serial of serials) expect(serial).toMatch(/^[4-7][0-9A-F]{31}$/);
  });
});

describe('createServingCertificate', () => {
  const cert = new X509Certificate(serving.cert);
  const caCert = new X509Certificate(ca.cert);

  it('is a serverAuth leaf signed by the CA', () => {
    expect(cert.ca).toBe(false);
    expect(cert.issuer).toBe('CN=ebb-webhook-ca');
    expect(cert.subject).toBe('CN=ebb-webhook');
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.verify(new X509Certificate(otherCa.cert).publicKey)).toBe(false);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(cert.checkPrivateKey(createPrivateKey(serving.key))).toBe(true);
  });

  it.each(NAMES)('is valid for %s', (name) => {
    expect(cert.checkHost(name)).toBe(name);
  });

  it.each(['other.ebb-system.svc', 'ebb-webhook.default.svc', 'localhost'])('is not valid for %s', (name) => {
    expect(cert.checkHost(name)).toBeUndefined();
  });

  it('lists exactly the DNS names it was given', () => {
    expect(dnsNamesOf(cert)).toEqual(NAMES);
  });

  it('is valid from an hour before now for the default 30 days', () => {
    expect(cert.validFromDate).toEqual(new Date(NOW.getTime() - HOUR));
    expect(cert.validToDate).toEqual(new Date(NOW.getTime() + DEFAULT_SERVING_VALIDITY_MS));
  });

  it('never outlives its CA', async () => {
    const shortCa = await createCertificateAuthority({ now: NOW, validityMs: 2 * DAY });
    const leaf = new X509Certificate(
      (await createServingCertificate(shortCa, { dnsNames: NAMES, now: NOW })).cert,
    );
    expect(leaf.validToDate).toEqual(new X509Certificate(shortCa.cert).validToDate);
  });

  it('takes a common name and validity', async () => {
    const leaf = new X509Certificate(
      (
        await createServingCertificate(ca, {
          dnsNames: ['a.b.svc'],
          commonName: 'cn',
          now: NOW,
          validityMs: DAY,
        })
      ).cert,
    );
    expect(leaf.subject).toBe('CN=cn');
    expect(leaf.validToDate).toEqual(new Date(NOW.getTime() + DAY));
  });

  it.each<[string, CertificateAndKey, string[], RegExp]>([
    ['no DNS names', ca, [], /at least one DNS name/],
    ['a leaf as issuer', serving, NAMES, /not a CA/],
    ['a CA with another key', { cert: ca.cert, key: otherCa.key }, NAMES, /does not match/],
  ])('refuses %s', async (_name, issuer, dnsNames, error) => {
    await expect(createServingCertificate(issuer, { dnsNames, now: NOW })).rejects.toThrow(error);
  });
});

/** RFC 7093 §2 method 4 (SHA-256 of the SubjectPublicKeyInfo, first 160 bits), computed here on its own. */
function keyIdOf(pem: string): string {
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest().subarray(0, 20).toString('hex');
}

/** A certificate's extensions in order, each as its kind, criticality and value. */
function extensionsOf(pem: string): unknown[] {
  return new ParsedCertificate(pem).extensions.map((ext) => {
    const { critical } = ext;
    if (ext instanceof BasicConstraintsExtension)
      return { basicConstraints: { ca: ext.ca, pathLength: ext.pathLength }, critical };
    if (ext instanceof KeyUsagesExtension) return { keyUsage: ext.usages, critical };
    if (ext instanceof ExtendedKeyUsageExtension) return { extKeyUsage: ext.usages, critical };
    if (ext instanceof SubjectAlternativeNameExtension)
      return { subjectAltName: ext.names.toJSON(), critical };
    if (ext instanceof SubjectKeyIdentifierExtension) return { subjectKeyId: ext.keyId, critical };
    if (ext instanceof AuthorityKeyIdentifierExtension) return { authorityKeyId: ext.keyId, critical };
    return { unexpected: ext.type, critical };
  });
}

describe('the encoding', () => {
  it('makes the CA a critical pathLen 0 CA for signing certificates, with RFC 7093 key identifiers', () => {
    expect(extensionsOf(ca.cert)).toEqual([
      { basicConstraints: { ca: true, pathLength: 0 }, critical: true },
      {
        keyUsage: KeyUsageFlags.digitalSignature | KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign,
        critical: true,
      },
      { subjectKeyId: keyIdOf(ca.cert), critical: false },
      { authorityKeyId: keyIdOf(ca.cert), critical: false },
    ]);
  });

  it('makes the serving certificate a critical non-CA for signatures and serverAuth, naming its DNS names', () => {
    expect(extensionsOf(serving.cert)).toEqual([
      { basicConstraints: { ca: false, pathLength: undefined }, critical: true },
      { keyUsage: KeyUsageFlags.digitalSignature, critical: true },
      { extKeyUsage: ['1.3.6.1.5.5.7.3.1'], critical: false },
      { subjectAltName: NAMES.map((value) => ({ type: 'dns', value })), critical: false },
      { subjectKeyId: keyIdOf(serving.cert), critical: false },
      { authorityKeyId: keyIdOf(ca.cert), critical: false },
    ]);
  });

  it.each([
    ['CA', ca.cert],
    ['serving certificate', serving.cert],
  ])('signs the %s with ECDSA P-256 and SHA-256', (_name, pem) => {
    expect(new ParsedCertificate(pem).signatureAlgorithm).toEqual({
      name: 'ECDSA',
      hash: { name: 'SHA-256' },
    });
    expect(new X509Certificate(pem).publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it('writes names as UTF8String, as the CAs in Secrets written by earlier versions have them', () => {
    const utf8 = (text: string): Buffer =>
      Buffer.concat([Buffer.from([0x0c, text.length]), Buffer.from(text)]);
    expect(new X509Certificate(ca.cert).raw.includes(utf8('ebb-webhook-ca'))).toBe(true);
    expect(new X509Certificate(serving.cert).raw.includes(utf8('ebb-webhook'))).toBe(true);
  });

  it('writes whole seconds, and dates from 2050 on that read back (GeneralizedTime)', async () => {
    const late = new X509Certificate(
      (await createCertificateAuthority({ now: new Date('2049-12-31T12:00:00.750Z'), validityMs: DAY })).cert,
    );
    expect(late.validFromDate).toEqual(new Date('2049-12-31T11:00:00Z'));
    expect(late.validToDate).toEqual(new Date('2050-01-01T12:00:00Z'));
  });

  it('writes PEM the way Secrets and caBundle hold it', () => {
    for (const pem of [ca.cert, serving.cert]) {
      expect(pem).toMatch(
        /^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END CERTIFICATE-----\n$/,
      );
    }
    expect(serving.key).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
  });
});

describe('splitPemCertificates', () => {
  it('splits a bundle into blocks', () => {
    const bundle = `${ca.cert}junk\n${otherCa.cert}`;
    expect(splitPemCertificates(bundle)).toEqual([ca.cert, otherCa.cert]);
    expect(splitPemCertificates('')).toEqual([]);
  });
});

describe('rotationReason', () => {
  const renew = 10 * DAY;
  it.each<[string, string, Date, Parameters<typeof rotationReason>[3], RegExp | undefined]>([
    ['a fresh certificate', serving.cert, NOW, {}, undefined],
    [
      'a fresh certificate meeting every expectation',
      serving.cert,
      NOW,
      { dnsNames: [...NAMES].reverse(), issuer: ca.cert, key: serving.key, ca: false },
      undefined,
    ],
    ['one inside the renewal window', serving.cert, new Date(NOW.getTime() + 21 * DAY), {}, /expires at/],
    ['an expired one', serving.cert, new Date(NOW.getTime() + 31 * DAY), {}, /expires at/],
    ['one not valid yet', serving.cert, new Date(NOW.getTime() - 2 * HOUR), {}, /not valid before/],
    [
      'other DNS names',
      serving.cert,
      NOW,
      { dnsNames: ['ebb-webhook.other.svc'] },
      /want ebb-webhook.other.svc/,
    ],
    ['a different issuer', serving.cert, NOW, { issuer: otherCa.cert }, /not signed by the current CA/],
    ['an unparsable issuer', serving.cert, NOW, { issuer: 'nope' }, /CA certificate does not parse/],
    ['another key', serving.cert, NOW, { key: otherCa.key }, /does not match/],
    ['an unparsable key', serving.cert, NOW, { key: 'nope' }, /private key does not parse/],
    ['a leaf where a CA is wanted', serving.cert, NOW, { ca: true }, /not a CA/],
    ['a CA where a leaf is wanted', ca.cert, NOW, { ca: false }, /is a CA/],
    ['garbage', 'not a certificate', NOW, {}, /does not parse/],
  ])('%s', (_name, cert, now, expect_, want) => {
    const reason = rotationReason(cert, now, renew, expect_);
    if (want === undefined) expect(reason).toBeUndefined();
    else expect(reason).toMatch(want);
    expect(needsRotation(cert, now, renew, expect_)).toBe(want !== undefined);
  });
});

/** Handshakes with a TLS server on loopback holding `server`, trusting `trust`, asking for `servername`. */
async function handshake(
  server: CertificateAndKey,
  trust: string,
  servername: string,
): Promise<{ authorized: boolean; error?: string; fingerprint?: string }> {
  const tlsServer = createServer({ cert: server.cert, key: server.key }, (socket) => socket.end());
  tlsServer.listen(0, '127.0.0.1');
  await once(tlsServer, 'listening');
  const { port } = tlsServer.address() as AddressInfo;
  try {
    const socket: TLSSocket = connect({ host: '127.0.0.1', port, ca: trust, servername });
    try {
      await once(socket, 'secureConnect');
      return { authorized: socket.authorized, fingerprint: socket.getPeerX509Certificate()?.fingerprint256 };
    } catch (error) {
      return { authorized: false, error: (error as { code?: string }).code ?? String(error) };
    } finally {
      socket.destroy();
    }
  } finally {
    tlsServer.close();
  }
}

// OpenSSL checks validity against the real clock.
const liveCa = await createCertificateAuthority();
const live = await createServingCertificate(liveCa, { dnsNames: NAMES });

describe('a TLS handshake on loopback', () => {
  it('succeeds with the CA as trust root and a Service name', async () => {
    const result = await handshake(live, liveCa.cert, 'ebb-webhook.ebb-system.svc');
    expect(result).toEqual({
      authorized: true,
      fingerprint: new X509Certificate(live.cert).fingerprint256,
    });
  });

  it('trusts a bundle that holds the CA after a newer one', async () => {
    const result = await handshake(live, `${otherCa.cert}${liveCa.cert}`, 'ebb-webhook.ebb-system.svc');
    expect(result.authorized).toBe(true);
  });

  it('fails for a name the certificate does not carry', async () => {
    const result = await handshake(live, liveCa.cert, 'evil.example.com');
    expect(result).toEqual({ authorized: false, error: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });

  it('fails against another CA', async () => {
    const result = await handshake(live, otherCa.cert, 'ebb-webhook.ebb-system.svc');
    expect(result.authorized).toBe(false);
    expect(result.error).toMatch(/UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
  });
});
