/** Tiny flag parser: `--name value`, `--flag`, and positionals. Unknown flags are an error, not ignored. */
export function parseArgs(argv: string[], flags: Record<string, 'string' | 'boolean'>) {
  const values: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    const kind = flags[name];
    if (!kind) throw new Error(`unknown option --${name}`);
    if (kind === 'boolean') values[name] = true;
    else {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new Error(`--${name} needs a value`);
      values[name] = value;
    }
  }
  return { values, positionals };
}
