/**
 * The stack's side of the mail layout: the folders made before Dovecot and Exim
 * start. The layout itself (paths, the virtual mail ids) is production code: activities/mail-layout.ts.
 */
import fs from 'node:fs';
import type { MailLayout } from '../../activities/mail-layout';
import { eximGid } from '../../activities/system-ids';

/**
 * Creates what is absent and keeps what exists (mailboxes, maildirs, suspensions survive restarts).
 * Who may see what: the database folders are root:Debian-exim 0751 (Exim lists them to check recipients,
 * everyone else may only traverse them) and each record inside is root:Debian-exim 0640 (only Dovecot's auth and
 * Exim's AUTH read password hashes). Users of the machine can thus neither list mailboxes nor read a hash.
 */
export function initMailLayout(layout: MailLayout): void {
  const eximGroup = eximGid();
  fs.mkdirSync(layout.dir, { recursive: true, mode: 0o755 });
  fs.mkdirSync(layout.dovecotDir, { recursive: true, mode: 0o755 });
  // Dovecot fixes the modes of base_dir itself; state_dir holds only its own small state files.
  fs.mkdirSync(layout.dovecotBaseDir, { recursive: true, mode: 0o755 });
  fs.mkdirSync(layout.dovecotStateDir, { recursive: true, mode: 0o750 });
  for (const dir of [layout.dbDir, layout.usersDir, layout.domainsDir, layout.suspendedDir]) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o751 });
    fs.chownSync(dir, 0, eximGroup);
    fs.chmodSync(dir, 0o751);
  }
  fs.mkdirSync(layout.vmailDir, { recursive: true, mode: 0o755 });
}
