import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec } from '../../lib/codec';

const key = () => crypto.randomBytes(32).toString('base64');

test('encoded payloads do not contain the secret and decode back to the original', async () => {
  const codec = new AesGcmPayloadCodec('k1', { k1: key() });
  const payload = defaultPayloadConverter.toPayload({ password: 'Sup3r-Secret-Value' })!;
  const [encoded] = await codec.encode([payload]);
  assert.ok(!Buffer.from(encoded!.data!).toString('latin1').includes('Sup3r-Secret-Value'));
  assert.equal(Buffer.from(encoded!.metadata!.encoding!).toString(), 'binary/encrypted');
  assert.equal(Buffer.from(encoded!.metadata!['encryption-key-id']!).toString(), 'k1');
  const [decoded] = await codec.decode([encoded!]);
  assert.deepEqual(defaultPayloadConverter.fromPayload(decoded!), { password: 'Sup3r-Secret-Value' });
});

test('a rotated codec still decodes payloads written with a retired key', async () => {
  const oldKey = key();
  const before = new AesGcmPayloadCodec('old', { old: oldKey });
  const [encoded] = await before.encode([defaultPayloadConverter.toPayload('x')!]);
  const after = new AesGcmPayloadCodec('new', { new: key(), old: oldKey });
  const [decoded] = await after.decode([encoded!]);
  assert.equal(defaultPayloadConverter.fromPayload(decoded!), 'x');
  const [reEncoded] = await after.encode([defaultPayloadConverter.toPayload('y')!]);
  assert.equal(Buffer.from(reEncoded!.metadata!['encryption-key-id']!).toString(), 'new');
});

test('tampered ciphertext and unknown key ids are rejected', async () => {
  const codec = new AesGcmPayloadCodec('k1', { k1: key() });
  const [encoded] = await codec.encode([defaultPayloadConverter.toPayload('x')!]);
  const data = Buffer.from(encoded!.data!);
  data[data.length - 20]! ^= 0xff;
  await assert.rejects(codec.decode([{ ...encoded!, data }]));
  const other = new AesGcmPayloadCodec('k2', { k2: key() });
  await assert.rejects(other.decode([encoded!]), /unknown key id k1/);
});

test('a key that is not 32 bytes is refused at construction', () => {
  assert.throws(() => new AesGcmPayloadCodec('k', { k: Buffer.alloc(16).toString('base64') }), /32 bytes/);
});

test('the worker codec (mark mode) replaces a payload that arrived unencrypted by the refusal marker; the API codec passes it', async () => {
  const { isUnencryptedMarker } = await import('../../common/unencrypted-payload');
  const plain = defaultPayloadConverter.toPayload({ username: 'carol' });
  const worker = new AesGcmPayloadCodec('k1', { k1: key() }, 'mark');
  const [marked] = await worker.decode([plain]);
  assert.ok(isUnencryptedMarker(defaultPayloadConverter.fromPayload(marked!)), 'a plaintext input is never handed on');
  const [ours] = await worker.encode([plain]);
  assert.deepEqual(
    defaultPayloadConverter.fromPayload((await worker.decode([ours!]))[0]!),
    { username: 'carol' },
    'an encrypted one decodes as before',
  );
  const api = new AesGcmPayloadCodec('k1', { k1: key() });
  assert.deepEqual(await api.decode([plain]), [plain]);
});
