import { remoteCommand } from './remote-quote';
import { linkJudge, listingLookup } from './symlink-resolve';

/**
 * The list of what a migration copies, made on the source by `find -printf` with NUL-separated fields (names
 * may hold spaces, newlines, any UTF-8), then judged HERE: the source is not trusted. An entry whose name
 * could leave the docroot (`..`, absolute, empty), a symlink whose full resolution leaves it (absolute, climbing
 * out, through other links, looping: activities/symlink-resolve.ts) and special files are refused and reported;
 * only accepted entries are ever handed to the copier.
 */

export interface ManifestEntry {
  type: 'f' | 'd' | 'l';
  size: number;
  mtime: number;
  name: string;
  link?: string;
}

export interface Refused {
  name: string;
  reason: string;
}

export interface Manifest {
  entries: ManifestEntry[];
  refused: Refused[];
  files: number;
  bytes: number;
}

const FIELDS = 5;

/** `find DOCROOT -mindepth 1 -printf 'type\0size\0mtime\0relative name\0link target\0'`. */
export function manifestCommand(docroot: string): string {
  return remoteCommand(['find', docroot, '-mindepth', '1', '-printf', '%y\\0%s\\0%T@\\0%P\\0%l\\0']);
}

export function nameProblem(name: string): string | null {
  if (name === '' || name === '.') return 'empty name';
  if (name.startsWith('/')) return 'absolute path';
  if (name.split('/').some((p) => p === '..')) return "'..' component";
  if (name.split('/').some((p) => p === '' || p === '.')) return 'non-canonical path';
  return null;
}

export function parseManifest(raw: Buffer): Manifest {
  const fields = raw.toString('utf8').split('\0');
  fields.pop(); // after the last NUL
  const entries: ManifestEntry[] = [];
  const refused: Refused[] = [];
  let files = 0;
  let bytes = 0;
  for (let i = 0; i + FIELDS <= fields.length; i += FIELDS) {
    const [type, size, mtime, name, link] = fields.slice(i, i + FIELDS) as [string, string, string, string, string];
    const problem = nameProblem(name);
    if (problem) {
      refused.push({ name, reason: problem });
      continue;
    }
    if (type === 'l') {
      // Judged below, once the whole listing is known: a link's meaning depends on the other links.
      entries.push({ type: 'l', size: 0, mtime: Number(mtime), name, link });
    } else if (type === 'f' || type === 'd') {
      const n = Number(size);
      if (!Number.isSafeInteger(n) || n < 0) {
        refused.push({ name, reason: 'unreadable size' });
        continue;
      }
      entries.push({ type, size: type === 'f' ? n : 0, mtime: Number(mtime), name });
      if (type === 'f') {
        files += 1;
        bytes += n;
      }
    } else {
      refused.push({ name, reason: `special file (type ${type})` });
    }
  }
  const inside = linkJudge(listingLookup(entries));
  const escaping = new Set(entries.filter((e) => e.type === 'l' && !inside(e.name)));
  for (const e of escaping) refused.push({ name: e.name, reason: `symlink to ${e.link} resolves outside the docroot` });
  if (fields.length % FIELDS !== 0) refused.push({ name: '(truncated listing)', reason: 'the source sent an incomplete entry' });
  return { entries: escaping.size ? entries.filter((e) => !escaping.has(e)) : entries, refused, files, bytes };
}

/**
 * What rsync's `--exclude-from --from0` reads: one anchored pattern per refused entry, NUL-terminated (names
 * may hold newlines). rsync walks the folder itself (`-r`): handing it 10,000 names through `--files-from`
 * made a no-change pass 3-5x slower than plain `rsync -a` (bench/migrate.ts). The exclusions are the first
 * guard; after the copy NPanel checks every symlink that landed (symlink-resolve.ts removeEscapingLinks), and
 * `--safe-links` and leaving out `-D` refuse the same entries again in rsync if one appears after the listing.
 * In a pattern with a wildcard character, a backslash escapes; in one without, it is literal.
 */
export function excludeList(m: Manifest): Buffer {
  const patterns = m.refused
    .filter((r) => nameProblem(r.name) === null)
    .map((r) => (/[*?[]/.test(r.name) ? `/${r.name.replace(/[*?[\\]/g, '\\$&')}` : `/${r.name}`));
  return Buffer.from(patterns.map((p) => `${p}\0`).join(''), 'utf8');
}
