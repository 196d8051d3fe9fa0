import fs from 'node:fs';
import path from 'node:path';
import { Client, type Connection } from '@temporalio/client';
import { codecFromConfig } from '../../lib/codec';
import type { StackFile } from '../../stack/stack-file';
import type { StackSecrets } from '../../stack/context';

export interface LoadedStack {
  home: string;
  file: StackFile;
  secrets: StackSecrets;
}

/**
 * Integration tests run against a stack the harness (`bin/npanel test`) started; it passes the folder in
 * NPANEL_STACK_DIR. A missing stack is an error, never a skip: a skipped integration test is not a pass.
 */
export function loadStack(): LoadedStack {
  const home = process.env.NPANEL_STACK_DIR;
  if (!home) throw new Error('NPANEL_STACK_DIR is not set: run integration tests through `bin/npanel test`');
  return loadStackAt(home);
}

/** The stack whose home is `home` (a bench that starts its own stacks). */
export function loadStackAt(home: string): LoadedStack {
  const file = JSON.parse(fs.readFileSync(path.join(home, 'stack.json'), 'utf8')) as StackFile;
  const secrets = JSON.parse(fs.readFileSync(path.join(home, 'secrets.json'), 'utf8')) as StackSecrets;
  return { home, file, secrets };
}

/** A Temporal client on an open connection with the stack's namespace and payload codec, as the API and worker have. */
export function stackClient(connection: Connection, stack: Pick<LoadedStack, 'file' | 'secrets'>): Client {
  return new Client({
    connection,
    namespace: stack.file.temporal.namespace,
    dataConverter: { payloadCodecs: [codecFromConfig({ key: stack.secrets.codecKey, keyId: stack.secrets.codecKeyId })] },
  });
}
