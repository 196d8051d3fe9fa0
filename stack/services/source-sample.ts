import fs from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import type { StackContext } from '../context';
import { ensureSourceUser, sourceLayout, SOURCE_USER } from './source-user';

/**
 * The sample site a migration demo or test copies: a docroot with a few hundred small files (names with
 * spaces and non-ASCII letters, nested folders), a `shop` database and two maildirs. Content is
 * deterministic, so a test can compare checksums on both sides.
 */
function sampleFiles(): Array<[string, string]> {
  const files: Array<[string, string]> = [
    [
      'index.html',
      '<!doctype html>\n<html><head><meta charset="utf-8"><title>Shop</title></head>\n<body><h1>Welcome to the sample shop</h1>\n<p>npanel-migration-source</p></body></html>\n',
    ],
    ['.htaccess', 'Options -Indexes\n'],
    ['robots.txt', 'User-agent: *\nDisallow:\n'],
    ['about us.html', '<h1>About us</h1>\n'],
    ['café/menü.html', '<h1>Menü du café</h1>\n'],
    ['docs/日本語/ページ.txt', 'こんにちは\n'],
    ['docs/Read Me First.txt', 'Read me.\n'],
    ['downloads/price list (2024).csv', 'sku,price\nA-1,9.99\n'],
  ];
  for (let i = 0; i < 120; i++)
    files.push([`assets/img/p${String(i).padStart(3, '0')}.svg`, `<svg xmlns="http://www.w3.org/2000/svg"><text>${i}</text></svg>\n`]);
  for (let i = 0; i < 40; i++) files.push([`assets/css/part-${i}.css`, `.c${i} { margin: ${i}px; }\n`]);
  for (let i = 0; i < 40; i++) files.push([`assets/js/mod ${i}.js`, `export const n${i} = ${i};\n`]);
  for (let m = 1; m <= 12; m++) {
    for (let d = 1; d <= 8; d++) {
      const mm = String(m).padStart(2, '0');
      files.push([`uploads/2024/${mm}/photo ${d} – résumé.txt`, `upload ${mm}-${d}\n`]);
    }
  }
  return files;
}

/** Writes the docroot into a temp folder and renames it in: present means complete, so restarts never re-seed. */
function seedDocroot(docroot: string, uid: number, gid: number): boolean {
  if (fs.existsSync(docroot)) return false;
  const tmp = `${docroot}.seeding`;
  fs.rmSync(tmp, { recursive: true, force: true });
  for (const [rel, content] of sampleFiles()) {
    const file = path.join(tmp, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
    fs.writeFileSync(file, content, { mode: 0o644 });
  }
  chownTree(tmp, uid, gid);
  // The folders above the docroot stay root-owned 0755: readable by the user, not replaceable by it.
  fs.mkdirSync(path.dirname(docroot), { recursive: true, mode: 0o755 });
  fs.renameSync(tmp, docroot);
  return true;
}

function chownTree(dir: string, uid: number, gid: number): void {
  fs.chownSync(dir, uid, gid);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) chownTree(full, uid, gid);
    else fs.chownSync(full, uid, gid);
  }
}

/** The sample mailboxes: `<home>/source/mail/shop.example/<local>/Maildir`, read by the SSH user. */
export function sampleMailboxes(ctx: StackContext): { local: string; maildir: string }[] {
  return ['info', 'sales'].map((local) => ({ local, maildir: path.join(ctx.home, 'source', 'mail', 'shop.example', local, 'Maildir') }));
}

function message(n: number, local: string, subject: string): string {
  const date = new Date(Date.UTC(2024, 2, n, 9, 30)).toUTCString().replace('GMT', '+0000');
  return [
    `From: Customer ${n} <customer${n}@example.test>`,
    `To: ${local}@shop.example`,
    `Subject: ${subject}`,
    `Date: ${date}`,
    `Message-ID: <sample-${local}-${n}@shop.example>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    `Hello ${local}, this is sample message ${n} (${subject}).`,
    'Grüße, Zoë',
    '',
  ].join('\r\n');
}

/** Read mail in cur/ (flag S), unread in new/; file names in the maildir format (`S=` size, `:2,` flags). */
function sampleMessages(local: string): Array<[string, string]> {
  const subjects =
    local === 'info' ? ['Order 1001 question', 'Opening hours', 'Café menu – allergens?'] : ['Wholesale prices', 'Invoice 2024-07'];
  return subjects.map((subject, i) => {
    const text = message(i + 1, local, subject);
    const base = `${1709280000 + i * 3600}.M${i + 1}P100.source,S=${Buffer.byteLength(text)}`;
    return [i === subjects.length - 1 ? `new/${base}` : `cur/${base}:2,S`, text];
  });
}

/** Each maildir appears complete or not at all (renamed in); present ones are left as they are. */
function seedMaildirs(ctx: StackContext, uid: number, gid: number): number {
  let seeded = 0;
  for (const { local, maildir } of sampleMailboxes(ctx)) {
    if (fs.existsSync(maildir)) continue;
    const tmp = `${maildir}.seeding`;
    fs.rmSync(tmp, { recursive: true, force: true });
    // The folders above stay root-owned 0755 (as for the docroot); the maildir itself is the user's, 0700.
    fs.mkdirSync(path.dirname(maildir), { recursive: true, mode: 0o755 });
    for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(tmp, sub), { recursive: true, mode: 0o700 });
    for (const [rel, text] of sampleMessages(local)) fs.writeFileSync(path.join(tmp, rel), text, { mode: 0o600 });
    chownTree(tmp, uid, gid);
    fs.renameSync(tmp, maildir);
    seeded += 1;
  }
  return seeded;
}

const TABLES = [
  `CREATE TABLE IF NOT EXISTS customers (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(100) NOT NULL, email VARCHAR(190) NOT NULL UNIQUE, created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  `CREATE TABLE IF NOT EXISTS products (id INT PRIMARY KEY AUTO_INCREMENT, sku VARCHAR(32) NOT NULL UNIQUE, title VARCHAR(200) NOT NULL, price DECIMAL(10,2) NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  `CREATE TABLE IF NOT EXISTS orders (id INT PRIMARY KEY AUTO_INCREMENT, customer_id INT NOT NULL, placed_at DATETIME NOT NULL, FOREIGN KEY (customer_id) REFERENCES customers(id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  `CREATE TABLE IF NOT EXISTS order_items (order_id INT NOT NULL, product_id INT NOT NULL, qty INT NOT NULL, PRIMARY KEY (order_id, product_id), FOREIGN KEY (order_id) REFERENCES orders(id), FOREIGN KEY (product_id) REFERENCES products(id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
];

async function seedDatabase(conn: mysql.Connection): Promise<void> {
  await conn.query('CREATE DATABASE IF NOT EXISTS `shop` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
  await conn.query('USE `shop`');
  for (const sql of TABLES) await conn.query(sql);
  // Rows only into an empty shop: a restart (or a test that changed rows) keeps what is there.
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM customers');
  if (Number(rows[0]!.n) === 0) {
    await conn.beginTransaction();
    const names = [
      'Ada Lovelace',
      'Jürgen Müller',
      'Zoë Saldaña',
      '山田太郎',
      'Ólafur Arnalds',
      'Émile Zola',
      'Grace Hopper',
      'Søren Kierkegaard',
    ];
    await conn.query('INSERT INTO customers (name, email) VALUES ?', [names.map((n, i) => [n, `customer${i + 1}@example.test`])]);
    await conn.query('INSERT INTO products (sku, title, price) VALUES ?', [
      Array.from({ length: 25 }, (_, i) => [`SKU-${i + 1}`, i % 5 === 0 ? `Thé vert n°${i + 1} 🍵` : `Product ${i + 1}`, (i + 1) * 1.25]),
    ]);
    await conn.query('INSERT INTO orders (customer_id, placed_at) VALUES ?', [
      Array.from({ length: 40 }, (_, i) => [(i % names.length) + 1, new Date(Date.UTC(2024, i % 12, (i % 27) + 1))]),
    ]);
    await conn.query('INSERT INTO order_items (order_id, product_id, qty) VALUES ?', [
      Array.from({ length: 40 }, (_, i) => [
        [i + 1, (i % 25) + 1, (i % 3) + 1],
        [i + 1, ((i + 7) % 25) + 1, 1],
      ]).flat(),
    ]);
    await conn.commit();
  }
  // A view too, as real shops have them: it is why the dump user needs SHOW VIEW.
  await conn.query(
    'CREATE OR REPLACE SQL SECURITY INVOKER VIEW order_totals AS SELECT o.id AS order_id, SUM(oi.qty * p.price) AS total FROM orders o JOIN order_items oi ON oi.order_id = o.id JOIN products p ON p.id = oi.product_id GROUP BY o.id',
  );
}

/** The least a consistent `mysqldump --single-transaction shop` needs, and nothing more. */
async function seedDumpUser(conn: mysql.Connection, password: string): Promise<void> {
  await conn.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [SOURCE_USER, '127.0.0.1', password]);
  // Re-applied every time so the login follows secrets.json (cheap, and no row data is touched).
  await conn.query('ALTER USER ?@? IDENTIFIED BY ?', [SOURCE_USER, '127.0.0.1', password]);
  await conn.query('GRANT SELECT, LOCK TABLES, SHOW VIEW, TRIGGER, EVENT ON `shop`.* TO ?@?', [SOURCE_USER, '127.0.0.1']);
}

/**
 * `~/.my.cnf` of the source user (HOME is `<home>/source/home`, set by this stack's sshd), so a plain
 * `mysqldump --single-transaction shop` over ssh works with no secret on any command line.
 */
function writeMyCnf(file: string, port: number, password: string, uid: number, gid: number): void {
  const text = `[client]\nhost=127.0.0.1\nport=${port}\nuser=${SOURCE_USER}\npassword="${password.replace(/["\\]/g, '\\$&')}"\n`;
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.chownSync(tmp, uid, gid);
  fs.renameSync(tmp, file);
}

/** Called by the stack once MariaDB is ready. Idempotent: seeds only what is absent. */
export async function seedSampleSource(ctx: StackContext): Promise<void> {
  const l = sourceLayout(ctx);
  const ids = await ensureSourceUser();
  const started = Date.now();
  const seededFiles = seedDocroot(l.docroot, ids.uid, ids.gid);
  const seededMaildirs = seedMaildirs(ctx, ids.uid, ids.gid);
  const conn = await mysql.createConnection({
    host: '127.0.0.1',
    port: ctx.ports.mysql,
    user: 'npanel_admin',
    password: ctx.secrets.mysqlAdminPassword,
    connectTimeout: 5000,
  });
  try {
    await seedDatabase(conn);
    await seedDumpUser(conn, ctx.secrets.sourceDbPassword);
  } catch (err) {
    // Never echo the statement: the user statements carry a password.
    const e = err as { code?: string; sqlMessage?: string };
    const detail = (e.sqlMessage ?? '').split(ctx.secrets.sourceDbPassword).join('***');
    throw new Error(`seeding the sample source database failed: ${e.code ?? 'error'} ${detail}`.trim());
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
  fs.mkdirSync(l.userHome, { recursive: true, mode: 0o700 });
  fs.chownSync(l.userHome, ids.uid, ids.gid);
  writeMyCnf(path.join(l.userHome, '.my.cnf'), ctx.ports.mysql, ctx.secrets.sourceDbPassword, ids.uid, ids.gid);
  ctx.log.info({ ms: Date.now() - started, seededFiles, seededMaildirs }, 'sample migration source ready');
}
