import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { apiClient, httpGet, strongPassword, uniqueName } from '../support/accounts';
import { DEFAULT_PAIR, pairPaths } from '../../activities/mail-tls';
import { mailLayout } from '../../activities/mail-layout';
import { SmtpClient } from '../support/smtp';
import { loadStack } from '../support/stack';

/**
 * Mail as a customer's mail client uses it, checked with real clients: openssl s_client (which certificate is
 * served, by SNI, on IMAPS and on submission after STARTTLS), curl (an IMAP login over TLS, SMTP AUTH over
 * STARTTLS, the chain verified against Pebble's root and the domain name), and a raw IMAP/SMTP dialogue for
 * what a client sees before TLS.
 */

const stack = loadStack();
const { api, waitClosed, listAll } = apiClient(stack);
const certificates = () => listAll('/api/v1/certificates', 'certificates');
const f = stack.file;
const root = f.acme.issuerRoot!;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'npanel-mailtls-'));

let domain: string;
let user: string;
let username: string;
const password = strongPassword();
const ftpPassword = strongPassword();
let issuedSerial: string;

before(async () => {
  username = uniqueName('mtls');
  domain = `${username}.test`;
  user = `box@${domain}`;
  const res = await api('POST', '/api/v1/accounts', {
    username,
    domain,
    tls: true,
    mailboxes: [{ local: 'box', password }],
    ftp: { password: ftpPassword },
  });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const done = await waitClosed(res.body.workflowId, 120_000);
  assert.equal(done.status, 'completed', JSON.stringify(done.error ?? done.progress));
  const row = (await certificates()).find((c: { domain: string }) => c.domain === domain);
  assert.ok(row, 'the account has a certificate');
  issuedSerial = row.serial;
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** `openssl s_client` with SNI (and STARTTLS when given): the served leaf's serial and subject, and whether it verifies. */
async function served(
  port: number,
  servername: string,
  starttls?: 'imap' | 'smtp',
): Promise<{ serial: string; subject: string; verified: boolean }> {
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', servername, '-CAfile', root, '-verify_hostname', servername];
  if (starttls) args.push('-starttls', starttls);
  const out = await new Promise<string>((resolve, reject) => {
    const child = execFile('openssl', args, { encoding: 'utf8', timeout: 10_000 }, (err, stdout) =>
      stdout ? resolve(stdout) : reject(err),
    );
    child.stdin?.end();
  });
  const x509 = await new Promise<string>((resolve, reject) => {
    const child = execFile('openssl', ['x509', '-noout', '-serial', '-subject'], { encoding: 'utf8' }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    );
    child.stdin?.end(out);
  });
  return {
    serial: /serial=([0-9A-F]+)/.exec(x509)![1]!,
    subject: /subject=(.*)/.exec(x509)![1]!.trim(),
    verified: /Verify return code: 0 \(ok\)/.test(out),
  };
}

/** curl against `domain` on this stack: SNI and the name check use the domain, the chain Pebble's root. */
function curl(url: string, extra: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const port = new URL(url).port;
  return new Promise((resolve) => {
    execFile(
      'curl',
      ['-sS', '--max-time', '15', '--cacert', root, '--resolve', `${domain}:${port}:127.0.0.1`, ...extra, url],
      { encoding: 'utf8' },
      (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

function message(from: string, to: string, subject: string): string {
  const file = path.join(tmp, `${subject}.eml`);
  fs.writeFileSync(file, `From: <${from}>\r\nTo: <${to}>\r\nSubject: ${subject}\r\n\r\nhello over submission\r\n`);
  return file;
}

test("IMAPS and submission present the domain's own certificate by SNI; other names get the node's default", async () => {
  const imaps = await served(f.imaps, domain);
  assert.equal(imaps.serial, issuedSerial, 'IMAPS serves the certificate the inventory lists for the domain');
  assert.ok(imaps.verified, 'and it verifies against Pebble for the domain name');
  const www = await served(f.imaps, `www.${domain}`);
  assert.equal(www.serial, issuedSerial, 'the www name is covered by the same certificate');
  const starttlsImap = await served(f.imap, domain, 'imap');
  assert.equal(starttlsImap.serial, issuedSerial, 'plain IMAP after STARTTLS: the same certificate');
  const submission = await served(f.submission, domain, 'smtp');
  assert.equal(submission.serial, issuedSerial, "submission after STARTTLS serves the domain's certificate");
  assert.ok(submission.verified);
  const port25 = await served(f.smtp, domain, 'smtp');
  assert.equal(port25.serial, issuedSerial, "port 25 offers STARTTLS with the domain's certificate too");
  const other = await served(f.imaps, 'unknown-name.invalid');
  assert.notEqual(other.serial, issuedSerial);
  assert.match(other.subject, /mail-a\.npanel\.test/, "a name without a certificate gets the node's default");
  const otherSubmission = await served(f.submission, 'unknown-name.invalid', 'smtp');
  assert.equal(otherSubmission.serial, other.serial, 'Exim answers with the same default pair');
});

test('plain IMAP from another address offers no login before STARTTLS (LOGINDISABLED) and refuses one', async () => {
  // Dovecot calls a connection whose two ends have the same address secure: a customer's client never does.
  const socket = net.connect({ host: '127.0.0.1', port: f.imap, localAddress: '127.0.0.2' });
  let text = '';
  socket.on('data', (b) => (text += b.toString('latin1')));
  const waitFor = async (re: RegExp) => {
    const deadline = Date.now() + 5000;
    while (!re.test(text)) {
      if (Date.now() > deadline) throw new Error(`no ${re} in ${JSON.stringify(text)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    await waitFor(/^\* OK .*\r\n/);
    assert.match(text, /LOGINDISABLED/, "the greeting's capabilities say LOGINDISABLED");
    assert.match(text, /STARTTLS/);
    assert.doesNotMatch(text, /AUTH=PLAIN/, 'no plaintext mechanism before TLS');
    socket.write(`a1 LOGIN ${user} "${password}"\r\n`);
    await waitFor(/a1 (OK|NO|BAD)[^\r]*\r\n/);
    assert.doesNotMatch(text, /a1 OK/, 'the right password still does not log in without TLS');
    assert.match(text, /a1 NO .*(disabled|TLS|SSL)/i);
  } finally {
    socket.destroy();
  }
});

test('a real IMAP login over TLS (IMAPS and STARTTLS) works with the mailbox password; a wrong one is refused', async () => {
  const imaps = await curl(`imaps://${domain}:${f.imaps}/`, ['-u', `${user}:${password}`]);
  assert.equal(imaps.code, 0, imaps.stderr);
  assert.match(imaps.stdout, /INBOX/, 'LIST shows the INBOX after logging in over IMAPS');
  const starttls = await curl(`imap://${domain}:${f.imap}/`, ['--ssl-reqd', '-u', `${user}:${password}`]);
  assert.equal(starttls.code, 0, starttls.stderr);
  assert.match(starttls.stdout, /INBOX/);
  const wrong = await curl(`imaps://${domain}:${f.imaps}/`, ['-u', `${user}:wrong-${password}`]);
  assert.equal(wrong.code, 67, `curl says "login denied": ${wrong.stderr}`);
});

test('submission: no AUTH before STARTTLS, no relaying without AUTH, relaying after AUTH over STARTTLS', async () => {
  const smtp = await SmtpClient.connect(f.submission);
  try {
    const ehlo = await smtp.command('EHLO client.npanel.test');
    assert.equal(ehlo.code, 250);
    assert.match(ehlo.text, /STARTTLS/);
    assert.doesNotMatch(ehlo.text, /AUTH/, 'AUTH is offered only after STARTTLS');
    const auth = await smtp.command(`AUTH PLAIN ${Buffer.from(`\0${user}\0${password}`).toString('base64')}`);
    assert.ok(auth.code >= 500, `AUTH before STARTTLS refused: ${auth.code} ${auth.text}`);
    assert.equal((await smtp.mailFrom(user)).code, 250);
    const rcpt = await smtp.rcptTo('friend@elsewhere.invalid');
    assert.ok(rcpt.code >= 500, `relaying without AUTH refused: ${rcpt.code}`);
    const local = await smtp.rcptTo(user);
    assert.ok(local.code >= 500, `nothing at all is taken on submission without AUTH: ${local.code}`);
  } finally {
    await smtp.quit();
  }
  const noAuth = await curl(`smtp://${domain}:${f.submission}`, [
    '--ssl-reqd',
    '--mail-from',
    user,
    '--mail-rcpt',
    'friend@elsewhere.invalid',
    '-T',
    message(user, 'friend@elsewhere.invalid', 'noauth'),
  ]);
  assert.notEqual(noAuth.code, 0);
  assert.match(noAuth.stderr, /RCPT failed: 5\d\d/, 'over STARTTLS too, no relay without AUTH');
  const wrong = await curl(`smtp://${domain}:${f.submission}`, [
    '--ssl-reqd',
    '-u',
    `${user}:wrong-${password}`,
    '--mail-from',
    user,
    '--mail-rcpt',
    'friend@elsewhere.invalid',
    '-T',
    message(user, 'friend@elsewhere.invalid', 'wrong'),
  ]);
  assert.equal(wrong.code, 67, `a wrong password is refused: ${wrong.stderr}`);
  const relayed = await curl(`smtp://${domain}:${f.submission}`, [
    '--ssl-reqd',
    '-u',
    `${user}:${password}`,
    '--mail-from',
    user,
    '--mail-rcpt',
    'friend@elsewhere.invalid',
    '-T',
    message(user, 'friend@elsewhere.invalid', 'relayed'),
  ]);
  assert.equal(relayed.code, 0, `after AUTH over STARTTLS the message to another domain is accepted: ${relayed.stderr}`);
});

test('port 25 accepts mail for local mailboxes only and offers no AUTH', async () => {
  const smtp = await SmtpClient.connect(f.smtp);
  try {
    const ehlo = await smtp.command('EHLO client.npanel.test');
    assert.doesNotMatch(ehlo.text, /AUTH/);
    assert.equal((await smtp.mailFrom('someone@sender.invalid')).code, 250);
    assert.equal((await smtp.rcptTo('friend@elsewhere.invalid')).code, 550, 'not a local domain: refused');
    assert.equal((await smtp.rcptTo(user)).code, 250, 'a local mailbox: accepted');
  } finally {
    await smtp.quit();
  }
  const tls = await curl(`smtp://${domain}:${f.smtp}`, [
    '--ssl-reqd',
    '-u',
    `${user}:${password}`,
    '--mail-from',
    user,
    '--mail-rcpt',
    'friend@elsewhere.invalid',
    '-T',
    message(user, 'friend@elsewhere.invalid', 'port25'),
  ]);
  assert.notEqual(tls.code, 0, 'even with TLS and a real login, port 25 relays nothing');
});

test('a renewal reaches Dovecot and Exim: IMAPS and submission serve the new serial', async () => {
  const res = await api('POST', `/api/v1/certificates/${domain}/renew`);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const done = await waitClosed(res.body.workflowId, 120_000);
  assert.equal(done.status, 'completed', JSON.stringify(done.error ?? done.progress));
  const row = (await certificates()).find((c: { domain: string }) => c.domain === domain);
  assert.notEqual(row.serial, issuedSerial, 'a new certificate was issued');
  assert.equal((await served(f.imaps, domain)).serial, row.serial, 'IMAPS serves the renewed certificate');
  assert.equal((await served(f.imap, domain, 'imap')).serial, row.serial, 'IMAP STARTTLS too');
  assert.equal((await served(f.submission, domain, 'smtp')).serial, row.serial, 'submission serves the renewed certificate');
  const login = await curl(`imaps://${domain}:${f.imaps}/`, ['-u', `${user}:${password}`]);
  assert.equal(login.code, 0, `logins keep working after the reload: ${login.stderr}`);
});

test("FTPS: an upload over explicit TLS (AUTH TLS, protected data channel) with the node's certificate reaches the site", async () => {
  const nodeName = 'mail-a.npanel.test';
  const defaultCert = pairPaths(mailLayout({ dir: path.join(f.home, 'nodes', 'a') }).tlsDir, DEFAULT_PAIR).cert;
  const file = path.join(tmp, 'ftps.html');
  const body = `uploaded over FTPS ${Date.now()}`;
  fs.writeFileSync(file, body);
  // --ssl-reqd: curl fails unless both control and data connections are TLS, verified against the node's pair.
  const ftps = (login: string, remote: string) =>
    new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(
        'curl',
        [
          '-sS',
          '--max-time',
          '20',
          '--ssl-reqd',
          '--cacert',
          defaultCert,
          '--resolve',
          `${nodeName}:${f.ftp}:127.0.0.1`,
          '-T',
          file,
          '--user',
          `${username}:${login}`,
          `ftp://${nodeName}:${f.ftp}/${remote}`,
        ],
        { encoding: 'utf8', timeout: 30_000 },
        (err, _o, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }),
      ),
    );
  const up = await ftps(ftpPassword, 'ftps.html');
  assert.equal(up.code, 0, `curl --ssl-reqd upload: ${up.stderr}`);
  const page = await httpGet(f.nginx.http, domain, '/ftps.html');
  assert.equal(page.status, 200);
  assert.equal(page.body, body, 'the file uploaded over FTPS is what the site serves');
  assert.equal((await ftps(`wrong-${ftpPassword}`, 'x.html')).code, 67, 'a wrong password is refused over FTPS');
});
