import crypto from 'node:crypto';
import fs from 'node:fs';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client, utils, type ConnectConfig } from 'ssh2';
import { loadStack } from '../support/stack';

const stack = loadStack();
const src = stack.file.migrationSource;

/** OpenSSH's fingerprint of a raw host key blob: SHA256, base64 without padding. */
function fingerprint(key: Buffer): string {
  return `SHA256:${crypto.createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

function connect(privateKey: string | Buffer, seen: { hostKey?: string } = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    const config: ConnectConfig = {
      host: src.host,
      port: src.port,
      username: src.user,
      privateKey,
      readyTimeout: 10_000,
      // Pin the host key from stack.json, as the migration worker must; record what the server showed.
      hostVerifier: (key: Buffer) => {
        seen.hostKey = fingerprint(key);
        return seen.hostKey === src.hostKeyFingerprint;
      },
    };
    client.once('ready', () => resolve(client));
    client.once('error', reject);
    client.connect(config);
  });
}

function exec(client: Client, command: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) return reject(err);
      let stdout = '';
      let stderr = '';
      stream.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
      stream.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
      stream.once('close', (code: number) => resolve({ code, stdout, stderr }));
    });
  });
}

const stackKey = () => fs.readFileSync(src.privateKey);

test('the stack key logs in, exec runs a command, and the host key is the one in stack.json', async () => {
  const seen: { hostKey?: string } = {};
  const client = await connect(stackKey(), seen);
  try {
    assert.match(src.hostKeyFingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.equal(seen.hostKey, src.hostKeyFingerprint);
    const nonce = crypto.randomBytes(8).toString('hex');
    const r = await exec(client, `echo ${nonce}; id -un`);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${nonce}\n${src.user}\n`);
  } finally {
    client.end();
  }
});

test('SFTP reads the sample index.html and lists names with spaces and accents', async () => {
  const client = await connect(stackKey());
  try {
    const sftp = await new Promise<import('ssh2').SFTPWrapper>((resolve, reject) => client.sftp((e, s) => (e ? reject(e) : resolve(s))));
    const html = await new Promise<Buffer>((resolve, reject) =>
      sftp.readFile(`${src.docroot}/index.html`, (e, data) => (e ? reject(e) : resolve(data))),
    );
    assert.match(html.toString('utf8'), /<h1>Welcome to the sample shop<\/h1>/);
    const names = await new Promise<string[]>((resolve, reject) =>
      sftp.readdir(src.docroot, (e, list) => (e ? reject(e) : resolve(list.map((x) => x.filename)))),
    );
    for (const name of ['index.html', 'about us.html', 'café', 'uploads', 'assets'])
      assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
    const count = await exec(client, `find '${src.docroot}' -type f | wc -l`);
    assert.ok(Number(count.stdout.trim()) >= 200, `only ${count.stdout.trim()} files in the sample site`);
  } finally {
    client.end();
  }
});

test('mysqldump over ssh exec, with no secret on the command line, dumps the sample tables', async () => {
  assert.deepEqual(src.databases, ['shop']);
  const client = await connect(stackKey());
  try {
    const r = await exec(client, 'mysqldump --single-transaction shop');
    assert.equal(r.code, 0, r.stderr);
    for (const table of ['customers', 'products', 'orders', 'order_items']) {
      assert.match(r.stdout, new RegExp(`CREATE TABLE \`${table}\``));
      assert.match(r.stdout, new RegExp(`INSERT INTO \`${table}\` VALUES`));
    }
    assert.match(r.stdout, /Jürgen Müller/); // utf8mb4 survives the dump
  } finally {
    client.end();
  }
});

test('a key the source does not know is refused', async () => {
  const stranger = utils.generateKeyPairSync('ed25519');
  await assert.rejects(connect(stranger.private), /authentication methods failed/i);
});

test("a connection master logs in ahead; rsync's ssh command rides on it; a wrong pinned key gets no master", async () => {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const run = promisify(execFile);
  const { sshConnect } = await import('../../activities/ssh-connect');
  const { ALIAS, sshCredentials } = await import('../../activities/ssh-credentials');
  const { startSshMaster } = await import('../../activities/ssh-master');
  const target = {
    host: src.host,
    port: src.port,
    user: src.user,
    privateKey: fs.readFileSync(src.privateKey, 'utf8'),
    hostKeyFingerprint: src.hostKeyFingerprint,
  };
  const session = await sshConnect(target);
  const hostKey = session.hostKey;
  session.end();

  const creds = sshCredentials(target, hostKey);
  const master = startSshMaster(creds);
  try {
    assert.equal(await master.ready, true, 'the master logged in');
    // `-O check` asks the master itself: it answers only if a master is running on that socket.
    const check = await run(creds.words[0]!, [...creds.words.slice(1), '-O', 'check', ALIAS], { env: creds.env });
    assert.match(check.stderr, /Master running/);
    const [ssh, ...rest] = creds.sshCommand.split(' ');
    const echo = await run(ssh!, [...rest, ALIAS, 'echo', 'through-the-master'], { env: creds.env });
    assert.equal(echo.stdout.trim(), 'through-the-master');
  } finally {
    master.stop();
    creds.remove();
  }

  // Another key pinned in known_hosts (one made here): the master is refused, so rsync would log in by itself
  // and fail on the same pinned key.
  const other = utils.generateKeyPairSync('ed25519');
  const wrong = sshCredentials(target, other.public.split(/\s+/).slice(0, 2).join(' '));
  const refused = startSshMaster(wrong);
  try {
    assert.equal(await refused.ready, false);
  } finally {
    refused.stop();
    wrong.remove();
  }
});
