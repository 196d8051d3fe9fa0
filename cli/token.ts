import fs from 'node:fs';
import path from 'node:path';
import { tokenCreateInput } from '../common/token-input';
import { loadConfig } from '../config/load';
import { createDb, type DbConfig } from '../db/client';
import { AccountClosingError, AccountNotFoundError, createRepositories } from '../db/repositories';
import type { StackSecrets } from '../stack/context';
import type { StackFile } from '../stack/stack-file';
import { parseArgs } from './args';

export const TOKEN_USAGE = `usage: npanel token <create|revoke|list> [--home DIR]
  token create --role admin|customer [--account NAME] [--label TEXT]   prints only the new token on stdout
  token revoke ID|FINGERPRINT|TOKEN                                     revokes one live token
  token list                                                            id, role, account, fingerprint, state
`;

/**
 * Where the inventory is: the one path for both worlds. A stack home (`<home>/stack.json` + `secrets.json`,
 * default `.npanel`) when there is one and no NPANEL_INVENTORY_HOST is set; otherwise the production
 * configuration (NPANEL_* env, as the API reads it).
 */
export function inventoryConfig(home: string, env: NodeJS.ProcessEnv = process.env): DbConfig {
  const stackFile = path.join(home, 'stack.json');
  if (!env.NPANEL_INVENTORY_HOST && fs.existsSync(stackFile)) {
    const stack = JSON.parse(fs.readFileSync(stackFile, 'utf8')) as StackFile;
    const secrets = JSON.parse(fs.readFileSync(path.join(home, 'secrets.json'), 'utf8')) as StackSecrets;
    return {
      host: stack.mysql.host,
      port: stack.mysql.port,
      user: 'npanel',
      password: secrets.inventoryPassword,
      database: 'npanel',
      connectionLimit: 1,
    };
  }
  return { ...loadConfig(env).inventory, connectionLimit: 1 };
}

/** `npanel token …`: returns the exit code (2 for a usage error). Messages go to stderr, the token alone to stdout. */
export async function token(argv: string[], defaultHome: string): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'create' && sub !== 'revoke' && sub !== 'list') {
    process.stderr.write(TOKEN_USAGE);
    return 2;
  }
  const { values, positionals } = parseArgs(rest, { role: 'string', account: 'string', label: 'string', home: 'string' });
  const home = path.resolve((values.home as string | undefined) ?? defaultHome);
  let create: ReturnType<typeof tokenCreateInput.parse> | undefined;
  if (sub === 'create') {
    const parsed = tokenCreateInput.safeParse({ role: values.role, account: values.account, label: values.label });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      process.stderr.write(`npanel token create: --${String(issue.path[0] ?? 'role')}: ${issue.message}\n${TOKEN_USAGE}`);
      return 2;
    }
    create = parsed.data;
  } else if (sub === 'revoke' && positionals.length !== 1) {
    process.stderr.write(TOKEN_USAGE);
    return 2;
  }

  const { db, close } = createDb(inventoryConfig(home));
  try {
    const tokens = createRepositories(db).tokens;
    if (create) {
      const made = await tokens.create(create).catch((err: unknown) => {
        // A customer token only for an account that exists and is not being removed: the operator's input error.
        if (err instanceof AccountNotFoundError || err instanceof AccountClosingError) return err;
        throw err;
      });
      if (made instanceof Error) {
        process.stderr.write(`npanel token create: --account: ${made.message}\n`);
        return 1;
      }
      const { token: plain } = made;
      process.stdout.write(`${plain}\n`);
      return 0;
    }
    if (sub === 'revoke') {
      const revoked = await tokens.revoke(positionals[0]!);
      process.stderr.write(revoked ? 'revoked\n' : `no live token matches ${positionals[0]}\n`);
      return revoked ? 0 : 1;
    }
    for (const t of await tokens.list()) {
      const state = t.revokedAt ? 'revoked' : 'live';
      process.stdout.write(
        `${String(t.id).padEnd(6)} ${t.role.padEnd(9)} ${(t.account ?? '-').padEnd(17)} ${t.fingerprint}  ${state}  ${t.label ?? ''}\n`,
      );
    }
    return 0;
  } finally {
    await close();
  }
}
