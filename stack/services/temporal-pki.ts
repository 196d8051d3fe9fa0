import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { StackContext } from '../context';

const execFileP = promisify(execFile);

/**
 * The private CA of `up --temporal cluster` and what it signs: the frontend's server certificate and one client
 * certificate per caller. The frontend requires a client certificate from this CA (mTLS), so whoever reaches
 * its port without one is refused. Made once per home (EC P-256: ~30 ms a certificate), kept across restarts.
 */
export const TEMPORAL_CLIENTS = ['worker', 'api', 'operator', 'system-worker', 'ui'] as const;
export type TemporalClient = (typeof TEMPORAL_CLIENTS)[number];

/** The name every client verifies the frontend as (the server certificate also carries 127.0.0.1). */
export const FRONTEND_SERVER_NAME = 'localhost';

export interface TemporalPki {
  dir: string;
  ca: string;
  frontend: { cert: string; key: string };
  clients: Record<TemporalClient, { cert: string; key: string }>;
}

export function temporalPki(ctx: StackContext): TemporalPki {
  const dir = path.join(ctx.home, 'temporal-cluster', 'tls');
  const pair = (name: string) => ({ cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) });
  return {
    dir,
    ca: path.join(dir, 'ca.pem'),
    frontend: pair('frontend'),
    clients: Object.fromEntries(TEMPORAL_CLIENTS.map((c) => [c, pair(`client-${c}`)])) as TemporalPki['clients'],
  };
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function sign(pki: TemporalPki, caKey: string, out: { cert: string; key: string }, cn: string, ext: string): Promise<void> {
  const csr = `${out.cert}.csr`;
  const extFile = `${out.cert}.ext`;
  await execFileP('openssl', ['req', '-new', ...EC, '-subj', `/CN=${cn}`, '-keyout', out.key, '-out', csr]);
  fs.writeFileSync(extFile, `${ext}\nkeyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n`);
  await execFileP('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    pki.ca,
    '-CAkey',
    caKey,
    '-CAcreateserial',
    '-days',
    '3650',
    '-extfile',
    extFile,
    '-out',
    out.cert,
  ]);
  fs.rmSync(csr, { force: true });
  fs.rmSync(extFile, { force: true });
  fs.chmodSync(out.key, 0o600);
}

/** Makes whatever is missing; a new CA (first start, or its key lost) re-issues everything below it. */
export async function ensureTemporalPki(ctx: StackContext): Promise<TemporalPki> {
  const pki = temporalPki(ctx);
  const caKey = path.join(pki.dir, 'ca.key');
  fs.mkdirSync(pki.dir, { recursive: true, mode: 0o700 });
  const fresh = !fs.existsSync(pki.ca) || !fs.existsSync(caKey);
  if (fresh) {
    await execFileP('openssl', [
      'req',
      '-x509',
      ...EC,
      '-days',
      '3650',
      '-subj',
      '/CN=NPanel stack Temporal CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-keyout',
      caKey,
      '-out',
      pki.ca,
    ]);
    fs.chmodSync(caKey, 0o600);
  }
  const missing = (p: { cert: string; key: string }) => fresh || !fs.existsSync(p.cert) || !fs.existsSync(p.key);
  if (missing(pki.frontend)) {
    await sign(
      pki,
      caKey,
      pki.frontend,
      'temporal-frontend',
      `subjectAltName=DNS:${FRONTEND_SERVER_NAME},IP:127.0.0.1\nextendedKeyUsage=serverAuth`,
    );
  }
  for (const client of TEMPORAL_CLIENTS) {
    if (missing(pki.clients[client])) await sign(pki, caKey, pki.clients[client], `npanel-${client}`, 'extendedKeyUsage=clientAuth');
  }
  return pki;
}
