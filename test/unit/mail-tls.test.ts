import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pairPaths, publishMailCertificate, publishedDomains, renderDovecotSni } from '../../activities/mail-tls';

/** The mail daemons' certificate folder without daemons: what is written, what the Dovecot include says. */

function tempSetup() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'npanel-mailtls-unit-'));
  const src = path.join(root, 'src');
  fs.mkdirSync(src);
  const write = (name: string, text: string) => {
    fs.writeFileSync(path.join(src, name), text);
    return path.join(src, name);
  };
  const config = { dir: path.join(root, 'tls'), dovecotSniConf: path.join(root, 'sni.conf'), eximGid: process.getgid!() };
  return { root, write, config };
}

test('pairPaths refuses anything that is not a plain name (no path can be built from SNI or input)', () => {
  for (const bad of ['../x', 'a/b', '.hidden', '', 'A.test', 'x y', 'x\n'])
    assert.throws(() => pairPaths('/t', bad), /invalid certificate name/, bad);
  assert.deepEqual(pairPaths('/t', 'example.test'), { cert: '/t/example.test.crt', key: '/t/example.test.key' });
});

test('publishing writes the pair (key 0640), lists it in the Dovecot include for the domain and www, and is idempotent', async () => {
  const { root, write, config } = tempSetup();
  try {
    const pair = { certPath: write('c.pem', 'CERT-1'), keyPath: write('k.pem', `KEY-${crypto.randomUUID()}`) };
    assert.equal(await publishMailCertificate(config, 'shop.test', pair), true);
    const target = pairPaths(config.dir, 'shop.test');
    assert.equal(fs.readFileSync(target.cert, 'utf8'), 'CERT-1');
    assert.equal(fs.statSync(target.key).mode & 0o777, 0o640);
    assert.equal(fs.statSync(config.dir).mode & 0o777, 0o750);
    const sni = fs.readFileSync(config.dovecotSniConf, 'utf8');
    assert.equal(sni, renderDovecotSni(config.dir));
    assert.match(sni, new RegExp(`local_name shop\\.test \\{\\n  ssl_cert = <${target.cert}\\n  ssl_key = <${target.key}\\n\\}`));
    assert.match(sni, /local_name www\.shop\.test \{/);
    assert.equal(await publishMailCertificate(config, 'shop.test', pair), false, 'the same pair again changes nothing');
    fs.writeFileSync(pair.certPath, 'CERT-2');
    assert.equal(await publishMailCertificate(config, 'shop.test', pair), true, 'a renewed certificate is written');
    assert.equal(fs.readFileSync(target.cert, 'utf8'), 'CERT-2');
    assert.deepEqual(publishedDomains(config.dir), ['shop.test']);
    assert.equal(await publishMailCertificate(config, 'shop.test', null), true, 'removal');
    assert.equal(fs.existsSync(target.cert) || fs.existsSync(target.key), false);
    assert.doesNotMatch(fs.readFileSync(config.dovecotSniConf, 'utf8'), /local_name/);
    assert.equal(await publishMailCertificate(config, 'shop.test', null), false, 'removing twice removes once');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
