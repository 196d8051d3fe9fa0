import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { createDumpGuard, DumpRefused, guardDump, type GuardedStatement } from '../../activities/sql-dump-guard';
import { HOSTILE_DUMP_STATEMENTS } from '../support/hostile-corpus';
import { SAMPLE_DUMP } from './sql-dump-sample';

const OPTS = { database: 'eve_shop', sourceDatabase: 'shop', definer: { user: 'eve_shop', host: '%' } };
const OWN_DEFINER = 'DEFINER=`eve_shop`@`%`';
const sample = Buffer.from(SAMPLE_DUMP, 'utf8');

function refusal(text: string): string {
  try {
    guardDump(text, OPTS);
  } catch (err) {
    assert.ok(err instanceof DumpRefused, `not a DumpRefused: ${(err as Error).message}`);
    return err.message;
  }
  assert.fail(`passed: ${text.slice(0, 80)}`);
}

test('a normal mysqldump passes: every statement, in order, with its bytes intact', () => {
  const out = guardDump(sample, OPTS);
  const kinds = out.map((s) => s.kind);
  assert.ok(kinds.includes('CREATE TABLE') && kinds.includes('INSERT') && kinds.includes('LOCK TABLES') && kinds.includes('UNLOCK TABLES'));
  assert.equal(kinds.filter((k) => k === 'CREATE VIEW').length, 2, 'the placeholder view and the real one');
  for (const k of ['CREATE TRIGGER', 'CREATE EVENT', 'CREATE PROCEDURE', 'CREATE FUNCTION', 'DROP VIEW', 'DROP TABLE', 'ALTER TABLE'])
    assert.ok(kinds.includes(k), k);
  assert.equal(out.length, 63, 'every statement of the sample, none merged or lost');
  const insert = out.find((s) => s.kind === 'INSERT')!;
  // latin1 in, latin1 out: the UTF-8 bytes of the data come through unchanged.
  assert.ok(Buffer.from(insert.sql, 'latin1').includes(Buffer.from('Thé vert n°1 🍵', 'utf8')));
  assert.ok(
    insert.sql.includes("'DEFINER=`root`@`localhost` GRANT ALL ON *.* npanel.api_tokens */ ;; DELIMITER'"),
    'data that looks like SQL stays data',
  );
  const proc = out.find((s) => s.kind === 'CREATE PROCEDURE')!;
  assert.match(
    proc.sql,
    /^CREATE DEFINER=`eve_shop`@`%` PROCEDURE `restock`\(IN n INT\)\nBEGIN\n {3}\n {2}UPDATE products p SET p.price = p.price \+ n WHERE p.id > 0;\n {2}SELECT COUNT\(\*\) FROM products;\nEND$/,
  );
});

test('every DEFINER becomes the account user; the source database name in a view becomes the target', () => {
  const out = guardDump(sample, OPTS);
  const definers = out.filter((s) => s.kind !== 'INSERT' && /DEFINER=/.test(s.sql));
  assert.equal(definers.length, 5, 'trigger, event, procedure, function, view');
  for (const s of definers) {
    assert.ok(s.sql.includes(OWN_DEFINER), s.sql);
    assert.ok(!s.sql.includes('root'), s.sql);
  }
  const view = out.filter((s) => s.kind === 'CREATE VIEW').at(-1)!;
  assert.match(view.sql, /`eve_shop`\.`p`\.`name` AS `name` from `eve_shop`\.`products` `p`/);
  assert.match(view.sql, /SQL SECURITY DEFINER/);
  for (const d of [
    'DEFINER=root@localhost',
    "DEFINER='root'@'%'",
    'DEFINER = CURRENT_USER()',
    'DEFINER=CURRENT_USER',
    'DEFINER=`admin_role`',
    'DEFINER=root@127.0.0.1',
  ]) {
    const [s] = guardDump(`CREATE ${d} PROCEDURE p() SELECT 1`, OPTS);
    assert.equal(s!.sql, `CREATE ${OWN_DEFINER} PROCEDURE p() SELECT 1`, d);
  }
  const [alter] = guardDump('ALTER DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW v AS SELECT 1', OPTS);
  assert.equal(alter!.sql, `ALTER ${OWN_DEFINER} SQL SECURITY DEFINER VIEW v AS SELECT 1`);
});

test('chunk boundaries at every byte of the sample give the same statements', () => {
  const whole = guardDump(sample, OPTS);
  for (let cut = 1; cut < sample.length; cut++) {
    const split = guardDump([sample.subarray(0, cut), sample.subarray(cut)], OPTS);
    assert.deepEqual(split, whole, `cut at byte ${cut}`);
  }
});

test('one byte per chunk and three-way cuts give the same statements', () => {
  const whole = guardDump(sample, OPTS);
  const bytes = [...sample].map((b) => Buffer.from([b]));
  assert.deepEqual(guardDump(bytes, OPTS), whole);
  for (let a = 1; a < sample.length; a += 97) {
    for (let b = a + 1; b < sample.length; b += 89)
      assert.deepEqual(guardDump([sample.subarray(0, a), sample.subarray(a, b), sample.subarray(b)], OPTS), whole, `cuts at ${a} and ${b}`);
  }
});

test('a hostile statement is refused wherever a chunk boundary falls in it', () => {
  const hostile = Buffer.from(
    `${SAMPLE_DUMP.replace(/-- Dump completed.*\n$/, '')}/*!50001 GRANT ALL ON *.* TO 'x'@'%' */;\n-- Dump completed\n`,
  );
  for (let cut = 1; cut < hostile.length; cut += 7) {
    assert.throws(() => guardDump([hostile.subarray(0, cut), hostile.subarray(cut)], OPTS), /GRANT statement refused/, `cut at ${cut}`);
  }
});

test('the stream form emits the same statements and fails the stream on a refusal', async () => {
  const chunks = [sample.subarray(0, 1000), sample.subarray(1000, 1001), sample.subarray(1001)];
  const got: GuardedStatement[] = [];
  for await (const s of Readable.from(chunks).pipe(createDumpGuard(OPTS))) got.push(s as GuardedStatement);
  assert.deepEqual(got, guardDump(sample, OPTS));
  const bad = Readable.from([Buffer.from("INSERT INTO t VALUES (1);\nCREATE USER 'x'@'%' IDENTIFIED BY 'hunter2-secret';\n")]).pipe(
    createDumpGuard(OPTS),
  );
  await assert.rejects(
    (async () => {
      for await (const _ of bad) void _;
    })(),
    (err: Error) => err instanceof DumpRefused && err.message === 'CREATE USER statement refused' && !err.message.includes('hunter2'),
  );
});

test('every hostile statement of the corpus is refused with its kind named and no data in the message', () => {
  for (const c of HOSTILE_DUMP_STATEMENTS) {
    const msg = refusal(c.sql);
    assert.equal(msg, `${c.kind} refused`, c.sql);
    for (const secret of ['hunter2', 'npa_', 'pwned', '0wn3d', 'tok_']) assert.ok(!msg.includes(secret), `${msg} echoes data`);
  }
});

test('refusals name the kind: users, grants, databases, files, globals, plugins, client commands', () => {
  const cases: [string, RegExp][] = [
    ["GRANT ALL ON *.* TO 'x'@'%'", /^GRANT statement refused$/],
    ['REVOKE ALL ON *.* FROM root', /^REVOKE statement refused$/],
    ["CREATE USER 'x'@'%' IDENTIFIED BY 'p'", /^CREATE USER statement refused$/],
    ["ALTER USER root IDENTIFIED BY 'p'", /^ALTER USER statement refused$/],
    ['DROP USER npanel_admin', /^DROP USER statement refused$/],
    ['RENAME USER a TO b', /^RENAME USER statement refused$/],
    ['CREATE OR REPLACE ROLE r', /^CREATE ROLE statement refused$/],
    ["SET PASSWORD FOR root = PASSWORD('p')", /^SET PASSWORD statement refused$/],
    ['CREATE DATABASE evil', /^CREATE DATABASE statement refused$/],
    ['CREATE SCHEMA IF NOT EXISTS evil', /^CREATE DATABASE statement refused$/],
    ['DROP DATABASE npanel', /^DROP DATABASE statement refused$/],
    ['ALTER DATABASE `dave_shop` CHARACTER SET latin1', /^ALTER DATABASE statement refused$/],
    ["ALTER DATABASE `shop` COMMENT 'x'", /^ALTER DATABASE statement refused$/],
    ['ALTER DATABASE `shop` UPGRADE DATA DIRECTORY NAME', /^ALTER DATABASE statement refused$/],
    ['ALTER DATABASE CHARACTER SET latin1', /^ALTER DATABASE statement refused$/],
    ['CREATE PROCEDURE p() ALTER DATABASE `shop` CHARACTER SET latin1', /^ALTER DATABASE statement refused$/],
    ["LOAD DATA INFILE '/etc/passwd' INTO TABLE t", /^LOAD DATA statement refused$/],
    ["LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE t", /^LOAD DATA statement refused$/],
    ["LOAD XML INFILE '/x' INTO TABLE t", /^LOAD XML statement refused$/],
    ["SELECT * FROM t INTO OUTFILE '/var/www/x.php'", /^SELECT INTO OUTFILE statement refused$/],
    ["SELECT 0x3c3f INTO DUMPFILE '/tmp/x'", /^SELECT INTO DUMPFILE statement refused$/],
    ['SET GLOBAL general_log = 1', /^SET GLOBAL statement refused$/],
    ['SET @@global.event_scheduler = ON', /^SET GLOBAL statement refused$/],
    ["INSTALL PLUGIN x SONAME 'ha_x.so'", /^INSTALL PLUGIN statement refused$/],
    ["INSTALL SONAME 'auth_x'", /^INSTALL PLUGIN statement refused$/],
    ["CREATE FUNCTION sys_exec RETURNS INT SONAME 'lib_mysqludf_sys.so'", /^CREATE FUNCTION SONAME statement refused$/],
    ['\\! touch /tmp/pwned', /^client command refused$/],
    ['SELECT 1 \\! id', /^client command refused$/],
    ['\\. /etc/passwd', /^client command refused$/],
    ['system touch /tmp/pwned', /^client command refused$/],
    ['source /etc/passwd', /^client command refused$/],
    ['USE npanel', /^statement touching the npanel database refused|USE statement naming another database refused$/],
    ['USE other_db', /^USE statement naming another database refused$/],
    ['INSERT INTO npanel.api_tokens VALUES (1)', /^statement touching the npanel database refused$/],
    ['INSERT INTO `mysql`.`global_priv` VALUES (1)', /^statement touching the mysql database refused$/],
    ['SELECT * FROM information_schema.PROCESSLIST', /^statement touching the information_schema database refused$/],
    ['UPDATE `PERFORMANCE_SCHEMA`.setup_actors SET ENABLED = 1', /^statement touching the performance_schema database refused$/],
    ['INSERT INTO `dave_shop`.`orders` VALUES (1)', /^statement naming another database refused$/],
    ['DROP TABLE IF EXISTS `a`, `dave_shop`.`orders`', /^statement naming another database refused$/],
    ['LOCK TABLES `a` WRITE, `dave_shop`.`b` READ', /^statement naming another database refused$/],
    ['CREATE TABLE t AS SELECT * FROM dave_shop.customers', /^statement naming another database refused$/],
    ['SELECT dave_shop.customers.email FROM t', /^statement naming another database refused$/],
    ['ALTER TABLE t RENAME TO dave_shop.t', /^statement naming another database refused$/],
    ['RENAME TABLE t TO `dave_shop`.`t`', /^statement naming another database refused$/],
    ['SELECT * FROM "npanel"."api_tokens"', /^statement touching the npanel database refused$/],
    ['CREATE TRIGGER tr BEFORE INSERT ON dave_shop.orders FOR EACH ROW SET NEW.x = 1', /^statement naming another database refused$/],
    ['CREATE PROCEDURE p() BEGIN GRANT ALL ON *.* TO x; END', /^GRANT statement refused$/],
    [
      'CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW INSERT INTO npanel.api_tokens VALUES (1)',
      /^statement touching the npanel database refused$/,
    ],
    ["CREATE PROCEDURE p() BEGIN SET PASSWORD = PASSWORD('x'); END", /^SET PASSWORD statement refused$/],
    ['CALL p()', /^CALL statement refused$/],
    ["PREPARE s FROM 'GRANT ALL ON *.* TO x'", /^PREPARE statement refused$/],
    ["EXECUTE IMMEDIATE CONCAT('GR', 'ANT ALL ON *.* TO x')", /^EXECUTE statement refused$/],
    ['BEGIN NOT ATOMIC SELECT 1; END', /^BEGIN statement refused$/],
    ['FLUSH PRIVILEGES', /^FLUSH statement refused$/],
    ['SHUTDOWN', /^SHUTDOWN statement refused$/],
    ['xyzzy-secret-value 1', /^unrecognised statement refused$/],
    ["SET sql_mode = 'NO_BACKSLASH_ESCAPES'", /^SET sql_mode with a mode that changes parsing refused$/],
    ["SET SESSION sql_mode = 'ANSI_QUOTES,STRICT_TRANS_TABLES'", /^SET sql_mode with a mode that changes parsing refused$/],
    ["SET sql_mode = 'ORACLE'", /^SET sql_mode with a mode that changes parsing refused$/],
    ["SET @OLD_SQL_MODE = 'NO_BACKSLASH_ESCAPES'", /^sql_mode or character set change refused$/],
    ["SET @x = 'NO_BACKSLASH_ESCAPES', sql_mode = @x", /^SET sql_mode with a mode that changes parsing refused$/],
    ["SELECT 'NO_BACKSLASH_ESCAPES' INTO @saved_sql_mode", /^sql_mode or character set change outside SET refused$/],
    ["SET @a = (@old_sql_mode := 'NO_BACKSLASH_ESCAPES')", /^sql_mode or character set change refused$/],
    ["SET STATEMENT sql_mode = 'NO_BACKSLASH_ESCAPES' FOR SELECT 1", /^SET STATEMENT statement refused$/],
    ['SET NAMES gbk', /^SET NAMES with an unsupported character set refused$/],
    ["SET character_set_client = 'sjis'", /^SET NAMES with an unsupported character set refused$/],
    ['SET CHARACTER SET big5', /^SET NAMES with an unsupported character set refused$/],
    ['SET sql_log_bin = 0', /^SET of a system variable refused$/],
    ["CREATE TABLE t (a INT) DATA DIRECTORY = '/var/lib/mysql/mysql'", /^DATA DIRECTORY clause refused$/],
    ["INSERT INTO t VALUES ('unterminated", /^unterminated quoted string refused$/],
    ['/*!50001 SELECT 1 /* inner */ */', /^comment inside a versioned comment refused$/],
    ['/*!50001 GRANT ALL ON *.* TO x', /^(GRANT statement|unterminated versioned comment) refused$/],
    ['DELIMITER', /^DELIMITER command without a delimiter refused$/],
  ];
  for (const [sql, want] of cases) assert.match(refusal(sql), want, sql);
});

test('statements that look dangerous but are not pass: aliases, numbers, words in strings and comments', () => {
  const ok = [
    'SELECT o.id, oi.qty FROM orders o JOIN order_items oi ON oi.order_id = o.id',
    "INSERT INTO `t` VALUES (1.5,-2.25e3,'GRANT ALL; CREATE USER x; USE npanel; \\\\! id','npanel.api_tokens')",
    'INSERT INTO eve_shop.t VALUES (1)',
    '/* GRANT ALL ON *.* */ SELECT 1',
    '-- CREATE USER x\nSELECT 1',
    '# DROP DATABASE npanel\nSELECT 1',
    'SELECT 1--1',
    "UPDATE users SET password = SHA2('x', 256) WHERE id = 1",
    'CREATE TABLE `user` (`grant` INT, `global` INT, `password` VARCHAR(10), `mysql` INT)',
    'USE `shop`',
    'USE eve_shop',
    'SELECT SETVAL(`seq`, 1001, 0)',
    'CREATE SEQUENCE `seq` start with 1 minvalue 1 maxvalue 9223372036854775806 increment by 1 cache 1000 nocycle ENGINE=InnoDB',
    "SET sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION'",
    'SET @x = 5, @y := @x + 1',
  ];
  for (const sql of ok) assert.equal(guardDump(sql, OPTS).length, 1, sql);
  // mysqldump's bracket around a routine whose database collation differs: the target's own defaults.
  const [alter] = guardDump('ALTER DATABASE `shop` CHARACTER SET latin1 COLLATE latin1_swedish_ci', OPTS);
  assert.deepEqual(alter, { sql: 'ALTER DATABASE `eve_shop` CHARACTER SET latin1 COLLATE latin1_swedish_ci', kind: 'ALTER DATABASE' });
  const [use] = guardDump('USE `shop`', OPTS);
  assert.equal(use!.sql, 'USE `eve_shop`');
});

test('DELIMITER changes are followed and a body keeps its semicolons', () => {
  const out = guardDump('DELIMITER //\nCREATE PROCEDURE p()\nBEGIN\n  SELECT 1; SELECT 2;\nEND //\nDELIMITER ;\nSELECT 3;\n', OPTS);
  assert.deepEqual(
    out.map((s) => s.sql),
    ['CREATE PROCEDURE p()\nBEGIN\n  SELECT 1; SELECT 2;\nEND', 'SELECT 3'],
  );
});
