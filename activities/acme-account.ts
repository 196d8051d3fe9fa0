import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The ACME account of this node at one directory (Pebble, Let's Encrypt staging, production: one account
 * each), kept on disk ENCRYPTED: the account key can order and revoke certificates for every domain the node
 * serves. AES-256-GCM under a key derived (HKDF) from the codec key, so no second secret to deploy, and a
 * leaked copy of the certs folder is useless without the panel's config. One file per directory URL.
 */

export interface StoredAccount {
  directory: string;
  /** PEM of the account's private key (plain only in memory). */
  keyPem: string;
  /** The account URL the CA returned; absent until the account is registered. */
  accountUrl?: string;
}

interface SealedFile {
  v: 1;
  directory: string;
  accountUrl?: string;
  /** base64 of iv(12) | ciphertext | tag(16). */
  key: string;
}

const INFO = 'npanel acme account key v1';

function deriveKey(codecKeyB64: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', Buffer.from(codecKeyB64, 'base64'), Buffer.alloc(0), INFO, 32));
}

export function accountFile(storeDir: string, directory: string): string {
  const id = crypto.createHash('sha256').update(directory).digest('hex').slice(0, 16);
  return path.join(storeDir, `account-${id}.json`);
}

export function sealAccountKey(codecKeyB64: string, keyPem: string): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', deriveKey(codecKeyB64), iv);
  return Buffer.concat([iv, cipher.update(keyPem, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('base64');
}

export function openAccountKey(codecKeyB64: string, sealed: string): string {
  const data = Buffer.from(sealed, 'base64');
  const decipher = crypto.createDecipheriv('aes-256-gcm', deriveKey(codecKeyB64), data.subarray(0, 12));
  decipher.setAuthTag(data.subarray(data.length - 16));
  return Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]).toString('utf8');
}

export function readAccount(storeDir: string, directory: string, codecKeyB64: string): StoredAccount | null {
  let text: string;
  try {
    text = fs.readFileSync(accountFile(storeDir, directory), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const f = JSON.parse(text) as SealedFile;
  return { directory: f.directory, keyPem: openAccountKey(codecKeyB64, f.key), ...(f.accountUrl ? { accountUrl: f.accountUrl } : {}) };
}

/** Write-then-rename (0600): two concurrent first orders may both write, and either file is a valid account. */
export function writeAccount(storeDir: string, account: StoredAccount, codecKeyB64: string): void {
  fs.mkdirSync(storeDir, { recursive: true, mode: 0o700 });
  const file = accountFile(storeDir, account.directory);
  const sealed: SealedFile = {
    v: 1,
    directory: account.directory,
    key: sealAccountKey(codecKeyB64, account.keyPem),
    ...(account.accountUrl ? { accountUrl: account.accountUrl } : {}),
  };
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(sealed) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/**
 * Forgets the stored account when it is still the one the CA refused (`accountUrl`): the next order registers
 * a new key. A concurrent order that already registered anew wrote another URL, which is kept.
 */
export function forgetAccount(storeDir: string, directory: string, codecKeyB64: string, accountUrl: string | undefined): void {
  const stored = readAccount(storeDir, directory, codecKeyB64);
  if (stored && stored.accountUrl === accountUrl) fs.rmSync(accountFile(storeDir, directory), { force: true });
}
