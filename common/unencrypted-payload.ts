/**
 * What the worker's payload codec (lib/codec.ts, refusing mode) puts in place of a payload that arrived
 * without NPanel's encryption: a client without the codec key (anyone who reaches the Temporal frontend)
 * sent it. The workflow interceptor (workflows/encrypted-input-interceptor.ts) fails such a workflow before
 * its first step. Shared by both sides, written once.
 */
export const UNENCRYPTED_PAYLOAD_MARKER = '__npanelUnencryptedPayload';

export const isUnencryptedMarker = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && (value as Record<string, unknown>)[UNENCRYPTED_PAYLOAD_MARKER] === true;
