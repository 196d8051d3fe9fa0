import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { isDomainName } from '../common/names';
import { servedCertificate } from './tls-probe';

const run = promisify(execFile);

/**
 * The certificates the mail daemons (Dovecot's IMAP/IMAPS, Exim's SMTP/submission) and Pure-FTPd present,
 * one folder per node: `default.crt/.key` (the node's own pair, for names without a certificate) and
 * `<domain>.crt/.key` for every domain whose certificate NPanel issued. The served copy is the one nginx
 * serves: `publishMailCertificate` copies it here at every install, restore and removal.
 *
 * Who reads what: Dovecot's config process (root) reads the pairs named in `dovecotSniConf`; Exim, which runs
 * as Debian-exim, looks its pair up per connection by SNI (`dsearch` on this folder), so the folder and the
 * keys are group `eximGid`, 0750/0640; nobody else may read a key.
 */
export interface MailTlsConfig {
  dir: string;
  /** Dovecot include with one `local_name` block per domain (written here, included by dovecot.conf). */
  dovecotSniConf: string;
  /** Group that may read the keys (Exim's). */
  eximGid: number;
  /** For `doveadm -c CONF reload`; absent: no Dovecot on this node. */
  doveConf?: string;
  doveadmBin?: string;
  /** Dovecot's IMAPS listener: after a reload, publishing waits until it serves the new pair. */
  imaps?: { host: string; port: number };
}

export const DEFAULT_PAIR = 'default';

export function pairPaths(dir: string, name: string): { cert: string; key: string } {
  // A pair is named by a domain in its stored form (or "default"): never a slash, never a dot at the start.
  if (name !== DEFAULT_PAIR && !isDomainName(name)) throw new Error(`invalid certificate name ${JSON.stringify(name)}`);
  return { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
}

function writeAtomic(file: string, content: string | Buffer, mode: number, gid: number): void {
  const tmp = `${file}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  fs.writeFileSync(tmp, content, { mode });
  fs.chownSync(tmp, 0, gid);
  fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, file);
}

function readOrNull(file: string): Buffer | null {
  try {
    return fs.readFileSync(file);
  } catch {
    return null;
  }
}

export function initMailTlsDir(c: Pick<MailTlsConfig, 'dir' | 'eximGid'>): void {
  fs.mkdirSync(c.dir, { recursive: true, mode: 0o750 });
  fs.chownSync(c.dir, 0, c.eximGid);
  fs.chmodSync(c.dir, 0o750);
}

const pending = new Map<string, Promise<void>>();

/**
 * The node's own pair, made once (EC P-256: instant) and kept across restarts. Dovecot and Pure-FTPd start
 * side by side, so concurrent callers share one openssl run.
 */
export function ensureDefaultPair(c: Pick<MailTlsConfig, 'dir' | 'eximGid'>, hostname: string): Promise<void> {
  const { cert, key } = pairPaths(c.dir, DEFAULT_PAIR);
  if (fs.existsSync(cert) && fs.existsSync(key)) return Promise.resolve();
  const running = pending.get(c.dir);
  if (running) return running;
  const made = (async () => {
    initMailTlsDir(c);
    const tmpKey = `${key}.new`;
    const tmpCert = `${cert}.new`;
    await run(
      'openssl',
      [
        'req',
        '-x509',
        '-nodes',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-keyout',
        tmpKey,
        '-out',
        tmpCert,
        '-days',
        '3650',
        '-subj',
        `/CN=${hostname}`,
      ],
      { timeout: 10_000 },
    );
    fs.chownSync(tmpKey, 0, c.eximGid);
    fs.chmodSync(tmpKey, 0o640);
    fs.chmodSync(tmpCert, 0o644);
    fs.renameSync(tmpKey, key);
    fs.renameSync(tmpCert, cert);
  })().finally(() => pending.delete(c.dir));
  pending.set(c.dir, made);
  return made;
}

/** Domains with a pair in the folder (the default pair excluded). */
export function publishedDomains(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.crt') && n !== `${DEFAULT_PAIR}.crt`)
    .map((n) => n.slice(0, -'.crt'.length))
    .filter((d) => /^[a-z0-9][a-z0-9.-]*$/.test(d) && fs.existsSync(path.join(dir, `${d}.key`)))
    .sort();
}

/**
 * One `local_name` block per name the certificate covers (the domain and its www name, as ordered). The
 * `<file` form makes Dovecot's config process read the pair at start and at each reload.
 */
export function renderDovecotSni(dir: string): string {
  const blocks = publishedDomains(dir).flatMap((domain) => {
    const { cert, key } = pairPaths(dir, domain);
    return [domain, `www.${domain}`].map((name) => `local_name ${name} {\n  ssl_cert = <${cert}\n  ssl_key = <${key}\n}\n`);
  });
  return `# Written by npanel (activities/mail-tls.ts) whenever a certificate changes.\n${blocks.join('')}`;
}

/** Writes the SNI include; true when its content changed (Dovecot then needs a reload). */
export function writeDovecotSni(c: Pick<MailTlsConfig, 'dir' | 'dovecotSniConf'>): boolean {
  const text = renderDovecotSni(c.dir);
  if (readOrNull(c.dovecotSniConf)?.toString('utf8') === text) return false;
  fs.writeFileSync(c.dovecotSniConf, text, { mode: 0o644 });
  return true;
}

/**
 * Makes the mail daemons present `pair` for `domain` (null: the domain's pair is removed, the default pair
 * answers for it again). Idempotent: an unchanged pair changes no file and reloads nothing.
 * Returns whether anything changed. Dovecot is reloaded (`doveadm reload`: new logins get the new pair);
 * Exim reads the pair per connection, so the next handshake already has it.
 */
export async function publishMailCertificate(
  c: MailTlsConfig,
  domain: string,
  pair: { certPath: string; keyPath: string } | null,
): Promise<boolean> {
  initMailTlsDir(c);
  const target = pairPaths(c.dir, domain);
  let changed = false;
  if (pair) {
    const cert = fs.readFileSync(pair.certPath);
    const key = fs.readFileSync(pair.keyPath);
    if (!readOrNull(target.key)?.equals(key) || !readOrNull(target.cert)?.equals(cert)) {
      // Key first: a reader that sees the new certificate also finds its key (the old key never meets it
      // for long: both are renamed in the same tick).
      writeAtomic(target.key, key, 0o640, c.eximGid);
      writeAtomic(target.cert, cert, 0o644, c.eximGid);
      changed = true;
    }
  } else {
    for (const f of [target.cert, target.key]) {
      if (fs.existsSync(f)) {
        fs.rmSync(f, { force: true });
        changed = true;
      }
    }
  }
  const sniChanged = writeDovecotSni(c);
  if ((changed || sniChanged) && c.doveConf) {
    await reloadDovecot(c.doveConf, c.doveadmBin ?? 'doveadm');
    if (c.imaps) await waitUntilServed(c.imaps, domain, pair ? serialOf(pair.certPath) : serialOf(pairPaths(c.dir, DEFAULT_PAIR).cert));
  }
  return changed || sniChanged;
}

function serialOf(certPath: string): string {
  return new crypto.X509Certificate(fs.readFileSync(certPath)).serialNumber.toUpperCase();
}

/**
 * A reload returns before the new login processes run: the activity ends only once an IMAPS handshake for
 * `domain` gets `serial` (measured: well under a second), so the workflow's next step sees it served.
 */
async function waitUntilServed(at: { host: string; port: number }, domain: string, serial: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const served = await servedCertificate(at.host, at.port, domain, 2000);
      if (served.serial === serial) return;
      last = `serial ${served.serial}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Dovecot still serves ${last} for ${domain} on ${at.host}:${at.port}, not ${serial}, 10 s after the reload`);
}

async function reloadDovecot(conf: string, doveadm: string): Promise<void> {
  try {
    await run(doveadm, ['-c', conf, 'reload'], { timeout: 10_000 });
  } catch (err) {
    const e = err as { stderr?: string; code?: unknown };
    // Dovecot not running (a node without it, or stopped): the next start reads the files anyway.
    if (/connect|No such file|not running/i.test(e.stderr ?? '')) return;
    throw new Error(`doveadm reload failed (exit ${String(e.code)}): ${(e.stderr ?? '').trim().slice(0, 300)}`);
  }
}
