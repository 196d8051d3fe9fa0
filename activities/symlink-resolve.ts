import fs from 'node:fs';
import path from 'node:path';

/**
 * Where a symlink inside a docroot really leads, judged by NPanel itself (never by rsync, whose `--safe-links`
 * differs between versions and drops links silently). A lexical check is not enough: with `b -> .`,
 * `x -> b/b/b/../..` looks like `b` but climbs two levels above the docroot once `b` is followed. So the target
 * is walked one component at a time, as the kernel does, following every intermediate link; a walk that climbs
 * above the docroot, starts at `/`, or loops is outside.
 *
 * A component that does not exist is walked lexically (a later folder of that name would resolve the same way).
 */

/** What a path inside the docroot is: a symlink and its target, something else, or nothing. */
export type Lookup = (relative: string) => { link: string } | 'other' | undefined;

/** As the kernel (MAXSYMLINKS): a resolution that follows more links than this fails, so it is refused. */
const MAX_LINKS_FOLLOWED = 40;

/** A link's resolution: path components below the docroot ([] = the docroot itself) and how many links it followed. */
type Resolved = { at: string[]; followed: number } | null;

/** Judges links against one tree; each link is resolved once, so a 10,000-entry listing stays linear. */
export function linkJudge(lookup: Lookup): (linkName: string) => boolean {
  const done = new Map<string, Resolved>();
  const walking = new Set<string>();

  // `depth` bounds the recursion (a chain of 20,000 links must not overflow the stack): past the limit the
  // link cannot resolve whatever the rest says, and the caller's own result (null) is what gets remembered.
  const resolveLink = (name: string, target: string, depth: number): Resolved => {
    const known = done.get(name);
    if (known !== undefined) return known;
    // A link met again while it is being resolved is a loop (ELOOP): it resolves nowhere, so it is refused.
    if (walking.has(name) || depth > MAX_LINKS_FOLLOWED) return null;
    walking.add(name);
    const result = walk(name.split('/').slice(0, -1), target, depth);
    walking.delete(name);
    done.set(name, result);
    return result;
  };

  const walk = (from: string[], target: string, depth: number): Resolved => {
    if (target === '' || target.startsWith('/')) return null;
    let at = [...from];
    let followed = 1;
    for (const part of target.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (at.length === 0) return null;
        at.pop();
        continue;
      }
      at.push(part);
      const found = lookup(at.join('/'));
      if (found !== undefined && found !== 'other') {
        const next = resolveLink(at.join('/'), found.link, depth + 1);
        if (next === null) return null;
        followed += next.followed;
        if (followed > MAX_LINKS_FOLLOWED) return null;
        at = [...next.at];
      }
    }
    return { at, followed };
  };

  return (linkName: string) => {
    const found = lookup(linkName);
    if (found === undefined || found === 'other') return true;
    return resolveLink(linkName, found.link, 1) !== null;
  };
}

/** A lookup over a listing (the source's `find` output): what the source says its tree is. */
export function listingLookup(entries: readonly { name: string; type: string; link?: string }[]): Lookup {
  const byName = new Map(entries.map((e) => [e.name, e]));
  return (relative) => {
    const e = byName.get(relative);
    if (!e) return undefined;
    return e.type === 'l' ? { link: e.link ?? '' } : 'other';
  };
}

/** A lookup over a local folder (what actually landed on this node; lstat never follows a link). */
export function localLookup(root: string): Lookup {
  return (relative) => {
    const p = path.join(root, relative);
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    if (!st) return undefined;
    return st.isSymbolicLink() ? { link: fs.readlinkSync(p) } : 'other';
  };
}

/**
 * After a copy: every symlink under `root` whose resolution leaves it is removed (the link itself, never its
 * target) and returned with its target. The source may list one tree and serve another; this checks the
 * tree that is really here.
 */
export function removeEscapingLinks(root: string): { name: string; link: string }[] {
  const links = symlinksBelow(root);
  const inside = linkJudge(localLookup(root));
  // Judge every link against the tree as it is before removing any: a removal changes what later links meet.
  const escaping = links.filter((name) => !inside(name)).map((name) => ({ name, link: fs.readlinkSync(path.join(root, name)) }));
  for (const { name } of escaping) fs.unlinkSync(path.join(root, name));
  return escaping;
}

/** Every symlink below `root`, relative to it; only real folders are entered (Node's recursive readdir follows links). */
function symlinksBelow(root: string): string[] {
  const found: string[] = [];
  const folders = [''];
  for (let rel = folders.pop(); rel !== undefined; rel = folders.pop()) {
    for (const d of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const name = rel === '' ? d.name : `${rel}/${d.name}`;
      if (d.isSymbolicLink()) found.push(name);
      else if (d.isDirectory()) folders.push(name);
    }
  }
  return found;
}
