import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { repoRoot } from '../../config/load';
import { temporalBinary } from '../../stack/services/temporal';

const execFileP = promisify(execFile);

/**
 * The SDK's historyFromJSON fails here ("type must be a Type"): @temporalio/common and @temporalio/proto each
 * carry their own copy of protobufjs, and the message types come from proto's copy. Parsing with proto's own
 * protojson reads the same canonical JSON that `temporal workflow show -o json` writes (enum names, "10s").
 */
const protoRequire = createRequire(require.resolve('@temporalio/proto'));
const { fromJson } = protoRequire('protobufjs/ext/protojson') as { fromJson: (type: unknown, json: unknown, opts: object) => unknown };

export function historyFromJson(json: unknown): temporal.api.history.v1.History {
  const history = fromJson(temporal.api.history.v1.History, json, { ignoreUnknownFields: true });
  if (!history) throw new TypeError('not a history');
  return history as temporal.api.history.v1.History;
}

/**
 * Replay fixtures: one JSON history per file, `<workflowType>-<case>.json`, as `temporal workflow show -o json`
 * writes it. Payloads are stored DECODED (plain JSON): the histories come from throwaway test runs with
 * fixture-only passwords, and a decoded fixture replays without any key, so the stack's codec key never has
 * to be committed (nor a second, fixture-only key kept in step with lib/codec.ts).
 */
export const HISTORIES_DIR = path.join(repoRoot(), 'test', 'replay', 'histories');

export interface HistoryFixture {
  file: string;
  workflowType: string;
  workflowId: string;
  history: temporal.api.history.v1.IHistory;
}

export function loadFixtures(dir = HISTORIES_DIR): HistoryFixture[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const json = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
      const history = historyFromJson(json);
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      const workflowType = started?.workflowType?.name ?? 'unknown';
      // The original ID: workflows may derive child IDs from their own, so replay must run under the same one.
      if (typeof json.workflowId !== 'string') throw new Error(`${file}: no workflowId`);
      return { file, workflowType, workflowId: json.workflowId as string, history };
    });
}

type JsonPayload = { metadata?: Record<string, string>; data?: string };

/** Decodes every encrypted payload of a history in place (the JSON form: base64 strings). */
export async function decodeHistoryJson(json: unknown, codec: PayloadCodec): Promise<unknown> {
  const visit = async (node: unknown): Promise<unknown> => {
    if (Array.isArray(node)) return Promise.all(node.map(visit));
    if (!node || typeof node !== 'object') return node;
    const obj = node as Record<string, unknown>;
    if (
      obj.metadata &&
      typeof obj.metadata === 'object' &&
      'encoding' in (obj.metadata as object) &&
      ('data' in obj || Object.keys(obj).length === 1)
    ) {
      const p = obj as JsonPayload;
      const payload = {
        metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
        data: Buffer.from(p.data ?? '', 'base64'),
      };
      const [decoded] = await codec.decode([payload]);
      const data = redactKeys(Buffer.from(decoded!.data ?? []));
      return {
        metadata: Object.fromEntries(Object.entries(decoded!.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
        ...(data.length ? { data: data.toString('base64') } : {}),
      };
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = await visit(v);
    return out;
  };
  return visit(json);
}

/** The history as `temporal workflow show -o json` prints it (the proto3 JSON form historyFromJSON reads). */
export async function showHistory(address: string, workflowId: string): Promise<unknown> {
  const { stdout } = await execFileP(
    temporalBinary(),
    ['workflow', 'show', '--address', address, '--namespace', 'default', '-w', workflowId, '-o', 'json'],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return JSON.parse(stdout);
}

/**
 * Private keys (a migration's SSH key) are replaced by a marker: workflow code only passes them on to
 * activities, so replay does not depend on them, and no key, even a throwaway one, gets committed.
 */
function redactKeys(data: Buffer): Buffer {
  const text = data.toString('utf8');
  if (!text.includes('PRIVATE KEY')) return data;
  return Buffer.from(
    text.replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----(\\n|\n)?/g, '<redacted private key>'),
  );
}

export async function writeFixture(name: string, workflowId: string, json: unknown, codec: PayloadCodec): Promise<string> {
  const decoded = { workflowId, ...((await decodeHistoryJson(json, codec)) as object) };
  fs.mkdirSync(HISTORIES_DIR, { recursive: true });
  const file = path.join(HISTORIES_DIR, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(decoded) + '\n');
  return file;
}
