import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../config/load';
import { envName } from '../../config/env-keys';

function validEnv(): NodeJS.ProcessEnv {
  return {
    NPANEL_TEMPORAL_ADDRESS: '127.0.0.1:7233',
    NPANEL_TEMPORAL_UI_URL: 'http://127.0.0.1:8233',
    NPANEL_NODE_ID: 'a',
    NPANEL_NODE_IP: '127.0.0.1',
    NPANEL_WORKER_ROLES: 'control,node',
    NPANEL_CODEC_KEY: Buffer.alloc(32, 7).toString('base64'),
    NPANEL_CODEC_KEY_ID: 'k1',
    NPANEL_INVENTORY_HOST: '127.0.0.1',
    NPANEL_INVENTORY_PORT: '3306',
    NPANEL_INVENTORY_USER: 'npanel',
    NPANEL_INVENTORY_PASSWORD: 'x',
    NPANEL_INVENTORY_DATABASE: 'npanel',
    NPANEL_API_HOST: '127.0.0.1',
    NPANEL_API_PORT: '8080',
    NPANEL_METRICS_WORKER_PORT: '9464',
    NPANEL_DNS_API_URL: 'http://127.0.0.1:8081',
    NPANEL_DNS_API_KEY: 'abcdefghij',
    NPANEL_DNS_NAMESERVERS: 'ns1.x.',
    NPANEL_DNS_HOSTMASTER: 'h.x.',
    NPANEL_DNS_DEFAULT_TTL: '3600',
    NPANEL_MYSQL_ADMIN_HOST: '127.0.0.1',
    NPANEL_MYSQL_ADMIN_PORT: '3306',
    NPANEL_MYSQL_ADMIN_USER: 'root',
    NPANEL_MYSQL_ADMIN_PASSWORD: 'x',
    NPANEL_NGINX_BIN: '/usr/sbin/nginx',
    NPANEL_NGINX_PREFIX: '/n',
    NPANEL_NGINX_CONF: '/n/c',
    NPANEL_NGINX_ERROR_LOG: '/n/e',
    NPANEL_NGINX_SITES_DIR: '/n/s',
    NPANEL_NGINX_CERTS_DIR: '/n/certs',
    NPANEL_NGINX_CHALLENGE_DIR: '/n/a',
    NPANEL_NGINX_SUSPENDED_PAGE: '/n/p',
    NPANEL_NGINX_HTTP_PORT: '80',
    NPANEL_NGINX_HTTPS_PORT: '443',
    NPANEL_NGINX_LISTEN_IP: '127.0.0.1',
    NPANEL_FILES_WEB_ROOT: '/srv/www',
    NPANEL_FILES_OWNER_UID: '2000',
    NPANEL_FILES_OWNER_GID: '2000',
    NPANEL_MAIL_LAYOUT_ROOT: '/srv/node',
    NPANEL_MAIL_DOVE_CONF: '/srv/node/d.conf',
    NPANEL_MAIL_VMAIL_UID: '5000',
    NPANEL_MAIL_VMAIL_GID: '5000',
    NPANEL_MAIL_IMAP_PORT: '143',
    NPANEL_MAIL_SMTP_PORT: '25',
    NPANEL_FTP_PASSWD_FILE: '/f/p',
    NPANEL_FTP_PDB_FILE: '/f/d',
    NPANEL_FTP_PORT: '21',
    NPANEL_ACME_DIRECTORY: 'https://127.0.0.1:14000/dir',
  };
}

test('a complete environment plus temporal.yaml gives a typed config', () => {
  const config = loadConfig(validEnv());
  assert.equal(config.temporal.namespace, 'default');
  assert.deepEqual(config.workerRoles, ['control', 'node']);
  assert.equal(config.api.port, 8080);
  assert.deepEqual(config.dns.nameservers, ['ns1.x.']);
});

test('a bad value stops start-up with one line naming the variable and the expected form', () => {
  assert.throws(
    () => loadConfig({ ...validEnv(), NPANEL_API_PORT: 'eighty' }),
    (err: Error) => {
      assert.match(err.message, /^config: NPANEL_API_PORT \(api\.port\) is invalid/);
      assert.ok(!err.message.includes('\n'));
      return true;
    },
  );
  assert.throws(
    () => loadConfig({ ...validEnv(), NPANEL_CODEC_KEY: 'c2hvcnQ=' }),
    /NPANEL_CODEC_KEY \(codec\.key\) is invalid: base64 of exactly 32 bytes/,
  );
  assert.throws(() => loadConfig({ ...validEnv(), NPANEL_NGINX_SITES_DIR: 'relative/dir' }), /NPANEL_NGINX_SITES_DIR .*an absolute path/);
});

test('a missing value names the variable', () => {
  const env = validEnv();
  delete env.NPANEL_DNS_API_KEY;
  assert.throws(() => loadConfig(env), /config: NPANEL_DNS_API_KEY \(dns\.apiKey\) is required/);
});

test('variable names follow one rule from the schema path', () => {
  assert.equal(envName(['dns', 'apiUrl']), 'NPANEL_DNS_API_URL');
  assert.equal(envName(['temporal', 'uiUrl']), 'NPANEL_TEMPORAL_UI_URL');
});

test('Temporal client TLS: none by default, all three files from NPANEL_TEMPORAL_TLS_*, or a clear error for a half', () => {
  assert.equal(loadConfig(validEnv()).temporal.tls, undefined);
  const tls = {
    NPANEL_TEMPORAL_TLS_CA_FILE: '/t/ca.pem',
    NPANEL_TEMPORAL_TLS_CERT_FILE: '/t/c.pem',
    NPANEL_TEMPORAL_TLS_KEY_FILE: '/t/c.key',
    NPANEL_TEMPORAL_TLS_SERVER_NAME: 'localhost',
  };
  assert.deepEqual(loadConfig({ ...validEnv(), ...tls }).temporal.tls, {
    caFile: '/t/ca.pem',
    certFile: '/t/c.pem',
    keyFile: '/t/c.key',
    serverName: 'localhost',
  });
  const half: NodeJS.ProcessEnv = { ...validEnv(), ...tls };
  delete half.NPANEL_TEMPORAL_TLS_KEY_FILE;
  assert.throws(() => loadConfig(half), /config: NPANEL_TEMPORAL_TLS_KEY_FILE \(temporal\.tls\.keyFile\) is required/);
});
