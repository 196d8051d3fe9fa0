import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Certificates of one node on disk: `<certsDir>/<domain>/<serial>/{cert.pem,key.pem,meta.json}`. A new
 * certificate is written BESIDE the one nginx serves (its own folder), the vhost is then switched to it; the
 * previous version stays until the next renewal, so a rollback is a vhost switch back, never a file copy.
 * Pure file handling: the caller has validated the domain (web-names.ts) before a path is built from it.
 */

export interface CertificateMeta {
  serial: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  /** The workflow that ordered it: a retried order activity finds its own certificate instead of re-ordering. */
  workflowId: string;
  /** Its run: every run of a domain shares the certificate workflow ID, so the ID alone names no order. */
  runId?: string;
}

export interface StoredCertificate extends CertificateMeta {
  certPath: string;
  keyPath: string;
}

/** Serial as upper-case hex without separators (what `openssl x509 -serial` and Node print). */
export function certificateMeta(certPem: string, workflowId: string, runId?: string): CertificateMeta {
  const x = new crypto.X509Certificate(certPem);
  return {
    serial: x.serialNumber.toUpperCase(),
    issuer: x.issuer.split('\n').join(', '),
    notBefore: new Date(x.validFrom).toISOString(),
    notAfter: new Date(x.validTo).toISOString(),
    workflowId,
    ...(runId ? { runId } : {}),
  };
}

export function domainDir(certsDir: string, domain: string): string {
  return path.join(certsDir, domain);
}

export function versionPaths(certsDir: string, domain: string, serial: string) {
  if (!/^[0-9A-F]{1,128}$/.test(serial)) throw new Error(`invalid certificate serial ${JSON.stringify(serial)}`);
  const dir = path.join(domainDir(certsDir, domain), serial);
  return { dir, certPath: path.join(dir, 'cert.pem'), keyPath: path.join(dir, 'key.pem'), metaPath: path.join(dir, 'meta.json') };
}

/** Writes a version atomically: into a temp folder, then renamed, so a half-written pair never exists. */
export function writeVersion(certsDir: string, domain: string, certPem: string, keyPem: string, meta: CertificateMeta): StoredCertificate {
  const p = versionPaths(certsDir, domain, meta.serial);
  fs.mkdirSync(path.dirname(p.dir), { recursive: true, mode: 0o700 });
  const tmp = `${p.dir}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  fs.mkdirSync(tmp, { mode: 0o700 });
  fs.writeFileSync(path.join(tmp, 'key.pem'), keyPem, { mode: 0o600 });
  fs.writeFileSync(path.join(tmp, 'cert.pem'), certPem, { mode: 0o644 });
  fs.writeFileSync(path.join(tmp, 'meta.json'), JSON.stringify(meta) + '\n', { mode: 0o644 });
  fs.rmSync(p.dir, { recursive: true, force: true });
  fs.renameSync(tmp, p.dir);
  return { ...meta, certPath: p.certPath, keyPath: p.keyPath };
}

export function readVersion(certsDir: string, domain: string, serial: string): StoredCertificate | null {
  const p = versionPaths(certsDir, domain, serial);
  try {
    const meta = JSON.parse(fs.readFileSync(p.metaPath, 'utf8')) as CertificateMeta;
    return { ...meta, certPath: p.certPath, keyPath: p.keyPath };
  } catch {
    return null;
  }
}

export function listVersions(certsDir: string, domain: string): StoredCertificate[] {
  let names: string[];
  try {
    names = fs.readdirSync(domainDir(certsDir, domain));
  } catch {
    return [];
  }
  return names
    .filter((n) => /^[0-9A-F]{1,128}$/.test(n))
    .map((n) => readVersion(certsDir, domain, n))
    .filter((v): v is StoredCertificate => v !== null);
}

/** Serial of a version folder from a cert path we wrote (`.../<domain>/<serial>/cert.pem`), else null. */
export function serialOfPath(certsDir: string, domain: string, certPath: string | undefined | null): string | null {
  if (!certPath) return null;
  const rel = path.relative(domainDir(certsDir, domain), certPath).split(path.sep);
  return rel.length === 2 && /^[0-9A-F]{1,128}$/.test(rel[0]!) ? rel[0]! : null;
}

export function removeVersion(certsDir: string, domain: string, serial: string): boolean {
  const p = versionPaths(certsDir, domain, serial);
  if (!fs.existsSync(p.dir)) return false;
  fs.rmSync(p.dir, { recursive: true, force: true });
  return true;
}

/** Leaves the domain folder as it was before any certificate if nothing is left in it. */
export function removeDomainDirIfEmpty(certsDir: string, domain: string): void {
  try {
    fs.rmdirSync(domainDir(certsDir, domain));
  } catch {
    // not empty or absent: nothing to do
  }
}
