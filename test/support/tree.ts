import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Regular files below a folder (symlinks and specials skipped), as paths relative to it; none if it is absent. */
export function* treeFiles(root: string): Generator<string> {
  if (!fs.existsSync(root)) return;
  const stack = [root];
  while (stack.length) {
    const dir = stack.pop()!;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) stack.push(full);
      else if (e.isFile()) yield path.relative(root, full);
    }
  }
}

/** Sum of the sizes of the regular files below root: how far a copy into it has come. */
export function dirBytes(root: string): number {
  let n = 0;
  for (const rel of treeFiles(root)) n += fs.statSync(path.join(root, rel), { throwIfNoEntry: false })?.size ?? 0;
  return n;
}

/** sha256 of every regular file below root, by relative name. */
export function treeHashes(root: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const rel of treeFiles(root))
    out.set(
      rel,
      crypto
        .createHash('sha256')
        .update(fs.readFileSync(path.join(root, rel)))
        .digest('hex'),
    );
  return out;
}
