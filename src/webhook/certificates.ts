// The webhook's own PKI: an ECDSA P-256 CA, a serving certificate it signs for the webhook
// Service's DNS names, and the checks that say when either must be replaced. @peculiar/x509 encodes
// and signs (with node's WebCrypto); node:crypto makes the keys and does every check. Everything is
// PEM in, PEM out; nothing here touches the network or the clock unless told `now`.
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  type Extension,
  KeyUsageFlags,
  KeyUsagesExtension,
  Name,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509CertificateGenerator,
  X509Certificate as ParsedCertificate,
} from '@peculiar/x509';
import {
  X509Certificate,
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  webcrypto,
  type KeyObject,
} from 'node:crypto';

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

const P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

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

/** A name of one commonName, as a UTF8String (RFC 5280 §4.1.2.4). */
function distinguishedName(commonName: string): Name {
  return new Name([{ CN: [{ utf8String: commonName }] }]);
}

/** RFC 7093 §2 method 4: the leftmost 160 bits of the SHA-256 of the SubjectPublicKeyInfo, as hex. */
function keyIdentifier(publicKey: KeyObject): string {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest().subarray(0, 20).toString('hex');
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40; // positive, and never shortened to fewer than 16 bytes
  return bytes.toString('hex');
}

function p256Key(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new Error(`${what} must be an ECDSA P-256 key`);
  return key;
}

interface Issuer {
  name: Name;
  keyId: string;
  key: KeyObject;
}

interface Subject {
  name: Name;
  publicKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  extensions: Extension[];
}

/** Builds and signs an X.509 v3 certificate (RFC 5280 §4.1) with ECDSA SHA-256, returning its PEM. */
async function issue(subject: Subject, issuer: Issuer): Promise<string> {
  const cert = await X509CertificateGenerator.create(
    {
      serialNumber: serialNumber(),
      subject: subject.name,
      issuer: issuer.name,
      notBefore: subject.notBefore,
      notAfter: subject.notAfter,
      publicKey: subject.publicKey.export({ type: 'spki', format: 'der' }),
      signingKey: issuer.key.toCryptoKey(P256, false, ['sign']),
      signingAlgorithm: ECDSA_SHA256,
      extensions: [
        ...subject.extensions,
        new SubjectKeyIdentifierExtension(keyIdentifier(subject.publicKey)),
        new AuthorityKeyIdentifierExtension(issuer.keyId),
      ],
    },
    webcrypto,
  );
  return `${cert.toString('pem')}\n`;
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
export async function createCertificateAuthority(
  options: CertificateAuthorityOptions = {},
): Promise<CertificateAndKey> {
  const now = options.now ?? new Date();
  const { publicKey, privateKey } = newKeyPair();
  const name = distinguishedName(options.commonName ?? 'ebb-webhook-ca');
  const cert = await issue(
    {
      name,
      publicKey,
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter: new Date(now.getTime() + (options.validityMs ?? DEFAULT_CA_VALIDITY_MS)),
      extensions: [
        new BasicConstraintsExtension(true, 0, true),
        new KeyUsagesExtension(
          KeyUsageFlags.digitalSignature | KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign,
          true,
        ),
      ],
    },
    { name, keyId: keyIdentifier(publicKey), key: privateKey },
  );
  return { cert, key: privateKeyPem(privateKey) };
}

/**
 * The CA certificate's subject, parsed and re-encoded with each attribute's string type kept (a
 * leaf's issuer must match it; CAs from earlier versions come out byte for byte the same), and its
 * subjectKeyIdentifier when it has one.
 */
function issuerFields(ca: X509Certificate): { name: Name; keyId: string } {
  const parsed = new ParsedCertificate(ca.raw);
  const keyId = parsed.getExtension(SubjectKeyIdentifierExtension)?.keyId;
  return { name: parsed.subjectName, keyId: keyId ?? keyIdentifier(ca.publicKey) };
}

export interface ServingCertificateOptions {
  dnsNames: readonly string[];
  /** Defaults to the first DNS name. */
  commonName?: string;
  now?: Date;
  validityMs?: number;
}

/** A serverAuth certificate for `dnsNames`, signed by `ca`; it never outlives the CA. */
export async function createServingCertificate(
  ca: CertificateAndKey,
  options: ServingCertificateOptions,
): Promise<CertificateAndKey> {
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
  const cert = await issue(
    {
      name: distinguishedName(options.commonName ?? first),
      publicKey,
      notBefore: new Date(Math.max(now.getTime() - BACKDATE_MS, caCert.validFromDate.getTime())),
      notAfter: new Date(notAfter),
      extensions: [
        new BasicConstraintsExtension(false, undefined, true),
        new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
        new ExtendedKeyUsageExtension([ExtendedKeyUsage.serverAuth]),
        new SubjectAlternativeNameExtension(options.dnsNames.map((value) => ({ type: 'dns', value }))),
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
