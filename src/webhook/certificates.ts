// The webhook's own PKI, with node:crypto only: an ECDSA P-256 CA, a serving certificate it signs
// for the webhook Service's DNS names, and the checks that say when either must be replaced.
// Everything is PEM in, PEM out; nothing here touches the network or the clock unless told `now`.
import {
  X509Certificate,
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  type KeyObject,
} from 'node:crypto';
import {
  bitString,
  boolean,
  children,
  explicit,
  implicit,
  integer,
  namedBits,
  octetString,
  oid,
  readNode,
  sequence,
  set,
  time,
  utf8String,
} from './der.ts';

/** A certificate and its private key, both PEM (the key as PKCS #8). */
export interface CertificateAndKey {
  cert: string;
  key: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_CA_VALIDITY_MS = 365 * DAY_MS;
export const DEFAULT_SERVING_VALIDITY_MS = 30 * DAY_MS;
/** notBefore is set this far in the past, so a peer whose clock lags a little still accepts it. */
const BACKDATE_MS = 60 * 60 * 1000;

const OID = {
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

/** keyUsage bit numbers (RFC 5280 §4.2.1.3). */
const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

/** The names a Service is reached by from inside the cluster; the API server uses `<svc>.<ns>.svc`. */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ];
}

/** Every certificate in a PEM bundle, each normalised to its own PEM block. */
export function splitPemCertificates(pem: string): string[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map(
    (block) => `${block}\n`,
  );
}

function distinguishedName(commonName: string): Buffer {
  return sequence(set(sequence(oid(OID.commonName), utf8String(commonName))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical
    ? sequence(oid(id), boolean(true), octetString(value))
    : sequence(oid(id), octetString(value));
}

/** RFC 7093 §2 method 4: the leftmost 160 bits of the SHA-256 of the SubjectPublicKeyInfo. */
function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest().subarray(0, 20);
}

function serialNumber(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40; // positive, and never shortened to fewer than 16 bytes
  return bytes;
}

function p256Key(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new Error(`${what} must be an ECDSA P-256 key`);
  return key;
}

interface Issuer {
  name: Buffer;
  keyId: Buffer;
  key: KeyObject;
}

interface Subject {
  name: Buffer;
  publicKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  extensions: Buffer[];
}

/** Encodes and signs an X.509 v3 certificate (RFC 5280 §4.1), returning its PEM. */
function issue(subject: Subject, issuer: Issuer): string {
  const algorithm = sequence(oid(OID.ecdsaWithSHA256));
  const tbs = sequence(
    explicit(0, integer(2)),
    integer(serialNumber()),
    algorithm,
    issuer.name,
    sequence(time(subject.notBefore), time(subject.notAfter)),
    subject.name,
    subject.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...subject.extensions)),
  );
  const signature = sign('sha256', tbs, issuer.key);
  const der = sequence(tbs, algorithm, bitString(signature));
  const body = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${body}-----END CERTIFICATE-----\n`;
}

function newKeyPair(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

function privateKeyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export interface CertificateAuthorityOptions {
  commonName?: string;
  now?: Date;
  validityMs?: number;
}

/** A self-signed CA that may sign end-entity certificates only (pathLen 0). */
export function createCertificateAuthority(options: CertificateAuthorityOptions = {}): CertificateAndKey {
  const now = options.now ?? new Date();
  const { publicKey, privateKey } = newKeyPair();
  const keyId = keyIdentifier(publicKey);
  const name = distinguishedName(options.commonName ?? 'ebb-webhook-ca');
  const cert = issue(
    {
      name,
      publicKey,
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter: new Date(now.getTime() + (options.validityMs ?? DEFAULT_CA_VALIDITY_MS)),
      extensions: [
        extension(OID.basicConstraints, true, sequence(boolean(true), integer(0))),
        extension(
          OID.keyUsage,
          true,
          namedBits([KEY_USAGE.digitalSignature, KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign]),
        ),
        extension(OID.subjectKeyIdentifier, false, octetString(keyId)),
        extension(OID.authorityKeyIdentifier, false, sequence(implicit(0, keyId))),
      ],
    },
    { name, keyId, key: privateKey },
  );
  return { cert, key: privateKeyPem(privateKey) };
}

/**
 * The CA certificate's subject (exactly as encoded, since chains are matched byte for byte) and
 * its subjectKeyIdentifier when it has one.
 */
function issuerFields(ca: X509Certificate): { name: Buffer; keyId: Buffer } {
  const tbs = children(readNode(ca.raw))[0];
  if (tbs === undefined) throw new Error('CA certificate: no TBSCertificate');
  const fields = children(tbs);
  // version [0] is present in every v3 certificate; serial, signature, issuer, validity follow.
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0;
  const name = fields[offset + 4]?.raw;
  if (name === undefined) throw new Error('CA certificate: no subject');
  let keyId: Buffer | undefined;
  const explicitExtensions = fields.find((f) => f.tag === 0xa3);
  const extensions = explicitExtensions === undefined ? undefined : children(explicitExtensions)[0];
  const skiOid = oid(OID.subjectKeyIdentifier);
  for (const ext of extensions === undefined ? [] : children(extensions)) {
    const parts = children(ext);
    if (parts[0]?.raw.equals(skiOid) !== true) continue;
    const value = parts[parts.length - 1];
    if (value !== undefined) keyId = readNode(value.content).content;
  }
  return { name: Buffer.from(name), keyId: keyId ?? keyIdentifier(ca.publicKey) };
}

export interface ServingCertificateOptions {
  dnsNames: readonly string[];
  /** Defaults to the first DNS name. */
  commonName?: string;
  now?: Date;
  validityMs?: number;
}

/** A serverAuth certificate for `dnsNames`, signed by `ca`; it never outlives the CA. */
export function createServingCertificate(
  ca: CertificateAndKey,
  options: ServingCertificateOptions,
): CertificateAndKey {
  const [first] = options.dnsNames;
  if (first === undefined) throw new Error('a serving certificate needs at least one DNS name');
  const caCert = new X509Certificate(ca.cert);
  if (!caCert.ca) throw new Error('the issuing certificate is not a CA');
  const caKey = p256Key(createPrivateKey(ca.key), 'the CA key');
  if (!caCert.checkPrivateKey(caKey)) throw new Error('the CA key does not match the CA certificate');
  const now = options.now ?? new Date();
  const notAfter = Math.min(
    now.getTime() + (options.validityMs ?? DEFAULT_SERVING_VALIDITY_MS),
    caCert.validToDate.getTime(),
  );
  const { publicKey, privateKey } = newKeyPair();
  const issuer = issuerFields(caCert);
  const cert = issue(
    {
      name: distinguishedName(options.commonName ?? first),
      publicKey,
      notBefore: new Date(Math.max(now.getTime() - BACKDATE_MS, caCert.validFromDate.getTime())),
      notAfter: new Date(notAfter),
      extensions: [
        extension(OID.basicConstraints, true, sequence()),
        extension(OID.keyUsage, true, namedBits([KEY_USAGE.digitalSignature])),
        extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))),
        extension(
          OID.subjectAltName,
          false,
          sequence(...options.dnsNames.map((n) => implicit(2, Buffer.from(n, 'ascii')))),
        ),
        extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(publicKey))),
        extension(OID.authorityKeyIdentifier, false, sequence(implicit(0, issuer.keyId))),
      ],
    },
    { ...issuer, key: caKey },
  );
  return { cert, key: privateKeyPem(privateKey) };
}

/** The DNS names in a certificate's subjectAltName. */
export function dnsNamesOf(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4));
}

export interface RotationExpectations {
  /** The certificate must name exactly these DNS names (in any order). */
  dnsNames?: readonly string[];
  /** The certificate must be issued and signed by this CA (PEM). */
  issuer?: string;
  /** The certificate must belong to this private key (PEM). */
  key?: string;
  /** The certificate must (true) or must not (false) be a CA. */
  ca?: boolean;
}

/**
 * Why `certPem` should be replaced at `now`, or undefined when it is fine: unparsable, not
 * matching the expectations, not yet valid, or within `renewBeforeMs` of expiry.
 */
export function rotationReason(
  certPem: string,
  now: Date,
  renewBeforeMs: number,
  expect: RotationExpectations = {},
): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (error) {
    return `certificate does not parse: ${(error as Error).message}`;
  }
  if (expect.ca !== undefined && cert.ca !== expect.ca)
    return expect.ca ? 'certificate is not a CA' : 'certificate is a CA';
  if (expect.dnsNames !== undefined) {
    const have = [...new Set(dnsNamesOf(cert))].sort();
    const want = [...new Set(expect.dnsNames)].sort();
    if (have.join(',') !== want.join(','))
      return `certificate names ${have.join(', ') || 'no DNS names'}, want ${want.join(', ')}`;
  }
  if (expect.issuer !== undefined) {
    try {
      const issuer = new X509Certificate(expect.issuer);
      if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey))
        return 'certificate is not signed by the current CA';
    } catch (error) {
      return `CA certificate does not parse: ${(error as Error).message}`;
    }
  }
  if (expect.key !== undefined) {
    try {
      if (!cert.checkPrivateKey(createPrivateKey(expect.key)))
        return 'private key does not match the certificate';
    } catch (error) {
      return `private key does not parse: ${(error as Error).message}`;
    }
  }
  if (cert.validFromDate.getTime() > now.getTime())
    return `certificate is not valid before ${cert.validFromDate.toISOString()}`;
  if (cert.validToDate.getTime() - now.getTime() <= renewBeforeMs)
    return `certificate expires at ${cert.validToDate.toISOString()}`;
  return undefined;
}

/** True when `certPem` should be replaced now; see rotationReason for the why. */
export function needsRotation(
  certPem: string,
  now: Date,
  renewBeforeMs: number,
  expect: RotationExpectations = {},
): boolean {
  return rotationReason(certPem, now, renewBeforeMs, expect) !== undefined;
}
