import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { requireAccount, requireDomain } from './web-names';
import { FAILURE } from '../common/failure-types';

/**
 * Web content of a node: `<webRoot>/<account>/<domain>/public_html`. Everything below webRoot belongs to one
 * virtual uid/gid (2000:2000 by default) shared with Pure-FTPd's virtual users, so customers can upload. nginx
 * workers run as nobody: folders 0755 and files 0644.
 */
export interface FilesConfig {
  webRoot: string;
  ownerUid: number;
  ownerGid: number;
}

const INDEX_HTML = (domain: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${domain}</title></head>
<body><h1>${domain}</h1><p>This site is hosted by NPanel. Upload your content to replace this page.</p></body></html>
`;

function invalid(message: string): never {
  throw ApplicationFailure.nonRetryable(message, FAILURE.InvalidInput);
}

function names(input: { account: unknown; domain: unknown }): { account: string; domain: string } {
  return { account: requireAccount(input.account), domain: requireDomain(input.domain) };
}

/**
 * Customers own everything under their account folder (over FTP), so any level may have been replaced by a
 * symlink to elsewhere. We never follow one: lstat each level, and refuse anything that is not a real folder.
 */
function lstatDir(p: string): 'absent' | 'dir' {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw err;
  }
  if (st.isDirectory()) return 'dir';
  throw ApplicationFailure.nonRetryable(`${p} exists and is not a folder (symlink or file): refusing to use it`, FAILURE.DocrootUnsafe);
}

export function createFilesActivities(config: FilesConfig) {
  const webRoot = path.resolve(config.webRoot);

  /** The resolved path must stay inside webRoot (validation makes this true; the check keeps it true). */
  const inside = (...parts: string[]): string => {
    const p = path.resolve(webRoot, ...parts);
    if (!p.startsWith(webRoot + path.sep)) invalid(`path ${p} escapes ${webRoot}`);
    return p;
  };

  const mkdirOwned = (p: string): void => {
    if (lstatDir(p) === 'dir') return;
    try {
      fs.mkdirSync(p, { mode: 0o755 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // a concurrent call made it: fine
      lstatDir(p);
      return;
    }
    fs.chmodSync(p, 0o755); // mkdir's mode is cut by the umask
    fs.lchownSync(p, config.ownerUid, config.ownerGid);
  };

  return {
    /** Creates the docroot (and a default index.html mentioning the domain) if absent; keeps existing content. */
    async ensureDocroot(input: { account: string; domain: string }) {
      const { account, domain } = names(input);
      if (lstatDir(webRoot) === 'absent') fs.mkdirSync(webRoot, { recursive: true, mode: 0o755 });
      const accountDir = inside(account);
      const domainDir = inside(account, domain);
      const docroot = inside(account, domain, 'public_html');
      for (const dir of [accountDir, domainDir, docroot]) mkdirOwned(dir);
      const index = path.join(docroot, 'index.html');
      let createdIndex = false;
      try {
        // 'wx' = O_CREAT|O_EXCL: never overwrites customer content and never follows a symlink.
        fs.writeFileSync(index, INDEX_HTML(domain), { flag: 'wx', mode: 0o644 });
        fs.chmodSync(index, 0o644);
        fs.lchownSync(index, config.ownerUid, config.ownerGid);
        createdIndex = true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      return { path: docroot, createdIndex };
    },

    /** Removes the domain's folder with its content, then the account folder if it is left empty. */
    async removeDocroot(input: { account: string; domain: string }) {
      const { account, domain } = names(input);
      const accountDir = inside(account);
      if (lstatDir(accountDir) === 'absent') return { removed: false };
      const domainDir = inside(account, domain);
      let removed = false;
      try {
        fs.lstatSync(domainDir);
        // fs.rm removes symlinks themselves, never their targets; accountDir was checked to be a real folder.
        fs.rmSync(domainDir, { recursive: true, force: true });
        removed = true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      try {
        fs.rmdirSync(accountDir);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT') throw err;
      }
      return { removed };
    },
  };
}

export type FilesActivities = ReturnType<typeof createFilesActivities>;
