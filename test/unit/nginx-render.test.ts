import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseVhostHeader, renderVhost, UnsafeConfigValue, type VhostEnv, type VhostSpec } from '../../activities/nginx-vhost';
import { renderNginxConf, type NginxMainConf } from '../../stack/services/nginx-conf';

const env: VhostEnv = {
  listenIp: '127.0.0.1',
  httpPort: 8080,
  httpsPort: 8443,
  challengeDir: '/srv/node/acme-challenge',
  suspendedPage: '/srv/node/nginx/html/suspended.html',
};
const spec: VhostSpec = {
  domain: 'shop.example.com',
  docroot: '/srv/node/www/acme1/shop.example.com/public_html',
  tls: null,
  redirectHttps: false,
  suspended: false,
};
const tls = { certPath: '/srv/node/certs/shop.example.com/fullchain.pem', keyPath: '/srv/node/certs/shop.example.com/key.pem' };

/** Splits rendered text into server blocks so assertions apply to the HTTP and HTTPS servers separately. */
function servers(text: string): string[] {
  return text.split(/^server \{$/m).slice(1);
}

test('plain vhost: both names, docroot, ACME location, HTTP only', () => {
  const out = renderVhost(spec, env);
  const [http, ...rest] = servers(out);
  assert.equal(rest.length, 0);
  assert.match(http, /listen 127\.0\.0\.1:8080;/);
  assert.match(http, /server_name shop\.example\.com www\.shop\.example\.com;/);
  assert.match(http, /root \/srv\/node\/www\/acme1\/shop\.example\.com\/public_html;/);
  assert.match(http, /location \^~ \/\.well-known\/acme-challenge\/ \{\s+alias \/srv\/node\/acme-challenge\/;/);
});

test('TLS + redirect: HTTP redirects but still serves the ACME challenge; HTTPS serves the docroot', () => {
  const [http, https] = servers(renderVhost({ ...spec, tls, redirectHttps: true }, env));
  assert.match(http, /return 301 https:\/\/\$host:8443\$request_uri;/);
  assert.match(http, /acme-challenge/);
  assert.doesNotMatch(http, /root /);
  assert.match(https, /listen 127\.0\.0\.1:8443 ssl;/);
  assert.match(https, /ssl_certificate \/srv\/node\/certs\/shop\.example\.com\/fullchain\.pem;/);
  assert.match(https, /ssl_certificate_key \/srv\/node\/certs\/shop\.example\.com\/key\.pem;/);
  assert.match(https, /acme-challenge/);
  assert.match(https, /root \/srv/);
  assert.match(servers(renderVhost({ ...spec, tls, redirectHttps: true }, { ...env, httpsPort: 443 }))[0], /https:\/\/\$host\$request_uri/);
});

test('suspended: 503 page on both servers, ACME kept, no docroot', () => {
  for (const block of servers(renderVhost({ ...spec, tls, redirectHttps: true, suspended: true }, env))) {
    assert.match(block, /return 503;/);
    assert.match(block, /alias \/srv\/node\/nginx\/html\/suspended\.html;/);
    assert.match(block, /acme-challenge/);
    assert.doesNotMatch(block, /root |return 301/);
  }
});

test('header keeps the spec, so unsuspend can restore the normal vhost', () => {
  const full = { ...spec, tls, redirectHttps: true, suspended: true };
  assert.deepEqual(parseVhostHeader(renderVhost(full, env)), full);
  assert.equal(parseVhostHeader('server { listen 80; }\n'), null);
  assert.equal(parseVhostHeader('# npanel-vhost {not json\n'), null);
});

const hostileDomains = [
  'evil.com; include /etc/passwd',
  'evil.com\n} server { listen 80',
  'evil.com www.other.com',
  '$host.com',
  'EXAMPLE.com',
  'example',
  '-bad.com',
  'a..com',
  'example.com.',
  '"quoted".com',
  `${'a'.repeat(64)}.com`,
];
const hostilePaths = [
  'relative/path',
  '/srv/www; return 200',
  '/srv/www\nlocation',
  '/srv/www/../../etc',
  '/srv/./www',
  '/srv/w w',
  '/srv/"x"',
  '/srv/{x}',
  '/srv/$document_root',
  '/srv/#comment',
  '/srv/back\\slash',
];

test('renderVhost throws, never escapes, on hostile domains', () => {
  for (const domain of hostileDomains) {
    assert.throws(() => renderVhost({ ...spec, domain }, env), UnsafeConfigValue, domain);
  }
});

test('renderVhost throws on hostile docroot, certificate and key paths', () => {
  for (const p of hostilePaths) {
    assert.throws(() => renderVhost({ ...spec, docroot: p }, env), UnsafeConfigValue, p);
    assert.throws(() => renderVhost({ ...spec, tls: { ...tls, certPath: p } }, env), UnsafeConfigValue, p);
    assert.throws(() => renderVhost({ ...spec, tls: { ...tls, keyPath: p } }, env), UnsafeConfigValue, p);
    assert.throws(() => renderVhost(spec, { ...env, challengeDir: p }), UnsafeConfigValue, p);
    assert.throws(() => renderVhost({ ...spec, suspended: true }, { ...env, suspendedPage: p }), UnsafeConfigValue, p);
  }
});

test('renderVhost throws on a bad listen address or port', () => {
  for (const listenIp of ['0.0.0.0:80', '256.1.1.1', '127.0.0.1; ', 'localhost', '::1']) {
    assert.throws(() => renderVhost(spec, { ...env, listenIp }), UnsafeConfigValue, listenIp);
  }
  for (const port of [0, -1, 65536, 80.5, Number.NaN]) {
    assert.throws(() => renderVhost(spec, { ...env, httpPort: port }), UnsafeConfigValue);
    assert.throws(() => renderVhost(spec, { ...env, httpsPort: port }), UnsafeConfigValue);
  }
});

const main: NginxMainConf = {
  prefix: '/srv/node/nginx',
  conf: '/srv/node/nginx/conf/nginx.conf',
  pidFile: '/srv/node/nginx/run/nginx.pid',
  sitesDir: '/srv/node/nginx/sites',
  challengeDir: '/srv/node/acme-challenge',
  defaultCert: '/srv/node/nginx/conf/default.crt',
  defaultKey: '/srv/node/nginx/conf/default.key',
  accessLog: '/srv/logs/nginx-a-access.log',
  listenIp: '127.0.0.1',
  httpPort: 8080,
  httpsPort: 8443,
};

test('main config: sandboxed paths, 1 worker, TLS 1.2+1.3, default servers with ACME, sites included', () => {
  const out = renderNginxConf(main);
  assert.match(out, /^worker_processes 1;$/m);
  assert.match(out, /^pid \/srv\/node\/nginx\/run\/nginx\.pid;$/m);
  for (const t of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    assert.match(out, new RegExp(`${t}_temp_path /srv/node/nginx/tmp/`));
  }
  assert.match(out, /ssl_protocols TLSv1\.2 TLSv1\.3;/);
  assert.match(out, /listen 127\.0\.0\.1:8080 default_server;/);
  assert.match(out, /listen 127\.0\.0\.1:8443 ssl default_server;/);
  assert.equal(out.match(/location \^~ \/\.well-known\/acme-challenge\//g)?.length, 2);
  assert.match(out, /include \/srv\/node\/nginx\/sites\/\*\.conf;/);
  assert.doesNotMatch(out, /\/etc\/nginx|\/var\/log/);
});

test('main config throws on hostile paths and addresses', () => {
  for (const p of hostilePaths) {
    assert.throws(() => renderNginxConf({ ...main, sitesDir: p }), UnsafeConfigValue, p);
    assert.throws(() => renderNginxConf({ ...main, accessLog: p }), UnsafeConfigValue, p);
  }
  assert.throws(() => renderNginxConf({ ...main, listenIp: '127.0.0.1;' }), UnsafeConfigValue);
  assert.throws(() => renderNginxConf({ ...main, httpPort: 70000 }), UnsafeConfigValue);
});
