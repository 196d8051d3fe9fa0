import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import tls from 'node:tls';
import { after, test } from 'node:test';
import { nginxLayout } from '../../stack/services/nginx';
import { loadStack } from '../support/stack';

const stack = loadStack();
const layout = nginxLayout({
  id: 'a',
  ip: '127.0.0.1',
  dir: path.join(stack.file.home, 'nodes', 'a'),
  ports: {
    nginxHttp: stack.file.nginx.http,
    nginxHttps: stack.file.nginx.https,
    imap: 0,
    imaps: 0,
    lmtp: 0,
    smtp: 0,
    submission: 0,
    ftp: 0,
    ftpPassiveLow: 0,
    ftpPassiveHigh: 0,
    workerMetrics: 0,
  },
});

function get(host: string, urlPath = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: stack.file.nginx.http, path: urlPath, headers: { host }, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

function handshake(servername: string, opts: tls.ConnectionOptions = {}) {
  return new Promise<{ protocol: string | null; cn: unknown; status: string }>((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: stack.file.nginx.https, servername, rejectUnauthorized: false, ...opts }, () => {
      const protocol = socket.getProtocol();
      const cn = socket.getPeerCertificate().subject?.CN;
      socket.write(`GET / HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`);
      let data = '';
      socket.on('data', (d) => (data += d.toString()));
      socket.on('end', () => resolve({ protocol, cn, status: data.split('\r\n')[0] }));
    });
    socket.on('error', reject);
  });
}

test('default HTTP server answers 404 for an unknown host', async () => {
  const r = await get(`unknown-${crypto.randomBytes(4).toString('hex')}.test`);
  assert.equal(r.status, 404);
});

test('TLS default server: TLS 1.3 and TLS 1.2 handshakes succeed with the self-signed default cert, 404 inside', async () => {
  const t13 = await handshake('nobody-here.test');
  assert.equal(t13.protocol, 'TLSv1.3');
  assert.equal(t13.cn, 'npanel-default');
  assert.match(t13.status, /^HTTP\/1\.1 404/);
  const t12 = await handshake('nobody-here.test', { maxVersion: 'TLSv1.2' });
  assert.equal(t12.protocol, 'TLSv1.2');
});

const token = `tok-${crypto.randomBytes(8).toString('hex')}`;
after(() => fs.rmSync(path.join(layout.challengeDir, token), { force: true }));

test('ACME HTTP-01 challenge is served by the default server for any host', async () => {
  fs.writeFileSync(path.join(layout.challengeDir, token), `${token}.thumbprint`, { mode: 0o644 });
  const r = await get('not-configured.test', `/.well-known/acme-challenge/${token}`);
  assert.equal(r.status, 200);
  assert.equal(r.body, `${token}.thumbprint`);
  assert.equal((await get('not-configured.test', '/.well-known/acme-challenge/missing')).status, 404);
});
