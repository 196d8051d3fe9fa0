import fs from 'node:fs';
import path from 'node:path';
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
  const file = JSON.parse(fs.readFileSync(path.join(home, 'stack.json'), 'utf8')) as StackFile;
  const secrets = JSON.parse(fs.readFileSync(path.join(home, 'secrets.json'), 'utf8')) as StackSecrets;
  return { home, file, secrets };
}
