import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderDenyDict, renderDovecotConfig, renderUsersDict } from '../../stack/services/dovecot-config';
import { renderEximConfig } from '../../stack/services/exim-config';
import { mailLayout } from '../../activities/mail-layout';

const layout = mailLayout({ dir: '/srv/npanel/nodes/a' });
const dovecot = (over: Partial<Parameters<typeof renderDovecotConfig>[0]> = {}) =>
  renderDovecotConfig({
    layout,
    instanceName: 'npanel-a-1',
    hostname: 'mail-a.npanel.test',
    imapPort: 1143,
    imapsPort: 1993,
    lmtpPort: 1024,
    defaultCert: '/srv/npanel/nodes/a/mail/tls/default.crt',
    defaultKey: '/srv/npanel/nodes/a/mail/tls/default.key',
    eximGroup: 'Debian-exim',
    vmailUid: 5000,
    vmailGid: 5000,
    bruteForceDelays: true,
    ...over,
  });
const exim = (over: Partial<Parameters<typeof renderEximConfig>[0]> = {}) =>
  renderEximConfig({ layout, smtpPort: 1025, submissionPort: 1587, lmtpPort: 1024, hostname: 'mail-a.npanel.test', ...over });

test('dovecot config listens on loopback only, on the given ports', () => {
  const conf = dovecot();
  assert.match(conf, /^listen = 127\.0\.0\.1$/m);
  assert.match(conf, /inet_listener imap \{\n\s+address = 127\.0\.0\.1\n\s+port = 1143\n/);
  assert.match(conf, /inet_listener lmtp \{\n\s+address = 127\.0\.0\.1\n\s+port = 1024\n/);
  // IMAPS (issue 16): TLS from the first byte, on loopback, on its own port.
  assert.match(conf, /inet_listener imaps \{\n\s+address = 127\.0\.0\.1\n\s+port = 1993\n\s+ssl = yes\n/);
  assert.match(conf, /^ssl = yes$/m);
  assert.match(conf, /^disable_plaintext_auth = yes$/m);
  assert.match(conf, /^ssl_cert = <\/srv\/npanel\/nodes\/a\/mail\/tls\/default\.crt$/m);
  assert.match(conf, new RegExp(`^!include_try ${layout.dovecotSniConf}$`, 'm'));
  assert.match(conf, /^instance_name = npanel-a-1$/m);
});

test('brute-force delays stay on unless the dev stack turns them off', () => {
  assert.match(dovecot(), /^auth_failure_delay = 2 secs$/m);
  assert.doesNotMatch(dovecot(), /anvil-auth-penalty/);
  const dev = dovecot({ bruteForceDelays: false });
  assert.match(dev, /^auth_failure_delay = 0 secs$/m);
  assert.match(dev, /unix_listener anvil-auth-penalty \{\n\s+mode = 0\n/);
});

test('the deny passdb comes before the users passdb', () => {
  const conf = dovecot();
  const deny = conf.indexOf(layout.dovecotDenyDict);
  const users = conf.indexOf(`args = ${layout.dovecotUsersDict}`);
  assert.ok(deny > 0 && users > deny);
  assert.match(conf, new RegExp(`args = ${layout.dovecotDenyDict}\\n\\s+deny = yes`));
  assert.match(renderUsersDict(layout), new RegExp(`^uri = fs:posix:prefix=${layout.usersDir}/$`, 'm'));
  assert.match(renderDenyDict(layout), /key = %d/);
});

test('a path or name that could break out of a config value is refused', () => {
  for (const dir of ['/srv/x\nlisten = *', '/srv/"x"', '/srv/x y', '/srv/x;y', '/srv/$x']) {
    const bad = mailLayout({ dir });
    assert.throws(
      () =>
        renderDovecotConfig({
          layout: bad,
          instanceName: 'i',
          hostname: 'h',
          imapPort: 1,
          imapsPort: 3,
          lmtpPort: 2,
          defaultCert: '/d.crt',
          defaultKey: '/d.key',
          eximGroup: 'Debian-exim',
          vmailUid: 5000,
          vmailGid: 5000,
          bruteForceDelays: true,
        }),
      /unsafe/,
      dir,
    );
    assert.throws(() => renderUsersDict(bad), /unsafe/, dir);
    assert.throws(() => renderEximConfig({ layout: bad, smtpPort: 1, submissionPort: 3, lmtpPort: 2, hostname: 'h' }), /unsafe/, dir);
  }
  assert.throws(() => dovecot({ hostname: 'x\nssl = no' }), /unsafe/);
  assert.throws(() => exim({ hostname: 'x\nhost_lookup = *' }), /unsafe/);
});

test('exim listens on loopback, checks recipients at RCPT and delivers over LMTP', () => {
  const conf = exim();
  assert.match(conf, /^local_interfaces = <; 127\.0\.0\.1$/m);
  // Port 25 and submission (issue 16); AUTH only on submission after STARTTLS, and only AUTH relays there.
  assert.match(conf, /^daemon_smtp_ports = 1025 : 1587$/m);
  assert.match(conf, /^tls_advertise_hosts = \*$/m);
  assert.match(conf, /server_advertise_condition = \$\{if and\{ \{def:tls_in_cipher\} \{eq\{\$received_port\}\{1587\}\} \}\}/);
  assert.match(
    conf,
    /deny {4}message = authentication required\n\s+condition = \$\{if eq\{\$received_port\}\{1587\}\}\n\s+!authenticated = \*/,
  );
  assert.match(conf, /^acl_smtp_rcpt = acl_check_rcpt$/m);
  assert.match(conf, /verify = recipient/);
  assert.match(conf, new RegExp(`dsearch;${layout.domainsDir}`));
  assert.match(conf, new RegExp(`dsearch\\{${layout.usersDir}\\}`));
  assert.match(conf, /protocol = lmtp\n\s+hosts = 127\.0\.0\.1\n\s+port = 1024\n/);
  assert.match(conf, /^spool_directory = \/srv\/npanel\/nodes\/a\/mail\/exim\/spool$/m);
});
