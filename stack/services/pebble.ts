import { execFile } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { promisify } from 'node:util';
import type { StackContext } from '../context';
import { startDaemon, type RunningDaemon } from '../daemon';
import { assertPortsFree } from '../ports';

const execFileP = promisify(execFile);
export const PEBBLE_BIN = '/usr/bin/pebble';

/**
 * Pebble, the ACME test server, as the embedded stack's certificate authority. HTTP-01 validations go to the
 * stack's nginx HTTP port, names resolve through the stack's PowerDNS. Pebble keeps no state: accounts and
 * orders vanish at each restart, and it makes a new issuing root each time (fetched into issuer-root.pem).
 */
export function pebbleInfo(ctx: StackContext) {
  const dir = path.join(ctx.home, 'pebble');
  return {
    directory: `https://127.0.0.1:${ctx.ports.acme}/dir`,
    /** The CA that signs Pebble's own TLS certificate (ACME and management ports): trust it as a client. */
    ca: path.join(dir, 'ca.pem'),
    /** Root of the certificates Pebble issues in this run (changes at every start). */
    issuerRoot: path.join(dir, 'issuer-root.pem'),
  };
}

function files(ctx: StackContext) {
  const dir = path.join(ctx.home, 'pebble');
  return {
    dir,
    caKey: path.join(dir, 'ca.key'),
    cert: path.join(dir, 'cert.pem'),
    key: path.join(dir, 'key.pem'),
    config: path.join(dir, 'pebble-config.json'),
  };
}

/** A CA and a server cert for 127.0.0.1/localhost, made once (EC keys: ~30 ms each instead of ~1 s for RSA). */
async function ensureCerts(ctx: StackContext): Promise<void> {
  const f = files(ctx);
  const { ca } = pebbleInfo(ctx);
  if (fs.existsSync(ca) && fs.existsSync(f.cert) && fs.existsSync(f.key)) return;
  fs.mkdirSync(f.dir, { recursive: true, mode: 0o700 });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await execFileP('openssl', [
    'req',
    '-x509',
    ...ec,
    '-days',
    '3650',
    '-subj',
    '/CN=NPanel dev Pebble CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    f.caKey,
    '-out',
    ca,
  ]);
  const csr = path.join(f.dir, 'server.csr');
  await execFileP('openssl', ['req', '-new', ...ec, '-subj', '/CN=localhost', '-keyout', f.key, '-out', csr]);
  const ext = path.join(f.dir, 'server.ext');
  fs.writeFileSync(
    ext,
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' +
      'keyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n',
  );
  await execFileP('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca,
    '-CAkey',
    f.caKey,
    '-CAcreateserial',
    '-days',
    '3650',
    '-extfile',
    ext,
    '-out',
    f.cert,
  ]);
  fs.rmSync(csr, { force: true });
  for (const k of [f.caKey, f.key]) fs.chmodSync(k, 0o600);
}

function httpsGet(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, agent: false, timeout: 2000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout on ${url}`)));
    req.on('error', reject);
  });
}

export async function startPebble(ctx: StackContext): Promise<RunningDaemon> {
  const f = files(ctx);
  const info = pebbleInfo(ctx);
  await assertPortsFree('pebble', [ctx.ports.acme, ctx.ports.acmeMgmt]);
  await ensureCerts(ctx);
  fs.writeFileSync(
    f.config,
    JSON.stringify(
      {
        pebble: {
          listenAddress: `127.0.0.1:${ctx.ports.acme}`,
          managementListenAddress: `127.0.0.1:${ctx.ports.acmeMgmt}`,
          certificate: f.cert,
          privateKey: f.key,
          httpPort: ctx.ports.nginxHttp,
          tlsPort: ctx.ports.nginxHttps,
          ocspResponderURL: '',
          externalAccountBindingRequired: false,
        },
      },
      null,
      2,
    ),
  );
  // The roots file of a previous run is wrong from now on: remove it so nobody trusts a stale root.
  fs.rmSync(info.issuerRoot, { force: true });
  const ca = fs.readFileSync(info.ca);
  const daemon = await startDaemon({
    name: 'pebble',
    command: PEBBLE_BIN,
    args: ['-config', f.config, '-dnsserver', `127.0.0.1:${ctx.ports.dns}`],
    // NOSLEEP: no random 0-15 s pause before validations. NONCEREJECT=0: no deliberate badNonce errors.
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' },
    logDir: ctx.logDir,
    ready: async () => (await httpsGet(info.directory, ca)).status === 200,
    readyTimeoutMs: 10_000,
  });
  try {
    const root = await httpsGet(`https://127.0.0.1:${ctx.ports.acmeMgmt}/roots/0`, ca);
    if (root.status !== 200 || !root.body.includes('BEGIN CERTIFICATE')) {
      throw new Error(`pebble /roots/0 answered ${root.status}`);
    }
    fs.writeFileSync(info.issuerRoot, root.body);
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  return daemon;
}
