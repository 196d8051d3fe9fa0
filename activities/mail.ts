import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { MailLayout } from './mail-layout';
import { isDomainName, isMailLocal, MAIL_LOCAL_RULE } from '../common/names';
import { sha512Crypt, sha512CryptMatches } from './crypt-hash';
import { mkdirOwned, readIfExists, removeIfExists, serialised, writeAtomic } from './mail-files';
import { FAILURE } from '../common/failure-types';

/**
 * Mail domains and mailboxes of one hosting node, kept as one small file each in the database folders that
 * Dovecot (dict `fs:posix`, read per login) and Exim (`dsearch`, read per recipient) look up: every change is
 * live the moment its file is renamed into place, with no reload and no one-second cache window.
 */
export interface MailConfig extends Pick<MailLayout, 'dbDir' | 'usersDir' | 'domainsDir' | 'suspendedDir' | 'vmailDir'> {
  /** Owner of the maildirs (Dovecot's mail_uid/mail_gid). */
  vmailUid: number;
  vmailGid: number;
  /**
   * Group of the records' readers (default: `Debian-exim`): Exim checks submission logins against them, and
   * Dovecot's auth process is in that group too (`extra_groups` in dovecot-config.ts).
   */
  authGid?: number;
  /** Dovecot's config, for `doveadm -c` (ending the open sessions of a removed or suspended mailbox). */
  doveConf: string;
  doveadmBin?: string;
}

function checkDomain(domain: unknown): string {
  if (!isDomainName(domain))
    throw ApplicationFailure.nonRetryable(
      `invalid mail domain ${JSON.stringify(domain)}: want lowercase LDH like example.com`,
      FAILURE.MailInvalidName,
    );
  return domain;
}

function checkLocal(local: unknown): string {
  if (!isMailLocal(local)) {
    throw ApplicationFailure.nonRetryable(
      `invalid mailbox name ${JSON.stringify(local)}: ${MAIL_LOCAL_RULE}, no ".."`,
      FAILURE.MailInvalidName,
    );
  }
  return local;
}

function checkPassword(password: unknown): string {
  // No line breaks or NUL: the crypt helper (crypt-hash.ts) reads one password per line.
  if (typeof password !== 'string' || password.length < 1 || password.length > 1024 || /[\r\n\0]/.test(password)) {
    throw ApplicationFailure.nonRetryable('invalid mailbox password: 1-1024 characters, no line breaks', FAILURE.MailInvalidPassword);
  }
  return password;
}

/** What Dovecot reads for a login (passdb) and for delivery and IMAP sessions (userdb). */
interface MailboxRecord {
  password: string;
  home: string;
}

async function groupId(name: string): Promise<number> {
  const line = (await fs.readFile('/etc/group', 'utf8')).split('\n').find((l) => l.startsWith(`${name}:`));
  const gid = line ? Number(line.split(':')[2]) : NaN;
  if (!Number.isInteger(gid)) throw new Error(`group "${name}" not found`);
  return gid;
}

export function createMailActivities(config: MailConfig) {
  const doveadm = config.doveadmBin ?? 'doveadm';
  const tmpDir = path.join(config.dbDir, '.tmp');
  let authGid: Promise<number> | undefined = config.authGid === undefined ? undefined : Promise.resolve(config.authGid);
  const recordOwner = async () => ({ uid: 0, gid: await (authGid ??= groupId('Debian-exim')) });
  const owned = { mode: 0o700, uid: config.vmailUid, gid: config.vmailGid };

  const userFile = (domain: string, local: string) => path.join(config.usersDir, `${local}@${domain}`);
  const domainFile = (domain: string) => path.join(config.domainsDir, domain);
  const suspendedFile = (domain: string) => path.join(config.suspendedDir, domain);
  const home = (domain: string, local: string) => path.join(config.vmailDir, domain, local);

  async function writeRecord(file: string, value: unknown): Promise<void> {
    await writeAtomic(file, `${JSON.stringify(value)}\n`, { tmpDir, mode: 0o640, ...(await recordOwner()) });
  }

  /**
   * Ends open IMAP sessions (a suspended or removed mailbox must not keep reading mail). Best effort: with
   * Dovecot down there is no session to end; exit 68 means "nobody was logged in".
   */
  function kick(mask: string): Promise<void> {
    return new Promise((resolve) => {
      execFile(doveadm, ['-c', config.doveConf, 'kick', mask], { timeout: 10_000 }, () => resolve());
    });
  }

  async function mailboxesOf(domain: string): Promise<string[]> {
    const names = await fs.readdir(config.usersDir);
    return names.filter((n) => n.endsWith(`@${domain}`)).map((n) => n.slice(0, -domain.length - 1));
  }

  /** Makes `domain` a mail domain; the caller holds the domain's lock. */
  async function ensureDomainHeld(domain: string): Promise<{ domain: string; created: boolean }> {
    await mkdirOwned(config.vmailDir, [domain], owned);
    if ((await readIfExists(domainFile(domain))) !== undefined) return { domain, created: false };
    await writeRecord(domainFile(domain), { domain });
    return { domain, created: true };
  }

  /**
   * Creates the mailbox or sets its password; the caller holds the domain's lock and made the domain. Its
   * maildir is made first and its record last, so the first login or delivery already finds a complete
   * mailbox. A retry with the same password changes nothing (not even the salt).
   */
  async function ensureMailboxHeld(domain: string, local: string, password: string) {
    const address = `${local}@${domain}`;
    const existing = await readIfExists(userFile(domain, local));
    const record = existing === undefined ? undefined : (JSON.parse(existing) as Partial<MailboxRecord>);
    const want = home(domain, local);
    // Cheap when present (a few EEXIST), and repairs a maildir someone deleted by hand.
    await mkdirOwned(config.vmailDir, [domain, local, 'Maildir'], owned);
    for (const sub of ['cur', 'new', 'tmp']) await mkdirOwned(path.join(want, 'Maildir'), [sub], owned);
    if (record && record.home === want && typeof record.password === 'string' && (await sha512CryptMatches(password, record.password))) {
      return { address, created: false, changed: false, passwordHash: record.password };
    }
    const next: MailboxRecord = { password: await sha512Crypt(password), home: want };
    await writeRecord(userFile(domain, local), next);
    return { address, created: record === undefined, changed: true, passwordHash: next.password };
  }

  return {
    /** Makes `domain` a mail domain of this node: Exim accepts mail for its mailboxes from now on. */
    async ensureMailDomain(input: { domain: string }) {
      const domain = checkDomain(input.domain);
      return serialised(`mail:${domain}`, () => ensureDomainHeld(domain));
    },

    /**
     * The domain and all its mailboxes in one activity, as provisioning needs them: one task round trip
     * instead of 1 + N. Returns each mailbox's SHA512-crypt hash (the password itself is never returned), so
     * the inventory records the very hash Dovecot checks instead of hashing again; activity results are
     * encrypted in history by the payload codec.
     */
    async ensureMailboxes(input: { domain: string; mailboxes: { local: string; password: string }[] }) {
      const domain = checkDomain(input.domain);
      if (!Array.isArray(input.mailboxes)) throw ApplicationFailure.nonRetryable('mailboxes must be a list', FAILURE.MailInvalidInput);
      const wanted = input.mailboxes.map((m) => ({ local: checkLocal(m.local), password: checkPassword(m.password) }));
      return serialised(`mail:${domain}`, async () => {
        const created = (await ensureDomainHeld(domain)).created;
        const mailboxes = [];
        for (const m of wanted) mailboxes.push(await ensureMailboxHeld(domain, m.local, m.password));
        return { domain, created, mailboxes };
      });
    },

    /** Removes the domain, all its mailboxes and their mail. Mail for it is refused at RCPT from the first step. */
    async removeMailDomain(input: { domain: string }) {
      const domain = checkDomain(input.domain);
      return serialised(`mail:${domain}`, async () => {
        const removed = await removeIfExists(domainFile(domain));
        const locals = await mailboxesOf(domain);
        for (const local of locals) await removeIfExists(userFile(domain, local));
        await removeIfExists(suspendedFile(domain));
        await kick(`*@${domain}`);
        await fs.rm(path.join(config.vmailDir, domain), { recursive: true, force: true });
        return { domain, removed, mailboxesRemoved: locals.length };
      });
    },

    /**
     * Creates the mailbox, or sets its password when it exists (ensureMailboxHeld). The password only ever
     * exists here and in the hash.
     */
    async ensureMailbox(input: { domain: string; local: string; password: string }) {
      const domain = checkDomain(input.domain);
      const local = checkLocal(input.local);
      const password = checkPassword(input.password);
      return serialised(`mail:${domain}`, async () => {
        if ((await readIfExists(domainFile(domain))) === undefined) {
          throw ApplicationFailure.nonRetryable(
            `${domain} is not a mail domain of this node: run ensureMailDomain first`,
            FAILURE.MailDomainNotFound,
          );
        }
        const { address, created, changed } = await ensureMailboxHeld(domain, local, password);
        return { address, created, changed };
      });
    },

    /** Deletes the mailbox and its mail: logins fail and mail to it is refused at once. */
    async removeMailbox(input: { domain: string; local: string }) {
      const domain = checkDomain(input.domain);
      const local = checkLocal(input.local);
      const address = `${local}@${domain}`;
      return serialised(`mail:${domain}`, async () => {
        const removed = await removeIfExists(userFile(domain, local));
        await kick(address);
        await fs.rm(home(domain, local), { recursive: true, force: true });
        return { address, removed };
      });
    },

    /**
     * Refuses (or restores) IMAP logins of every mailbox of the domain, present and future, without touching
     * passwords; mail keeps arriving. A domain without mail is fine (suspend runs for every account).
     */
    async setMailDomainSuspended(input: { domain: string; suspended: boolean }) {
      const domain = checkDomain(input.domain);
      if (typeof input.suspended !== 'boolean')
        throw ApplicationFailure.nonRetryable('suspended must be a boolean', FAILURE.MailInvalidInput);
      const suspended = input.suspended;
      return serialised(`mail:${domain}`, async () => {
        const was = (await readIfExists(suspendedFile(domain))) !== undefined;
        if (suspended && !was) await writeRecord(suspendedFile(domain), { reason: 'suspended' });
        if (!suspended && was) await removeIfExists(suspendedFile(domain));
        if (suspended) await kick(`*@${domain}`);
        return { domain, suspended, changed: was !== suspended };
      });
    },
  };
}

export type MailActivities = ReturnType<typeof createMailActivities>;
