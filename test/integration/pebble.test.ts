import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { test } from 'node:test';
import { loadStack } from '../support/stack';

const stack = loadStack();

function getJson(url: string, ca?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

test('ACME directory answers over HTTPS, trusting only the CA named in stack.json', async () => {
  const ca = fs.readFileSync(stack.file.acme.ca);
  const r = await getJson(stack.file.acme.directory, ca);
  assert.equal(r.status, 200);
  const dir = JSON.parse(r.body) as Record<string, string>;
  for (const key of ['newNonce', 'newAccount', 'newOrder']) {
    assert.match(dir[key], /^https:\/\/127\.0\.0\.1:\d+\//, key);
  }
});

test('without that CA the TLS handshake is refused (the CA is what makes it trusted)', async () => {
  await assert.rejects(getJson(stack.file.acme.directory), /self[- ]signed|unable to (get|verify)/i);
});

test('newNonce hands out a Replay-Nonce header', async () => {
  const ca = fs.readFileSync(stack.file.acme.ca);
  const dir = JSON.parse((await getJson(stack.file.acme.directory, ca)).body) as { newNonce: string };
  const nonce = await new Promise<string | undefined>((resolve, reject) => {
    https
      .request(dir.newNonce, { method: 'HEAD', ca, agent: false }, (res) => {
        res.resume();
        resolve(res.headers['replay-nonce'] as string | undefined);
      })
      .on('error', reject)
      .end();
  });
  assert.ok(nonce && nonce.length > 10, `nonce: ${nonce}`);
});

test('the issuing root of this run was saved next to the CA', () => {
  const root = fs.readFileSync(path.join(path.dirname(stack.file.acme.ca), 'issuer-root.pem'), 'utf8');
  assert.match(root, /-----BEGIN CERTIFICATE-----/);
});
