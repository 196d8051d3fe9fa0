import crypto from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { UNENCRYPTED_PAYLOAD_MARKER } from '../common/unencrypted-payload';

const ENCODING = 'binary/encrypted';
const KEY_ID_HEADER = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const MARKER: Payload = {
  metadata: { encoding: Buffer.from('json/plain') },
  data: Buffer.from(JSON.stringify({ [UNENCRYPTED_PAYLOAD_MARKER]: true })),
};

/**
 * Encrypts every payload (workflow inputs, results, activity arguments, signals, queries) with AES-256-GCM so
 * passwords and keys in them are never stored in Temporal's history in plain text. The key id travels in the
 * metadata: old keys stay in the ring for decoding while new payloads use the current key (rotation).
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly keys: Map<string, Buffer>;

  constructor(
    private readonly currentKeyId: string,
    keyring: Record<string, string>,
    /**
     * `pass`: a payload without our encryption is returned as it is (the API shows what is in a history).
     * `mark`: it is replaced by the unencrypted-payload marker (the worker: a client without the key must not
     * make a workflow run; workflows/encrypted-input-interceptor.ts fails the workflow). Not a throw: a decode
     * error only fails the workflow task, which Temporal retries forever, and the workflow would look stuck.
     */
    private readonly plaintext: 'pass' | 'mark' = 'pass',
  ) {
    this.keys = new Map(Object.entries(keyring).map(([id, b64]) => [id, Buffer.from(b64, 'base64')]));
    for (const [id, key] of this.keys) {
      if (key.length !== 32) throw new Error(`codec key ${id} must be 32 bytes (base64), got ${key.length}`);
    }
    if (!this.keys.has(currentKeyId)) throw new Error(`codec key ${currentKeyId} missing from the key ring`);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.keys.get(this.currentKeyId)!;
    return payloads.map((payload) => {
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const iv = crypto.randomBytes(IV_BYTES);
      const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          encoding: Buffer.from(ENCODING),
          [KEY_ID_HEADER]: Buffer.from(this.currentKeyId),
        },
        data,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (Buffer.from(payload.metadata?.encoding ?? []).toString() !== ENCODING) return this.plaintext === 'pass' ? payload : MARKER;
      const keyId = Buffer.from(payload.metadata?.[KEY_ID_HEADER] ?? []).toString();
      const key = this.keys.get(keyId);
      if (!key) throw new Error(`payload encrypted with unknown key id ${keyId}`);
      const data = Buffer.from(payload.data ?? []);
      const iv = data.subarray(0, IV_BYTES);
      const tag = data.subarray(data.length - TAG_BYTES);
      const decipher = crypto.createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAuthTag(tag);
      const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      return temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}

/** The codec from config: the current key plus optional retired keys (`NPANEL_CODEC_RETIRED_KEYS=id:b64,…`). */
export function codecFromConfig(
  codec: { key: string; keyId: string },
  retired = process.env.NPANEL_CODEC_RETIRED_KEYS ?? '',
  plaintext: 'pass' | 'mark' = 'pass',
): AesGcmPayloadCodec {
  const ring: Record<string, string> = { [codec.keyId]: codec.key };
  for (const entry of retired.split(',').filter(Boolean)) {
    const [id, key] = entry.split(':');
    if (id && key) ring[id] = key;
  }
  return new AesGcmPayloadCodec(codec.keyId, ring, plaintext);
}

/** The worker's codec: payloads that arrive unencrypted are marked and refused by the workflows. */
export const workerCodecFromConfig = (codec: { key: string; keyId: string }) => codecFromConfig(codec, undefined, 'mark');
