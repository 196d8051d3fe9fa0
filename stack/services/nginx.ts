import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { generationFilePath, renderGeneration } from '../../activities/nginx-vhost';
import type { HostingNode, StackContext } from '../context';
import { startDaemon, type RunningDaemon } from '../daemon';
import { assertPortsFree } from '../ports';
import { renderNginxConf } from './nginx-conf';

const execFileP = promisify(execFile);
export const NGINX_BIN = '/usr/sbin/nginx';

/** Every path of one node's nginx, all under `node.dir`; the nginx activities are configured from these. */
export function nginxLayout(node: HostingNode) {
  const prefix = path.join(node.dir, 'nginx');
  return {
    prefix,
    conf: path.join(prefix, 'conf', 'nginx.conf'),
    errorLog: path.join(prefix, 'logs', 'error.log'),
    pidFile: path.join(prefix, 'run', 'nginx.pid'),
    sitesDir: path.join(prefix, 'sites'),
    certsDir: path.join(node.dir, 'certs'),
    challengeDir: path.join(node.dir, 'acme-challenge'),
    webRoot: path.join(node.dir, 'www'),
    suspendedPage: path.join(prefix, 'html', 'suspended.html'),
    defaultCert: path.join(prefix, 'conf', 'default.crt'),
    defaultKey: path.join(prefix, 'conf', 'default.key'),
  };
}

export type NginxLayout = ReturnType<typeof nginxLayout>;

const SUSPENDED_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Site suspended</title></head>
<body><h1>This site is temporarily suspended</h1>
<p>The owner of this website has been suspended. Please contact your hosting provider.</p></body></html>
`;

/** Creates what is absent and keeps the rest (sites, certs, web content survive restarts). */
async function initLayout(l: NginxLayout): Promise<void> {
  for (const dir of [
    path.dirname(l.conf),
    path.dirname(l.errorLog),
    path.dirname(l.pidFile),
    l.sitesDir,
    path.dirname(l.suspendedPage),
    path.join(l.prefix, 'tmp'),
  ]) {
    fs.mkdirSync(dir, { recursive: true });
  }
  fs.mkdirSync(l.certsDir, { recursive: true, mode: 0o700 });
  // Workers run as nobody: what they serve must be world-readable and traversable.
  for (const dir of [l.challengeDir, l.webRoot]) {
    fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(dir, 0o755);
  }
  if (!fs.existsSync(l.suspendedPage)) fs.writeFileSync(l.suspendedPage, SUSPENDED_HTML, { mode: 0o644 });
  const gen = generationFilePath(l.conf);
  if (!fs.existsSync(gen)) fs.writeFileSync(gen, renderGeneration(0));
  if (!fs.existsSync(l.defaultCert) || !fs.existsSync(l.defaultKey)) {
    // Self-signed catch-all certificate for the TLS default server; made once (~50 ms with EC keys).
    await execFileP('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '3650',
      '-subj',
      '/CN=npanel-default',
      '-keyout',
      l.defaultKey,
      '-out',
      l.defaultCert,
    ]);
    fs.chmodSync(l.defaultKey, 0o600);
  }
}

/** Readiness: a real HTTP request answered by the default server (any status; 404 is the normal answer). */
export function httpAnswers(port: number, host = '127.0.0.1', hostHeader = 'ready.npanel.invalid'): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/', headers: { host: hostHeader }, agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(typeof res.statusCode === 'number');
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

export async function startNginx(ctx: StackContext, node: HostingNode): Promise<RunningDaemon> {
  const l = nginxLayout(node);
  const name = node.id === 'a' ? 'nginx' : `nginx-${node.id}`;
  await assertPortsFree(name, [node.ports.nginxHttp, node.ports.nginxHttps]);
  await initLayout(l);
  // The main config is re-rendered at each start (it holds ports and paths only); vhosts are kept.
  fs.writeFileSync(
    l.conf,
    renderNginxConf({
      prefix: l.prefix,
      conf: l.conf,
      pidFile: l.pidFile,
      sitesDir: l.sitesDir,
      challengeDir: l.challengeDir,
      defaultCert: l.defaultCert,
      defaultKey: l.defaultKey,
      accessLog: path.join(ctx.logDir, `nginx-${node.id}-access.log`),
      listenIp: node.ip,
      httpPort: node.ports.nginxHttp,
      httpsPort: node.ports.nginxHttps,
    }),
  );
  return startDaemon({
    name,
    command: NGINX_BIN,
    // Foreground ('daemon off') so startDaemon owns the master's PID; SIGTERM = fast shutdown.
    args: ['-p', l.prefix, '-c', l.conf, '-e', l.errorLog, '-g', 'daemon off;'],
    logDir: ctx.logDir,
    ready: () => httpAnswers(node.ports.nginxHttp, node.ip),
    readyTimeoutMs: 10_000,
  });
}
